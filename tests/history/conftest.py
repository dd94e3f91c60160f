"""Synthetic histories for the history room: runs with known figures, no network.

``make_result`` gives a RunResult (loadkit.testing's, its figures scaled) with
the figures a history reads (a profile's latency summary, throughput, errors),
so a history of dozens of runs costs milliseconds; ``noisy_levels`` draws a metric's level per run with
run-to-run noise shaped like real CI runs (multiplicative, log-normal, with an
occasional slow outlier).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace
from functools import cache

import numpy as np

from loadkit import testing
from loadkit.results.model import LatencySummary, ProfileResult, RunResult

T0 = 1_790_000_000.0          # 2026-09: runs one hour apart from here


def latency(p50: float) -> LatencySummary:
    """A latency summary whose shape scales with ``p50`` (p99 = 2.5 x p50), for histories
    built from figures alone."""
    return LatencySummary(min=p50 * 0.5, mean=p50 * 1.1, stdev=p50 * 0.3, p50=p50, p90=p50 * 1.6,
                          p95=p50 * 1.9, p99=p50 * 2.5, p999=p50 * 3.2, max=p50 * 4.0)


@cache
def _measured(requests: int, errors: int, profiles: tuple[str, ...], name: str) -> RunResult:
    """A run recorded by loadkit.testing's builder at p50 10 ms, p99 25 ms (built once: its
    HDR statistics cost ~80 ms a run, too much for histories of dozens)."""
    values = testing.latencies(10.0, 25.0, n=requests)
    out = [testing.profile(p, "throughput", [testing.stage(0, values, errors=errors,
                                                           concurrency=8)])
           for p in profiles]
    return testing.run_result(*out, name=name, target="http://127.0.0.1:8080",
                              loadkit_version="0.1.0")


def _scaled(s: LatencySummary, k: float) -> LatencySummary:
    return LatencySummary(**{f.name: getattr(s, f.name) * k for f in fields(s)})


def make_result(p50_ms: float = 10.0, *, run: int = 0, name: str = "iris", rps: float | None = None,
                errors: int = 0, requests: int = 200, profiles: Sequence[str] = ("latency",),
                partial: bool = False) -> RunResult:
    """One run started ``run`` hours after T0: loadkit.testing's run at p50 10 ms with every
    latency figure scaled to ``p50_ms`` (the histogram keeps the 10 ms shape: a history reads
    the figures), throughput ``rps`` (default: what concurrency 8 gives at that latency),
    the first ``errors`` of its ``requests`` failed."""
    base = _measured(requests, errors, tuple(profiles), name)
    started = T0 + 3600.0 * run
    thr = rps if rps is not None else round(8 * 1000.0 / p50_ms, 3)
    k = p50_ms / base.profiles[0].summary.latency_ms.p50

    def scale(p: ProfileResult) -> ProfileResult:
        stages = tuple(replace(st, latency_ms=_scaled(st.latency_ms, k), throughput_rps=thr,
                               rows_per_s=thr, duration_s=st.requests / thr, started_at=started)
                       for st in p.stages)
        summary = replace(p.summary, latency_ms=_scaled(p.summary.latency_ms, k),
                          throughput_rps=thr, rows_per_s=thr, duration_s=requests / thr)
        return replace(p, stages=stages, summary=summary, started_at=started,
                       finished_at=started + requests / thr)

    return replace(base, profiles=tuple(scale(p) for p in base.profiles), started_at=started,
                   finished_at=started + 30.0, partial=partial,
                   status="interrupted" if partial else "pass")


def noisy_levels(levels: Sequence[float], seed: int, cv: float = 0.04,
                 outliers: float = 1 / 30) -> list[float]:
    """Each run's level times log-normal noise (``cv``); a share ``outliers`` of the runs
    (one in 30 by default) 25% slow, as a run on a busy CI machine is."""
    rng = np.random.default_rng(seed)
    noise = rng.lognormal(0.0, cv, len(levels))
    outlier = np.where(rng.random(len(levels)) < outliers, 1.25, 1.0)
    return [float(v) for v in np.asarray(levels) * noise * outlier]
