"""loadkit compare gates a streaming endpoint on TTFT and ITL too."""

from __future__ import annotations

import numpy as np

from loadkit.analysis.compare import compare
from loadkit.results.model import RunResult
from loadkit.results.recorder import Recorder, StageMeta
from loadkit.testing import profile, run_result, stage


def streamed_run(seed: int, ttft_ms: float, gap_ms: float = 8.0, windows: int = 10,
                 per_window: int = 40) -> RunResult:
    """Requests with the same latency whatever the TTFT: only the stream figures move."""
    rng = np.random.default_rng(seed)
    clock = iter(1_700_000_000.0 + t for t in range(windows + 3))
    rec = Recorder(wall_clock=lambda: next(clock))
    sink = rec.begin_stage(StageMeta(index=0, label="c=8", concurrency=8))
    stream = sink.begin_streams(slo=False)
    for _ in range(windows):
        for _ in range(per_window):
            ttft = int(ttft_ms * 1000 * rng.lognormal(0, 0.2))
            gaps = [int(gap_ms * 1e6 * rng.lognormal(0, 0.2)) for _ in range(19)]
            sink.ok(500_000 + int(rng.integers(0, 5000)), 200)
            stream.add(ttft, gaps, None, 20, 8, "usage", False)
        rec.tick()
    stage = rec.finish(sink, float(windows))
    return run_result(profile("chat", stages=[stage], timeseries=tuple(rec.intervals)))


def metric(result: object, name: str) -> object:
    (stage,) = result.stages  # type: ignore[attr-defined]
    return stage.metric(name)


def test_a_slower_first_token_is_a_regression_though_latency_held() -> None:
    got = compare(streamed_run(1, ttft_ms=80), streamed_run(2, ttft_ms=130))
    ttft = metric(got, "ttft_p99")
    assert ttft.regression and ttft.candidate > ttft.baseline * 1.3   # type: ignore[attr-defined]
    assert not metric(got, "p99").regression                         # type: ignore[attr-defined]
    assert got.verdict == "regression"


def test_same_stream_timing_passes_and_classic_runs_get_no_stream_metrics() -> None:
    got = compare(streamed_run(1, ttft_ms=80), streamed_run(2, ttft_ms=80))
    assert got.verdict == "pass"
    assert not metric(got, "itl_p99").regression                     # type: ignore[attr-defined]
    classic = run_result(profile("chat", stages=[stage(latencies_ms=[5.0] * 50)]))
    names = [m.metric for m in compare(classic, classic).stages[0].metrics]
    assert names == ["p50", "p95", "p99", "error_rate", "throughput"]
