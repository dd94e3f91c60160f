"""Probe stages built without a network: a scripted target whose capacity is known.

``probe(index, load, ms)`` records ``n`` latencies into a real HDR histogram: all at
``ms`` except a ``tail`` share at ``tail_ms``, so percentiles (and their intervals)
are known exactly. ``scripted_engine`` stands in for ``run_stages``: a probe above
``capacity`` answers slowly, one at or below it quickly, a lone-request settle check
at ``baseline_ms``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from loadkit.engine import EngineRun
from loadkit.results.aggregate import summarize
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import (
    GeneratorHealth,
    Interval,
    LatencySummary,
    ProfileResult,
    StageResult,
)
from loadkit.results.search import SearchRecord
from loadkit.scenario.plan import Stage

T0 = 1_700_000_000.0


def probe(index: int, load: float, ms: float, *, n: int = 1000, tail: float = 0.0,
          tail_ms: float = 0.0, errors: int = 0, open_model: bool = True, warmup: bool = False,
          duration_s: float = 1.0) -> StageResult:
    hist = LatencyHistogram()
    n_tail = round(n * tail)
    hist.record(int(ms * 1000), n - n_tail)
    if n_tail:
        hist.record(int(tail_ms * 1000), n_tail)
    return StageResult(
        index=index, label=f"probe {load:g}", concurrency=None if open_model else int(load),
        rate=float(load) if open_model else None, warmup=warmup, duration_s=duration_s,
        requests=n, ok=n - errors, errors=errors,
        error_kinds={"http_5xx": errors} if errors else {}, late=0,
        throughput_rps=round(n / duration_s, 3), rows_per_s=round((n - errors) / duration_s, 3),
        latency_ms=LatencySummary.of(hist), histogram=hist.encode(),
        started_at=T0 + index)


def window(stage: int, p99_ms: float, n: int = 100, t: float = T0) -> Interval:
    return Interval(t=t, elapsed_s=0.0, stage=stage, requests=n, ok=n, errors=0, rps=float(n),
                    p50_ms=p99_ms / 2, p90_ms=p99_ms * 0.9, p95_ms=p99_ms * 0.95, p99_ms=p99_ms,
                    max_ms=p99_ms)


def search_profile(stages: Sequence[StageResult], record: SearchRecord,
                   sla: Sequence[str] = ("p99 < 50ms",),
                   timeseries: Sequence[Interval] = ()) -> ProfileResult:
    return ProfileResult(name="capacity", kind="search", stages=tuple(stages),
                         summary=summarize(stages), timeseries=tuple(timeseries),
                         sla=tuple(sla), started_at=T0, finished_at=T0 + 30, search=record)


@dataclass
class ScriptedEngine:
    """``run_stages`` for a target of known capacity; records what it was asked to run."""

    capacity: float
    fast_ms: float = 10.0
    slow_ms: float = 200.0
    baseline_ms: float = 5.0
    fell_behind_above: float | None = None
    calls: list[Stage] = field(default_factory=list)

    def __call__(self, stages: Sequence[Stage], request: Any, payloads: Any,
                 **_: Any) -> EngineRun:
        out = []
        behind = False
        for s in stages:
            self.calls.append(s)
            load = s.rate if s.rate is not None else float(s.concurrency or 0)
            if s.requests is not None:          # a lone-request settle check
                st = probe(s.index, load, self.baseline_ms, n=s.requests, warmup=True,
                           open_model=s.rate is not None)
            else:
                ms = self.fast_ms if load <= self.capacity else self.slow_ms
                st = probe(s.index, load, ms, open_model=s.rate is not None, warmup=s.warmup)
                behind = behind or (self.fell_behind_above is not None
                                    and load > self.fell_behind_above and not s.warmup)
            out.append(st)
        health = GeneratorHealth(fell_behind=behind,
                                 reasons=("schedule lag",) if behind else ())
        return EngineRun(stages=tuple(out), timeseries=(), health=health, interrupted=False,
                         aborted=False, transport="scripted", started_at=T0, finished_at=T0)


Loads = Callable[[ScriptedEngine], list[float]]


def probe_loads(engine: ScriptedEngine) -> list[float]:
    """The loads of the probes the engine ran (warm-up and settle checks left out)."""
    return [s.rate if s.rate is not None else float(s.concurrency or 0)
            for s in engine.calls if not s.warmup and s.requests is None]
