"""The LLM mode's HTTP face: OpenAI-compatible completions over the serving model.

``POST /v1/chat/completions`` and ``POST /v1/completions``, streamed as
server-sent events (``stream: true``) or answered as one JSON body. A streamed
chat answer opens with a role-only chunk sent at once (as OpenAI, vLLM and TGI
do: a client that starts TTFT there measures nothing), then one chunk per
token, a final chunk with ``finish_reason``, a ``usage`` chunk when
``stream_options.include_usage`` asks for it, and ``data: [DONE]``.

The app's fault knobs apply here too, shaped for a stream: ``error`` -> 500,
``unavailable`` -> 503, ``hang`` -> nothing until ``hang_s``, ``reset`` -> the
connection is cut half-way through the stream (a broken stream),
``malformed`` -> the stream ends without ``[DONE]``; cold start and stalls as
for /predict. ``/metrics`` gets vLLM-style series (``render_metrics``).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mock_server.llm_model import (
    TTFT_BUCKETS_S,
    BatchingModel,
    LlmStats,
    ScheduleModel,
    Sequence,
    ServingModel,
)

if TYPE_CHECKING:
    from mock_server.app import ServerState

WORDS = (" the", " model", " answers", " with", " a", " token", " at", " each", " step",
         " of", " its", " decode", " loop", " until", " done", ".")
SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


def make_model(state: ServerState) -> ServingModel:
    options = state.options
    if options.llm_schedule is not None:
        return ScheduleModel(options.llm_schedule)
    return BatchingModel(options.llm)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/v1/completions", completions)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/v1/mock/schedule", schedule)


def _state(request: web.Request) -> ServerState:
    from mock_server.app import STATE

    return request.app[STATE]


def _error(status: int, message: str, kind: str = "invalid_request_error") -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind, "code": status}},
                             status=status)


def prompt_tokens(text: str) -> int:
    """The mock's tokenizer: one token per whitespace-separated word (at least 1)."""
    return max(1, len(text.split()))


async def models(request: web.Request) -> web.Response:
    name = _state(request).options.llm_model
    return web.json_response({"object": "list", "data": [{"id": name, "object": "model"}]})


async def schedule(request: web.Request) -> web.Response:
    model = _state(request).llm
    if not isinstance(model, ScheduleModel):
        return _error(404, "the server runs no llm-schedule", "not_found")
    return web.json_response({"spec": model.schedule.spec, "served": model.served()})


async def chat(request: web.Request) -> web.StreamResponse:
    return await _complete(request, chat=True)


async def completions(request: web.Request) -> web.StreamResponse:
    return await _complete(request, chat=False)


def _parse(body: Any, chat: bool) -> tuple[str, int | None, bool, bool]:
    """(prompt text, max_tokens, stream, include_usage); ValueError names the bad field."""
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    if chat:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ValueError("'messages' must be a non-empty list")
        texts = []
        for m in messages:
            if not isinstance(m, dict) or "content" not in m:
                raise ValueError("each message needs a 'content'")
            content = m["content"]
            texts.append(content if isinstance(content, str) else json.dumps(content))
        text = " ".join(texts)
    else:
        prompt = body.get("prompt")
        if isinstance(prompt, list):
            prompt = " ".join(str(p) for p in prompt)
        if not isinstance(prompt, str):
            raise ValueError("'prompt' must be a string")
        text = prompt
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError("'max_tokens' must be a positive integer")
    options = body.get("stream_options") or {}
    return text, limit, bool(body.get("stream", False)), bool(options.get("include_usage"))


async def _complete(request: web.Request, chat: bool) -> web.StreamResponse:
    from mock_server.app import _pause_for_stall, _reset  # the app's shared fault helpers

    state = _state(request)
    loop = asyncio.get_running_loop()
    arrival = loop.time()
    cold = state.cold_remaining_s(arrival)
    if cold > 0:
        state.metrics.faults_by_kind["cold_start"] += 1
        return _error(503, "model is loading (cold start)", "unavailable")
    state.stall.start(arrival)
    await _pause_for_stall(state)
    try:
        text, limit, stream, usage = _parse(json.loads(await request.read()), chat)
    except (ValueError, UnicodeDecodeError) as exc:
        return _error(400, str(exc))
    fault = state.faults.pick()
    if fault is not None:
        state.metrics.faults_by_kind[fault] += 1
    if fault == "unavailable":
        return _error(503, "injected: service unavailable", "unavailable")
    if fault == "error":
        return _error(500, "injected: inference failed", "server_error")
    if fault == "hang":
        await asyncio.sleep(state.options.hang_s)
        return _error(504, "injected: hung request gave up", "timeout")

    model = state.llm
    assert model is not None  # make_app sets it
    seq = Sequence(prompt_tokens(text), limit or state.options.llm.output_tokens, arrival)
    if not model.admit(seq):
        return _error(503, "overloaded: waiting queue full", "unavailable")
    answer = _Answer(state.options.llm_model, chat, seq, usage)
    try:
        if not stream:
            if fault == "reset":
                return await _reset(request)
            pieces = [WORDS[k % len(WORDS)] async for k in model.stream(seq)]
            return web.json_response(answer.whole("".join(pieces)))
        response = web.StreamResponse(status=200, headers=SSE_HEADERS)
        response.enable_chunked_encoding()
        await response.prepare(request)
        if chat:
            await response.write(answer.role())
        cut = seq.max_tokens // 2 if fault == "reset" else -1
        async for k in model.stream(seq):
            if k == cut:
                return await _reset(request)
            await response.write(answer.token(k))
        await response.write(answer.finish())
        if usage:
            await response.write(answer.usage())
        if fault != "malformed":
            await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
    finally:
        seq.cancelled = True   # a client that hung up frees its slot at the next step


class _Answer:
    """The SSE chunks of one answer (ids and timestamps fixed per answer)."""

    def __init__(self, model: str, chat: bool, seq: Sequence, usage: bool) -> None:
        self.chat, self.seq = chat, seq
        self._id = f"{'chatcmpl' if chat else 'cmpl'}-{id(seq):x}"
        self._head = {"id": self._id, "object": "chat.completion.chunk" if chat
                      else "text_completion", "created": int(time.time()), "model": model}

    def _chunk(self, choice: dict[str, Any] | None, **extra: Any) -> bytes:
        doc = {**self._head, "choices": [] if choice is None else [{"index": 0, **choice}],
               **extra}
        return b"data: " + json.dumps(doc, separators=(",", ":")).encode() + b"\n\n"

    def role(self) -> bytes:
        return self._chunk({"delta": {"role": "assistant", "content": ""},
                            "finish_reason": None})

    def token(self, k: int) -> bytes:
        word = WORDS[k % len(WORDS)]
        if self.chat:
            return self._chunk({"delta": {"content": word}, "finish_reason": None})
        return self._chunk({"text": word, "finish_reason": None})

    def finish(self) -> bytes:
        if self.chat:
            return self._chunk({"delta": {}, "finish_reason": "length"})
        return self._chunk({"text": "", "finish_reason": "length"})

    def _usage(self) -> dict[str, int]:
        seq = self.seq
        return {"prompt_tokens": seq.prompt_tokens, "completion_tokens": seq.max_tokens,
                "total_tokens": seq.prompt_tokens + seq.max_tokens}

    def usage(self) -> bytes:
        return self._chunk(None, usage=self._usage())

    def whole(self, text: str) -> dict[str, Any]:
        head = {**self._head, "object": "chat.completion" if self.chat else "text_completion"}
        if self.chat:
            choice = {"index": 0, "message": {"role": "assistant", "content": text},
                      "finish_reason": "length"}
        else:
            choice = {"index": 0, "text": text, "finish_reason": "length"}
        return {**head, "choices": [choice], "usage": self._usage()}


def render_metrics(model: ServingModel, model_name: str) -> str:
    """vLLM-style series: requests running / waiting, KV-cache use, tokens, TTFT."""
    label = f'{{model_name="{model_name}"}}'
    stats = model.stats
    lines = []
    for name, kind, help_, value in (
        ("vllm:num_requests_running", "gauge", "Sequences in the running batch.",
         len(model.running)),
        ("vllm:num_requests_waiting", "gauge", "Sequences waiting for a slot.",
         len(model.waiting)),
        ("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage (1 = full).",
         round(model.kv_usage, 6)),
        ("vllm:prompt_tokens_total", "counter", "Prefilled prompt tokens.", stats.prompt_tokens),
        ("vllm:generation_tokens_total", "counter", "Generated tokens.", stats.generation_tokens),
        ("vllm:request_success_total", "counter", "Finished sequences.", stats.finished),
    ):
        lines += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}", f"{name}{label} {value}"]
    lines += _ttft_histogram(stats, model_name)
    return "\n".join(lines) + "\n"


def _ttft_histogram(stats: LlmStats, model_name: str) -> list[str]:
    name = "vllm:time_to_first_token_seconds"
    lines = [f"# HELP {name} Time from arrival to the first token.", f"# TYPE {name} histogram"]
    cumulative = 0
    for edge, n in zip(TTFT_BUCKETS_S, stats.ttft_counts, strict=False):
        cumulative += n
        lines.append(f'{name}_bucket{{le="{edge:g}",model_name="{model_name}"}} {cumulative}')
    cumulative += stats.ttft_counts[-1]
    lines += [f'{name}_bucket{{le="+Inf",model_name="{model_name}"}} {cumulative}',
              f'{name}_sum{{model_name="{model_name}"}} {stats.ttft_sum_s:.6f}',
              f'{name}_count{{model_name="{model_name}"}} {cumulative}']
    return lines
