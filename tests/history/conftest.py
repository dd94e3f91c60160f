"""Synthetic histories for the history room: runs with known figures, no network.

``make_result`` builds a RunResult straight from the figures a history reads (a
profile's latency summary, throughput, errors), so a history of a thousand runs
costs milliseconds; ``noisy_levels`` draws a metric's level per run with
run-to-run noise shaped like real CI runs (multiplicative, log-normal, with an
occasional slow outlier).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from loadkit.results.model import (
    LatencySummary,
    ProfileResult,
    RunResult,
    ScenarioInfo,
    StageResult,
    Summary,
)

T0 = 1_790_000_000.0          # 2026-09: runs one hour apart from here


def latency(p50: float) -> LatencySummary:
    """A latency summary whose shape scales with ``p50`` (p99 = 2.5 x p50)."""
    return LatencySummary(min=p50 * 0.5, mean=p50 * 1.1, stdev=p50 * 0.3, p50=p50, p90=p50 * 1.6,
                          p95=p50 * 1.9, p99=p50 * 2.5, p999=p50 * 3.2, max=p50 * 4.0)


def make_result(p50_ms: float = 10.0, *, run: int = 0, name: str = "iris", rps: float | None = None,
                errors: int = 0, requests: int = 1000, profiles: Sequence[str] = ("latency",),
                partial: bool = False) -> RunResult:
    """One run: every profile with latency ``p50_ms`` (and the rest in proportion), throughput
    ``rps`` (default: what concurrency 8 gives at that latency), ``errors`` of ``requests``."""
    lat = latency(p50_ms)
    thr = rps if rps is not None else round(8 * 1000.0 / lat.mean, 3)
    started = T0 + 3600.0 * run
    out = []
    for name_ in profiles:
        stage = StageResult(index=0, label="", concurrency=8, rate=None, warmup=False,
                            duration_s=requests / thr, requests=requests, ok=requests - errors,
                            errors=errors, error_kinds={"http_5xx": errors} if errors else {},
                            late=0, throughput_rps=thr, rows_per_s=thr, latency_ms=lat,
                            histogram="", started_at=started)
        summary = Summary(requests=requests, ok=requests - errors, errors=errors,
                          error_kinds=dict(stage.error_kinds), duration_s=stage.duration_s,
                          throughput_rps=thr, rows_per_s=thr, latency_ms=lat)
        out.append(ProfileResult(name=name_, kind="throughput", stages=(stage,), summary=summary,
                                 started_at=started, finished_at=started + stage.duration_s))
    return RunResult(scenario=ScenarioInfo(name=name, target="http://127.0.0.1:8080"),
                     started_at=started, finished_at=started + 30.0, profiles=tuple(out),
                     partial=partial, status="interrupted" if partial else "pass",
                     loadkit_version="0.1.0")


def noisy_levels(levels: Sequence[float], seed: int, cv: float = 0.04,
                 outliers: float = 1 / 30) -> list[float]:
    """Each run's level times log-normal noise (``cv``); a share ``outliers`` of the runs
    (one in 30 by default) 25% slow, as a run on a busy CI machine is."""
    rng = np.random.default_rng(seed)
    noise = rng.lognormal(0.0, cv, len(levels))
    outlier = np.where(rng.random(len(levels)) < outliers, 1.25, 1.0)
    return [float(v) for v in np.asarray(levels) * noise * outlier]
