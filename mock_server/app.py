"""The aiohttp application: routes, admission (slots + bounded queue), faults, stalls.

``make_app(options)`` is the only entry point; serve.py binds it to a socket
(for ``python -m mock_server`` and the tests' in-process fixture). A /predict
request goes: cold-start gate -> stall pause -> body validation (400) ->
fault draw -> admission (slot, or wait in the queue, or 503) -> service time
(``asyncio.sleep`` while holding the slot) -> model -> stall pause -> the
response, shaped by the drawn fault.
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import struct
from dataclasses import dataclass, field

from aiohttp import web

from mock_server.capacity import Slots
from mock_server.faults import FaultPicker, StallClock
from mock_server.latency import ServiceTime
from mock_server import llm_api
from mock_server.llm_model import ServingModel
from mock_server.metrics import Metrics
from mock_server.model import IrisModel, default_model, rows_to_matrix
from mock_server.options import MockOptions

MAX_BODY_BYTES = 64 * 1024 * 1024  # batches of many rows are legitimate load-test payloads
_MALFORMED_BODY = b'{"predictions": ["setosa", <!-- upstream worker crashed -->'


@dataclass
class ServerState:
    """Everything a handler needs; one per app (mutable, single event loop)."""

    options: MockOptions
    model: IrisModel
    metrics: Metrics
    service: ServiceTime
    faults: FaultPicker
    stall: StallClock
    slots: Slots
    started_at: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    llm: ServingModel | None = None  # the LLM mode's serving model (set by make_app)
    _padding: bytes = b""

    def cold_remaining_s(self, now: float) -> float:
        return max(0.0, self.started_at + self.options.cold_start_s - now)

    def padding(self, size: int) -> bytes:
        if len(self._padding) != size:
            self._padding = b"x" * size
        return self._padding


STATE = web.AppKey("mock_server_state", ServerState)


def make_app(options: MockOptions) -> web.Application:
    """A ready-to-run app serving /predict, /health, /ready and /metrics per ``options``."""
    state = ServerState(
        options=options,
        model=default_model(),
        metrics=Metrics(options.model_version, options.capacity),
        service=ServiceTime(
            options.latency,
            per_row_s=options.per_row_s,
            warmup_requests=options.warmup_requests,
            warmup_extra_s=options.warmup_extra_s,
            seed=options.seed,
        ),
        faults=FaultPicker(options.faults, options.seed),
        stall=StallClock(options.stall),
        slots=Slots(options.capacity, options.queue),
        headers={"X-Model-Version": options.model_version},
    )
    state.llm = llm_api.make_model(state)
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[STATE] = state

    async def on_startup(app: web.Application) -> None:
        state.started_at = asyncio.get_running_loop().time()

    app.on_startup.append(on_startup)
    app.router.add_post("/predict", predict)
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    app.router.add_get("/metrics", metrics)
    llm_api.add_routes(app)

    async def on_cleanup(app: web.Application) -> None:
        if state.llm is not None:
            state.llm.close()

    app.on_cleanup.append(on_cleanup)
    return app


def _json(state: ServerState, status: int, payload: object, **headers: str) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(payload).encode(),
        content_type="application/json",
        headers={**state.headers, **headers},
    )


def _unavailable(state: ServerState, reason: str, retry_after_s: float) -> web.Response:
    retry = str(max(1, math.ceil(retry_after_s)))
    return _json(state, 503, {"error": reason, "retry_after_s": float(retry)}, **{"Retry-After": retry})


async def health(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return _json(state, 200, {"status": "ok", "model_version": state.options.model_version})


async def ready(request: web.Request) -> web.Response:
    state = request.app[STATE]
    remaining = state.cold_remaining_s(asyncio.get_running_loop().time())
    state.metrics.ready = remaining <= 0
    if remaining > 0:
        return _unavailable(state, "model is loading (cold start)", remaining)
    return _json(state, 200, {"ready": True, "model_version": state.options.model_version})


async def metrics(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.metrics.ready = state.cold_remaining_s(asyncio.get_running_loop().time()) <= 0
    state.metrics.queue_depth, state.metrics.busy_slots = state.slots.waiting, state.slots.busy
    text = state.metrics.render()
    if state.llm is not None:
        text += llm_api.render_metrics(state.llm, state.options.llm_model)
    return web.Response(
        text=text,
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )


async def predict(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    loop = asyncio.get_running_loop()
    arrival = loop.time()
    state.metrics.in_flight += 1
    outcome = ["cancelled"]  # what the metrics call this request if it never finishes normally
    try:
        response = await _predict(request, state, arrival, outcome)
        outcome[0] = str(response.status)
        return response
    finally:
        state.metrics.in_flight -= 1
        state.metrics.observe(outcome[0], loop.time() - arrival)


async def _predict(
    request: web.Request, state: ServerState, arrival: float, outcome: list[str]
) -> web.StreamResponse:
    options, metrics = state.options, state.metrics
    cold = state.cold_remaining_s(arrival)
    if cold > 0:
        metrics.faults_by_kind["cold_start"] += 1
        return _unavailable(state, "model is loading (cold start)", cold)
    state.stall.start(arrival)
    await _pause_for_stall(state)

    try:
        body = json.loads(await request.read())
        if not isinstance(body, dict) or "instances" not in body:
            raise ValueError("body must be a JSON object with an 'instances' list")
        x = rows_to_matrix(body["instances"])
    except (ValueError, UnicodeDecodeError) as exc:  # json.JSONDecodeError is a ValueError
        return _json(state, 400, {"error": str(exc)})

    fault = state.faults.pick()
    if fault is not None:
        metrics.faults_by_kind[fault] += 1
    if fault == "unavailable":
        return _unavailable(state, "injected: service unavailable", options.retry_after_s)

    slots = state.slots
    if not slots.admit():
        metrics.faults_by_kind["rejected"] += 1
        return _unavailable(state, "overloaded: queue full", options.retry_after_s)
    loop = asyncio.get_running_loop()
    start = await slots.acquire(loop.time())
    end = start + state.service.sample_s(len(x))  # nominal; see capacity.py
    try:
        delay_s = end - loop.time()
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        labels, probs = state.model.predict(x, options.predictions_shift)
        end += await _pause_for_stall(state)
        metrics.service.observe(max(0.0, end - start))
    finally:
        slots.release(end, loop.time())

    if fault == "error":
        return _json(state, 500, {"error": "injected: inference failed"})
    if fault == "reset":
        outcome[0] = "reset"
        return await _reset(request)
    if fault == "hang":
        outcome[0] = "hang"
        await asyncio.sleep(options.hang_s)
        return _json(state, 504, {"error": "injected: hung request gave up"})

    payload = {"predictions": labels, "probabilities": probs, "model_version": options.model_version}
    if fault == "malformed":
        return web.Response(body=_MALFORMED_BODY, content_type="application/json",
                            headers=state.headers)
    if fault == "large_body":
        return _large(state, payload)
    if fault == "slow_body":
        return await _trickle(request, state, json.dumps(payload).encode())
    # W3C Server-Timing: the server's own account of this request (queueing for a slot,
    # holding it, arrival to answer), as real model servers and proxies send it.
    done = loop.time()
    timing = (f"queue;dur={(start - arrival) * 1000:.3f}, "
              f"inference;dur={(end - start) * 1000:.3f}, total;dur={(done - arrival) * 1000:.3f}")
    return _json(state, 200, payload, **{"Server-Timing": timing})


async def _pause_for_stall(state: ServerState) -> float:
    """Wait out the stall window we are in, if any; returns the seconds waited."""
    remaining = state.stall.remaining_s(asyncio.get_running_loop().time())
    if remaining > 0:
        await asyncio.sleep(remaining)
    return remaining


async def _reset(request: web.Request) -> web.StreamResponse:
    """Abort the connection (TCP RST), then wait to be cancelled as the connection drops."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:  # linger 0: close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    await asyncio.sleep(3600)  # the server cancels this handler once the connection is lost
    raise ConnectionResetError("injected reset")


def _large(state: ServerState, payload: dict[str, object]) -> web.Response:
    """A valid JSON body of about ``large_body_bytes``: the answer plus a padding field."""
    base = json.dumps(payload).encode()
    pad = max(0, state.options.large_body_bytes - len(base) - len(b',"padding":""'))
    body = base[:-1] + b',"padding":"' + state.padding(pad) + b'"}'
    return web.Response(body=body, content_type="application/json", headers=state.headers)


async def _trickle(request: web.Request, state: ServerState, body: bytes) -> web.StreamResponse:
    """Send a correct body in small chunked pieces spread over ``trickle_s``."""
    response = web.StreamResponse(status=200, headers={**state.headers,
                                                       "Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    pieces = max(1, min(20, len(body)))
    step = math.ceil(len(body) / pieces)
    pause_s = state.options.trickle_s / pieces
    for start in range(0, len(body), step):
        await asyncio.sleep(pause_s)
        await response.write(body[start : start + step])
    await response.write_eof()
    return response
