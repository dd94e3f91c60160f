"""Closed model: N workers, each sending its next request when the last one finished.

Started by the stage conductor (``stages.py``) for a ``concurrency`` stage. Each
worker walks the stage's payload batch round-robin from its own offset, times
send -> last byte with ``perf_counter_ns`` and records to the stage's
``StageRecording``. A request-count stage hands out exactly ``requests`` tickets
across all workers; taking the last one ends the stage's issuing, so the next
stage starts while the stage's last requests complete (recorded in this stage).
"""

from __future__ import annotations

import asyncio
from time import perf_counter_ns

from loadkit.engine.control import DONE, StageControl
from loadkit.engine.transport import TransportError
from loadkit.results import kinds


class Tickets:
    """Requests still allowed in a request-count stage (shared by its workers)."""

    __slots__ = ("remaining",)

    def __init__(self, remaining: int) -> None:
        self.remaining = remaining


def start_workers(ctl: StageControl, concurrency: int,
                  requests: int | None) -> list[asyncio.Task[None]]:
    """Spawn the stage's workers; the last one to exit marks the stage done."""
    tickets = Tickets(requests) if requests is not None else None
    alive = [concurrency]

    def exited() -> None:
        alive[0] -= 1
        if alive[0] == 0:
            ctl.request_stop(DONE)

    return [asyncio.ensure_future(_worker(ctl, (w * ctl.count) // concurrency, tickets, exited))
            for w in range(concurrency)]


async def _worker(ctl: StageControl, start: int, tickets: Tickets | None,
                  exited: object) -> None:
    # Everything the loop touches is bound to a local: this is the hot path.
    send = ctl.transport.send
    failure = ctl.failure
    # The recording pair was chosen for the stage (plain, or by input): no per-request test.
    ok, error = ctl.record_ok, ctl.record_error
    firsts, first_failure = ctl.sink.firsts, ctl.first_failure   # the error path's only
    clock = perf_counter_ns
    acquire, release = ctl.acquire, ctl.release
    settle = ctl.stream.settle if ctl.stream is not None else None
    offset, count = ctl.offset, ctl.count
    i = start
    try:
        while not ctl.stopping:
            if tickets is not None:
                if tickets.remaining <= 0:
                    break
                tickets.remaining -= 1
                if tickets.remaining == 0:
                    ctl.request_stop(DONE)      # this is the stage's last request
            acquire()
            payload = offset + i
            t0 = clock()
            try:
                status, body, done = await send(payload)
            except TransportError as exc:
                latency_us = (clock() - t0) // 1000
                release()
                error(exc.kind, latency_us, exc.status, payload)
                # A failure can come back without the send ever suspending; yield
                # so the deadline, the ticker and signals still get to run.
                await asyncio.sleep(0)
            except Exception:  # noqa: BLE001 -- a transport bug must not lose the request
                latency_us = (clock() - t0) // 1000
                release()
                error(kinds.OTHER, latency_us, None, payload)
                await asyncio.sleep(0)
            else:
                if settle is not None:          # a stream: timed by its StreamRead
                    release()
                    settle(ctl, t0, status, body, payload)  # type: ignore[arg-type]
                else:
                    latency_us = (done - t0) // 1000      # stamped as the last byte arrived
                    release()
                    kind = failure(status, body)
                    if kind is None:
                        ok(latency_us, status, payload)
                    else:
                        error(kind, latency_us, status, payload)
                        if kind not in firsts:
                            first_failure(kind, status, body)
            i += 1
            if i >= count:
                i = 0
    finally:
        exited()  # type: ignore[operator]
