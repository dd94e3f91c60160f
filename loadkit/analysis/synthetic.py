"""Synthetic RunResults from known numbers, for tests, golden files and docs.

Nothing here touches a network: a stage is built from latencies you choose, so
its HDR histogram and every percentile read from it are known in advance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from loadkit.results.aggregate import summarize
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import (
    GeneratorHealth,
    Interval,
    LatencySummary,
    ProfileResult,
    RunResult,
    ScenarioInfo,
    StageResult,
)


def latencies(p50_ms: float, p99_ms: float | None = None, n: int = 1000) -> list[float]:
    """``n`` latencies whose p50 is ``p50_ms`` and p99 is ``p99_ms`` (within HDR precision)."""
    tail = p99_ms if p99_ms is not None else p50_ms
    n_tail = max(1, (n * 15) // 1000) if tail != p50_ms else 0
    return [p50_ms] * (n - n_tail) + [tail] * n_tail


def stage(index: int, latencies_ms: Iterable[float], *, concurrency: int | None = None,
          rate: float | None = None, warmup: bool = False, duration_s: float | None = None,
          errors: int = 0, error_kinds: dict[str, int] | None = None, label: str = "",
          started_at: float = 0.0, batch_size: int = 1, stable: bool | None = None,
          throughput_rps: float | None = None, late: int = 0,
          status_codes: dict[str, int] | None = None) -> StageResult:
    """A StageResult whose histogram holds exactly ``latencies_ms``.

    Duration defaults to 10 s; with ``throughput_rps`` it is requests / throughput,
    so the profile summary computed from stages agrees with the stage.
    """
    values = list(latencies_ms)
    hist = LatencyHistogram()
    hist.record_many([round(v * 1000) for v in values])
    requests = len(values)
    if errors > requests:
        raise ValueError("errors cannot exceed requests")
    kinds = dict(error_kinds) if error_kinds is not None else ({"http_5xx": errors} if errors else {})
    if throughput_rps is not None and duration_s is not None:
        raise ValueError("give throughput_rps or duration_s, not both (one follows from the other)")
    if throughput_rps is not None:
        duration_s = requests / throughput_rps if throughput_rps > 0 else 10.0
    elif duration_s is None:
        duration_s = 10.0
    rps = throughput_rps if throughput_rps is not None else (requests / duration_s if duration_s else 0.0)
    return StageResult(
        index=index,
        label=label or f"step {index}",
        concurrency=concurrency,
        rate=rate,
        warmup=warmup,
        duration_s=duration_s,
        requests=requests,
        ok=requests - errors,
        errors=errors,
        error_kinds=kinds,
        late=late,
        throughput_rps=round(rps, 3),
        rows_per_s=round(rps * batch_size, 3),
        latency_ms=LatencySummary.of(hist),
        histogram=hist.encode(),
        batch_size=batch_size,
        started_at=started_at,
        status_codes=dict(status_codes or {}),
        overflow=hist.overflow,
        stable=stable,
    )


def interval(t: float, stage_index: int, p99_ms: float, *, requests: int = 100, errors: int = 0,
             p50_ms: float | None = None, rps: float | None = None, t0: float = 0.0) -> Interval:
    """One second of a timeseries with the given 1-second p99."""
    p50 = p50_ms if p50_ms is not None else p99_ms / 2
    return Interval(t=t, elapsed_s=t - t0, stage=stage_index, requests=requests, ok=requests - errors,
                    errors=errors, rps=float(rps if rps is not None else requests),
                    p50_ms=p50, p90_ms=p99_ms, p95_ms=p99_ms, p99_ms=p99_ms,
                    max_ms=p99_ms)


def profile(name: str, kind: str, stages: Sequence[StageResult],
            timeseries: Sequence[Interval] = (), analysis: dict | None = None) -> ProfileResult:
    """A ProfileResult whose summary is computed the way the runner computes it."""
    return ProfileResult(name=name, kind=kind, stages=tuple(stages), summary=summarize(stages),
                         timeseries=tuple(timeseries), analysis=dict(analysis or {}))


def run(*profiles: ProfileResult, fell_behind: bool = False) -> RunResult:
    """A RunResult holding ``profiles``."""
    health = GeneratorHealth(fell_behind=fell_behind,
                             reasons=("schedule lag p99 250 ms",) if fell_behind else ())
    return RunResult(scenario=ScenarioInfo(name="synthetic", target="http://127.0.0.1:1"),
                     started_at=0.0, finished_at=60.0, profiles=tuple(profiles), health=health)
