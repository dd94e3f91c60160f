"""Turning one finished streamed answer into a recorded request: TTFT, gaps, TPOT, tokens.

Called by the senders (``workers.py`` closed, ``pacer.py`` open) in place of the
classic status/body check when the request streams: ``settle`` gets the
request's origin (its send, or in the open model its *scheduled* start), the
status and the transport's ``StreamRead``, and records

* TTFT = first content chunk - origin; every gap between content chunks (ITL);
  latency = last byte - origin; TPOT = (latency - TTFT) / (output tokens - 1);
* output tokens from the server's ``usage``, else a local tokenizer's count of
  the streamed text, else the content chunks; input tokens from ``usage``, else
  the tokenizer's count of the prompt (made before the run);
* whether the request met every bound of the stage's ``slo`` (good, for goodput).

An answer that is not a good stream -- an HTTP error, not an event stream, an
SSE error event, no ``[DONE]`` -- is an error of its kind (``check_failed`` with
what came instead in the stage's ``error_details``, ``stream_incomplete``), and
none of its partial timings is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loadkit.engine.stream_read import StreamRead

if TYPE_CHECKING:
    from loadkit.engine.control import StageControl
    from loadkit.results.streams import StreamRecording
    from loadkit.scenario.plan import Slo, StreamSpec


class StreamContext:
    """What every stage of a streaming run shares: the spec, the tokenizer, prompt sizes."""

    def __init__(self, spec: StreamSpec, input_tokens: Sequence[int] = ()) -> None:
        self.spec = spec
        self.input_tokens = tuple(input_tokens)
        self.tokenizer: Any = None
        if spec.tokenizer is not None:
            from loadkit.scenario.llm_payloads import load_tokenizer

            self.tokenizer = load_tokenizer(spec.tokenizer)


@dataclass(frozen=True)
class Settled:
    """One streamed answer, judged: its error kind (None: ok) or its timings and tokens."""

    kind: str | None
    detail: str
    latency_us: int
    ttft_us: int | None = None
    gaps_ns: list[int] = field(default_factory=list)
    tpot_us: int | None = None
    output_tokens: int = 0
    input_tokens: int = 0
    source: str = "chunks"
    good: bool = False


def judge_stream(ctx: StreamContext, slo: Slo | None, failure: Callable[[int, bytes], str | None],
                 origin_ns: int, status: int, read: StreamRead, payload: int) -> Settled:
    """What one finished streamed answer was (the engine's senders and the Locust user)."""
    latency_us = (read.last_ns - origin_ns) // 1000
    kind = failure(status, read.raw)
    problem = ""
    if kind is None:
        problem = read.problem(ctx.spec.streamed, ctx.spec.need_done)
        if problem == "incomplete":
            kind, problem = "stream_incomplete", "the stream ended without data: [DONE]"
        elif problem:
            kind = "check_failed"
    if kind is not None:
        return Settled(kind, f"{kind}: {problem}" if problem else "", latency_us)
    ttft_us = (read.first_ns - origin_ns) // 1000 if read.first_ns else None
    output, source = _output_tokens(ctx, read)
    tpot_us = ((latency_us - ttft_us) // (output - 1)
               if ttft_us is not None and output > 1 else None)
    inputs = read.input_tokens
    if inputs < 0:
        known = ctx.input_tokens
        inputs = known[payload % len(known)] if known else 0
    return Settled(None, "", latency_us, ttft_us, read.gaps, tpot_us, output, inputs, source,
                   _good(slo, latency_us, ttft_us, read.gaps, tpot_us))


def _output_tokens(ctx: StreamContext, read: StreamRead) -> tuple[int, str]:
    if read.output_tokens >= 0:
        return read.output_tokens, "usage"
    if ctx.tokenizer is not None:
        from loadkit.scenario.llm_payloads import count_tokens

        return count_tokens(ctx.tokenizer, read.text), "tokenizer"
    return read.chunks, "chunks"


def _good(slo: Slo | None, latency_us: int, ttft_us: int | None, gaps_ns: list[int],
          tpot_us: int | None) -> bool:
    """Whether a successful request met every bound of ``slo`` (no slo: not counted)."""
    if slo is None:
        return False
    if slo.latency_ms is not None and latency_us > slo.latency_ms * 1000:
        return False
    if slo.ttft_ms is not None and (latency_us if ttft_us is None
                                    else ttft_us) > slo.ttft_ms * 1000:
        return False
    if slo.itl_ms is not None and gaps_ns and max(gaps_ns) > slo.itl_ms * 1e6:
        return False
    return not (slo.tpot_ms is not None and tpot_us is not None
                and tpot_us > slo.tpot_ms * 1000)


def record_settled(rec: StreamRecording, settled: Settled) -> None:
    """Add a judged answer's stream figures (or its error detail) to a stage's recording."""
    if settled.kind is not None:
        if settled.detail:
            rec.detail(settled.detail)
        return
    rec.add(settled.ttft_us, settled.gaps_ns, settled.tpot_us, settled.output_tokens,
            settled.input_tokens, settled.source, settled.good)


class StreamSettle:
    """One stage's settler: bound once, called once per streamed request."""

    __slots__ = ("_ctx", "_rec", "_slo")

    def __init__(self, ctx: StreamContext, rec: StreamRecording, slo: Slo | None) -> None:
        self._ctx = ctx
        self._rec = rec
        self._slo = slo

    def settle(self, ctl: StageControl, origin_ns: int, status: int, read: StreamRead,
               payload: int) -> None:
        done = judge_stream(self._ctx, self._slo, ctl.failure, origin_ns, status, read, payload)
        if done.kind is None:
            ctl.record_ok(done.latency_us, status, payload)
        else:
            ctl.record_error(done.kind, done.latency_us, status, payload)
        record_settled(self._rec, done)
