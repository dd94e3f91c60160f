"""Build RunResults from known latencies, for tests that need no network."""

from __future__ import annotations

from collections.abc import Sequence

from loadkit.results import (
    Environment,
    Interval,
    LatencyHistogram,
    LatencySummary,
    ProfileResult,
    RunResult,
    ScenarioInfo,
    StageResult,
)
from loadkit.results.aggregate import summarize


def stage_from(latencies_us: Sequence[int], *, index: int = 0, errors: int = 0,
               duration_s: float = 10.0, concurrency: int | None = 8, rate: float | None = None,
               warmup: bool = False, started_at: float = 1_700_000_000.0) -> StageResult:
    hist = LatencyHistogram()
    hist.record_many(list(latencies_us))
    n = len(latencies_us)
    return StageResult(
        index=index, label=f"stage {index}", concurrency=concurrency, rate=rate, warmup=warmup,
        duration_s=duration_s, requests=n, ok=n - errors, errors=errors,
        error_kinds={"http_5xx": errors} if errors else {}, late=0,
        throughput_rps=round(n / duration_s, 3), rows_per_s=round((n - errors) / duration_s, 3),
        latency_ms=LatencySummary.of(hist), histogram=hist.encode(), started_at=started_at,
    )


def interval(t: float, requests: int, p99_ms: float, errors: int = 0, stage: int = 0) -> Interval:
    return Interval(t=t, elapsed_s=t - 1_700_000_000.0, stage=stage, requests=requests,
                    ok=requests - errors, errors=errors, rps=float(requests), p50_ms=p99_ms / 2,
                    p90_ms=p99_ms * 0.8, p95_ms=p99_ms * 0.9, p99_ms=p99_ms, max_ms=p99_ms * 1.5)


def result_of(stages: Sequence[StageResult], *, name: str = "throughput", kind: str = "throughput",
              timeseries: Sequence[Interval] = ()) -> RunResult:
    profile = ProfileResult(name=name, kind=kind, stages=tuple(stages),
                            summary=summarize(stages), timeseries=tuple(timeseries))
    return RunResult(scenario=ScenarioInfo(name="test", target="http://127.0.0.1:1"),
                     started_at=1_700_000_000.0, finished_at=1_700_000_010.0,
                     profiles=(profile,), environment=Environment(python="3.11"),
                     loadkit_version="0.1.0")
