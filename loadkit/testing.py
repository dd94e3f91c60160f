"""What tests need, users' and loadkit's own: a scripted transport and one RunResult builder.

As ``click.testing`` and ``httpx.MockTransport`` do for their libraries:

* ``MockTransport`` speaks the engine's ``Transport`` protocol without a
  network. Pass it to ``run_stages(..., transport=MockTransport(...))`` (or
  ``loadkit.run(..., transport=...)``): each request gets the next scripted
  ``Reply`` — a status, a latency, a body, an error kind, or a streamed body as
  chunks with a delay before each. It counts what it was sent (``calls``,
  ``peak_in_flight``), so a test can assert concurrency exactly.
* ``stage`` / ``interval`` / ``profile`` / ``run_result`` build a RunResult from
  numbers you choose. A stage is recorded through the recorder's own
  ``StageRecording`` (the code the engine records with), so counts, rates and
  percentiles are derived exactly as in a real run, and its HDR histogram holds
  exactly the latencies given. ``latencies`` makes a list with a chosen p50/p99.

Nothing here sends a byte or reads a clock for a built result.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field, replace
from time import perf_counter_ns
from typing import Any

from loadkit.engine.transport import TransportError
from loadkit.results.aggregate import summarize
from loadkit.results.analysis import Analysis
from loadkit.results.model import (
    Environment,
    GeneratorHealth,
    Interval,
    ProfileResult,
    RunResult,
    ScenarioInfo,
    StageResult,
    Verdict,
)
from loadkit.results.recorder import StageMeta, StageRecording
from loadkit.results.status import Status

__all__ = [
    "Chunk",
    "MockTransport",
    "Reply",
    "interval",
    "latencies",
    "profile",
    "run_result",
    "stage",
]

OK_BODY = b'{"predictions": [0]}'


# -- the transport ---------------------------------------------------------------------
@dataclass(frozen=True)
class Chunk:
    """One piece of a streamed body, sent ``delay_ms`` after the previous one (or the request)."""

    data: bytes
    delay_ms: float = 0.0


@dataclass(frozen=True)
class Reply:
    """What the mock answers one request with.

    ``latency_ms`` passes before the answer (or the error); ``error`` is a
    ``TransportError`` kind (``timeout``, ``connect``, ``reset``, ``too_large``)
    raised instead of answering. With ``chunks`` the body is streamed: each
    chunk arrives ``delay_ms`` after the previous one (after ``latency_ms``),
    and the body is their concatenation.
    """

    status: int = 200
    body: bytes = OK_BODY
    latency_ms: float = 0.0
    error: str | None = None
    chunks: tuple[Chunk, ...] = ()

    @property
    def full_body(self) -> bytes:
        return b"".join(c.data for c in self.chunks) if self.chunks else self.body


Script = Reply | Sequence[Reply] | Callable[[int, int], Reply]


@dataclass(eq=False)
class MockTransport:
    """A scripted ``Transport``: request n gets ``script``'s reply for n.

    ``script`` is one Reply (every request), a sequence (request n gets item
    n, cycling when ``cycle``; past the end otherwise a ``RuntimeError``), or a
    function ``(n, payload) -> Reply`` (n counts from 0 across the whole life of
    the transport; ``payload`` is the body's index in the run's payloads).
    ``start``/``close`` may be called again for each run the instance serves.
    With ``capacity`` K it serves like a server with K workers: at most K
    replies are in progress, the others wait their turn (first come, first
    served), so throughput saturates at K / latency and latency grows with the
    queue -- a target whose knee is known exactly.
    """

    script: Script = field(default_factory=Reply)
    cycle: bool = True
    capacity: int | None = None                          # requests answered at once; others queue
    name: str = "mock"
    calls: list[int] = field(default_factory=list)      # payload index of every request sent
    in_flight: int = 0
    peak_in_flight: int = 0
    starts: int = 0
    closes: int = 0
    _slots: asyncio.Semaphore | None = field(default=None, init=False, repr=False)

    @classmethod
    def of(cls, statuses: Iterable[int] = (200,), *, latency_ms: float | Iterable[float] = 0.0,
           body: bytes = OK_BODY) -> MockTransport:
        """Cycle through ``statuses`` (and ``latency_ms``, when a sequence) in request order."""
        codes = list(statuses)
        lat = [float(latency_ms)] if isinstance(latency_ms, int | float) else list(latency_ms)
        n = max(len(codes), len(lat))
        return cls([Reply(status=codes[i % len(codes)], latency_ms=lat[i % len(lat)], body=body)
                    for i in range(n)])

    def reply_for(self, n: int, payload: int) -> Reply:
        """The scripted reply of request ``n`` (counting from 0)."""
        script = self.script
        if isinstance(script, Reply):
            return script
        if callable(script):
            return script(n, payload)
        if not script:
            raise RuntimeError("MockTransport: the script is empty")
        if n >= len(script) and not self.cycle:
            raise RuntimeError(f"MockTransport: request {n + 1} but the script has "
                               f"{len(script)} replies (cycle=False)")
        return script[n % len(script)]

    async def start(self) -> None:
        self.starts += 1
        if self.capacity is not None:          # made on the run's own loop
            if self.capacity < 1:
                raise ValueError(f"MockTransport: capacity must be at least 1 (got {self.capacity})")
            self._slots = asyncio.Semaphore(self.capacity)

    async def close(self) -> None:
        self.closes += 1

    async def send(self, payload: int) -> tuple[int, bytes, int]:
        """Answer after the reply's latency (and chunk delays) or raise its error."""
        reply = self._begin(payload)
        try:
            async with self._slot():
                async for _ in _arrivals(reply):
                    pass
            return reply.status, reply.full_body, perf_counter_ns()
        finally:
            self.in_flight -= 1

    async def stream(self, payload: int) -> AsyncIterator[tuple[int, bytes]]:
        """The reply as it arrives: ``(perf_counter_ns, chunk)`` per chunk (one for a plain body).

        For code that times a streamed body chunk by chunk; the status is
        ``reply_for(...).status``. An ``error`` reply raises after its latency.
        """
        reply = self._begin(payload)
        try:
            async with self._slot():
                async for data in _arrivals(reply):
                    yield perf_counter_ns(), data
        finally:
            self.in_flight -= 1

    def _slot(self) -> AbstractAsyncContextManager[Any]:
        """A free slot of the computed capacity (none to wait for without one)."""
        return self._slots if self._slots is not None else nullcontext()

    def _begin(self, payload: int) -> Reply:
        reply = self.reply_for(len(self.calls), payload)
        self.calls.append(payload)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        return reply


async def _arrivals(reply: Reply) -> AsyncIterator[bytes]:
    """The reply's body piece by piece, each when it is due; its error after its latency."""
    # Always suspend at least once, as a socket read does: a send that never
    # yields would starve the loop (the stage's deadline could never fire).
    await asyncio.sleep(reply.latency_ms / 1000 if reply.latency_ms > 0 else 0)
    if reply.error is not None:
        raise TransportError(reply.error, None)
    for chunk in reply.chunks or (Chunk(reply.body),):
        if chunk.delay_ms > 0:
            await asyncio.sleep(chunk.delay_ms / 1000)
        yield chunk.data


# -- the RunResult builder ---------------------------------------------------------------
T0 = 1_700_000_000.0          # a fixed unix time for built results (2023-11-14)

_STATUS_OF_KIND = {"http_5xx": 503, "http_4xx": 404, "check_failed": 200}


def latencies(p50_ms: float, p99_ms: float | None = None, n: int = 1000) -> list[float]:
    """``n`` latencies whose p50 is ``p50_ms`` and p99 is ``p99_ms`` (within HDR precision)."""
    tail = p99_ms if p99_ms is not None else p50_ms
    n_tail = max(1, (n * 15) // 1000) if tail != p50_ms else 0
    return [p50_ms] * (n - n_tail) + [tail] * n_tail


def stage(index: int = 0, latencies_ms: Iterable[float] = (), *,
          latencies_us: Iterable[int] | None = None, errors: int | Mapping[str, int] = 0,
          concurrency: int | None = None, rate: float | None = None, warmup: bool = False,
          duration_s: float | None = None, throughput_rps: float | None = None,
          label: str = "", started_at: float = 0.0, batch_size: int = 1,
          stable: bool | None = None, late: int = 0, in_flight_at_end: int = 0,
          status_codes: Mapping[str, int] | None = None, role: str = "") -> StageResult:
    """A StageResult holding exactly these requests, recorded as the engine records them.

    ``latencies_ms`` (or ``latencies_us``) has one entry per request; the first
    ``errors`` of them are the errors (``latencies`` puts its tail last, so the
    successes keep their tail) (``errors`` a count of ``http_5xx``, or
    ``{kind: count}``, kinds taken in sorted order). Each ok request answered
    200, an ``http_5xx`` 503, an ``http_4xx`` 404, others no status, unless
    ``status_codes`` says otherwise. The duration defaults to 10 s; with
    ``throughput_rps`` it is requests / throughput. ``role`` (``recovery``,
    ``probe``, ...) defaults to ``warmup`` or ``measured`` by ``warmup``. As in a
    run (schema v2), ``histogram`` holds the successes and ``histogram_all`` every
    request; ``throughput_rps`` counts successes.
    """
    values = ([int(v) for v in latencies_us] if latencies_us is not None
              else [round(v * 1000) for v in latencies_ms])
    kinds = dict(sorted(errors.items())) if isinstance(errors, Mapping) else (
        {"http_5xx": errors} if errors else {})
    n_err = sum(kinds.values())
    if n_err > len(values):
        raise ValueError(f"errors ({n_err}) cannot exceed requests ({len(values)})")
    if throughput_rps is not None and duration_s is not None:
        raise ValueError("give throughput_rps or duration_s, not both (one follows from the other)")
    if throughput_rps is not None:
        duration_s = len(values) / throughput_rps if throughput_rps > 0 else 10.0
    elif duration_s is None:
        duration_s = 10.0
    rec = StageRecording(StageMeta(index=index, label=label or f"step {index}",
                                   concurrency=concurrency, rate=rate, warmup=warmup,
                                   batch_size=batch_size, role=role), started_at)
    errs = iter(values[:n_err])
    for kind, count in kinds.items():
        for _ in range(count):
            rec.error(kind, next(errs), None if status_codes is not None
                      else _STATUS_OF_KIND.get(kind))
    for v in values[n_err:]:
        rec.ok(v, None if status_codes is not None else 200)
    rec.late(late)
    rec.flush()
    result = rec.result(duration_s, stable=stable, in_flight=in_flight_at_end)
    if throughput_rps is not None:      # exactly, not to the recorder's millisecond
        result = replace(result, duration_s=duration_s)
    if status_codes is not None:
        result = replace(result, status_codes=dict(status_codes))
    return result


def interval(t: float, stage_index: int = 0, p99_ms: float = 10.0, *, requests: int = 100,
             errors: int = 0, p50_ms: float | None = None, rps: float | None = None,
             t0: float = 0.0) -> Interval:
    """One second of a timeseries with the given 1-second p99 (p90/p95 equal to it)."""
    p50 = p50_ms if p50_ms is not None else p99_ms / 2
    return Interval(t=t, elapsed_s=t - t0, stage=stage_index, requests=requests,
                    ok=requests - errors, errors=errors,
                    rps=float(rps if rps is not None else requests),
                    p50_ms=p50, p90_ms=p99_ms, p95_ms=p99_ms, p99_ms=p99_ms, max_ms=p99_ms)


def profile(name: str = "throughput", kind: str = "throughput",
            stages: Sequence[StageResult] = (), timeseries: Sequence[Interval] = (),
            analysis: Analysis | None = None, *, sla: Sequence[str] = (),
            started_at: float = 0.0, finished_at: float = 0.0) -> ProfileResult:
    """A ProfileResult whose summary is computed the way the runner computes it."""
    return ProfileResult(name=name, kind=kind, stages=tuple(stages), summary=summarize(stages),
                         timeseries=tuple(timeseries), analysis=analysis,
                         sla=tuple(sla), started_at=started_at, finished_at=finished_at)


def run_result(*profiles: ProfileResult, name: str = "synthetic",
               target: str = "http://127.0.0.1:1", method: str = "POST", path: str = "/",
               started_at: float = 0.0, finished_at: float = 60.0,
               environment: Environment | None = None, health: GeneratorHealth | None = None,
               fell_behind: bool = False, verdicts: Sequence[Verdict] = (),
               status: Status | str | None = None, partial: bool = False,
               warnings: Sequence[str] = (),
               loadkit_version: str = "") -> RunResult:
    """A RunResult holding ``profiles`` (as measured: judge it for verdicts and status).

    ``fell_behind`` gives it the health of a generator that could not keep its
    schedule (unless ``health`` is given).
    """
    if health is None:
        health = GeneratorHealth(fell_behind=fell_behind,
                                 reasons=("schedule lag p99 250 ms",) if fell_behind else ())
    return RunResult(scenario=ScenarioInfo(name=name, target=target, method=method, path=path),
                     started_at=started_at, finished_at=finished_at, profiles=tuple(profiles),
                     environment=environment or Environment(), health=health,
                     verdicts=tuple(verdicts),
                     status=Status(status) if status is not None else None,
                     partial=partial, warnings=tuple(warnings), loadkit_version=loadkit_version)
