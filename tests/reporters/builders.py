"""A fixed RunResult for every reporter test, built without a network or a clock.

Two profiles: ``throughput`` (a warm-up stage then one measured stage) and ``ramp``
(three steps, c=1/2/4, with an analysis headline and its knee). Verdicts
cover pass, fail (of a rule scoped to a ramp step), a ramp rule that passed on its
first step and broke at a later one, and inconclusive. Latencies come from a seeded
generator recorded into real HDR histograms, so histogram-derived charts have
real data and the output is the same on every run.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from loadkit import testing
from loadkit.results.analysis import (
    Analysis,
    RampAnalysis,
    RampPoint,
    StressAnalysis,
    StressPoint,
)
from loadkit.results.model import (
    Environment,
    GeneratorHealth,
    Interval,
    ProfileResult,
    RunResult,
    StageResult,
    Verdict,
)
from loadkit.results.status import Status

T0 = 1_700_000_000.0


def make_stage(rng: np.random.Generator, index: int, *, concurrency: int | None = None,
               rate: float | None = None, warmup: bool = False, duration_s: float = 10.0,
               rps: float = 100.0, median_ms: float = 10.0, errors: dict[str, int] | None = None,
               started_at: float = T0) -> StageResult:
    """A stage of ``rps * duration_s`` seeded lognormal latencies (``loadkit.testing.stage``)."""
    n = int(rps * duration_s)
    lat_us = (rng.lognormal(np.log(median_ms * 1000), 0.45, n)).astype(np.int64)
    load = f"c={concurrency}" if concurrency is not None else f"{rate:g} rps"
    return testing.stage(index, latencies_us=lat_us, errors=errors or {},
                         concurrency=concurrency, rate=None if rate is None else float(rate),
                         warmup=warmup, duration_s=float(duration_s),
                         label=("warm-up " if warmup else "") + load, started_at=started_at)


def make_intervals(stages: list[StageResult], t0: float, jitter_seed: int) -> tuple[Interval, ...]:
    """One Interval per second of each stage, consistent with the stage's counts."""
    rng = np.random.default_rng(jitter_seed)
    out = []
    second = 0
    for s in stages:
        n_sec = int(s.duration_s)
        base, extra = divmod(s.requests, n_sec)
        err_base, err_extra = divmod(s.errors, n_sec)
        for k in range(n_sec):
            req = base + (1 if k < extra else 0)
            err = err_base + (1 if k < err_extra else 0)
            wobble = 1.0 + 0.1 * float(rng.standard_normal())
            lat = s.latency_ms
            out.append(Interval(
                t=t0 + second, elapsed_s=float(second), stage=s.index, requests=req,
                ok=req - err, errors=err, rps=float(req),
                p50_ms=round(lat.p50 * wobble, 3), p90_ms=round(lat.p90 * wobble, 3),
                p95_ms=round(lat.p95 * wobble, 3), p99_ms=round(lat.p99 * wobble, 3),
                max_ms=round(lat.max * wobble, 3)))
            second += 1
    return tuple(out)


def make_profile(name: str, kind: str, stages: list[StageResult], t0: float, seed: int,
                 analysis: Analysis | None = None, sla: tuple[str, ...] = ()) -> ProfileResult:
    total = sum(s.duration_s for s in stages)
    return testing.profile(name, kind, stages, make_intervals(stages, t0, seed), analysis,
                           sla=sla, started_at=t0, finished_at=t0 + total)


def build_result() -> RunResult:
    rng = np.random.default_rng(7)
    tp_stages = [
        make_stage(rng, 0, concurrency=32, warmup=True, duration_s=3, rps=800, median_ms=30,
                   started_at=T0),
        make_stage(rng, 1, concurrency=32, duration_s=30, rps=900, median_ms=32,
                   errors={"http_5xx": 4, "timeout": 1}, started_at=T0 + 3),
    ]
    throughput = make_profile("throughput", "throughput", tp_stages, T0, 1,
                              sla=("p99 < 200ms", "error_rate < 1%", "throughput >= 1000rps"))
    t1 = T0 + 40
    ramp_stages = [
        make_stage(rng, 0, concurrency=1, duration_s=10, rps=95, median_ms=10, started_at=t1),
        make_stage(rng, 1, concurrency=2, duration_s=10, rps=180, median_ms=11,
                   started_at=t1 + 10),
        make_stage(rng, 2, concurrency=4, duration_s=10, rps=190, median_ms=74,
                   errors={"reset": 2}, started_at=t1 + 20),
    ]
    ramp = make_profile(
        "ramp", "ramp", ramp_stages, t1, 2, sla=("p99 < 200ms", "error_rate < 1%"),
        analysis=RampAnalysis(
            headline="Saturates at concurrency 2 (180 rps); p99 crosses 200 ms at 4",
            knee=RampPoint(step=1, concurrency=2, throughput_rps=180.0, p50_ms=11.0,
                           p99_ms=30.0, efficiency=0.95),
            first_breaking_step=RampPoint(step=2, concurrency=4, throughput_rps=190.0,
                                          p50_ms=74.0, p99_ms=212.0, efficiency=0.5),
            max_throughput_rps=190.0, max_throughput_concurrency=4,
            max_concurrency_under_sla=2, max_concurrency_under_sla_rps=180.0))
    tp_sum, ramp_first = throughput.summary, ramp_stages[0]
    verdicts = (
        Verdict("throughput", "p99 < 200ms", "p99", tp_sum.latency_ms.p99, 200.0, True, "ms"),
        Verdict("throughput", "error_rate < 1%", "error_rate", round(tp_sum.error_rate, 6),
                0.01, True, "fraction"),
        Verdict("throughput", "throughput >= 1000rps", "throughput", tp_sum.throughput_rps,
                1000.0, False, "rps"),
        # A rule scoped to step 2 (judged there), and the same rule judged the ramp's
        # way: on its lightest step, naming the step that first broke it.
        Verdict("ramp", "p99 < 200ms", "p99", 212.0, 200.0, False, "ms", scope="stage",
                judged_stage=2, reason="over 1,900 successful requests in stage 2"),
        Verdict("ramp", "p99 < 200ms", "p99", ramp_stages[0].latency_ms.p99, 200.0, True, "ms",
                scope="steps", judged_stage=0, first_broken_stage=2,
                broken_observed=ramp_stages[2].latency_ms.p99,
                reason="over 950 successful requests at step 0 (concurrency 1)"),
        Verdict("ramp", "error_rate < 1%", "error_rate", round(ramp_first.error_rate, 6), 0.01,
                False, "fraction", inconclusive=True, scope="steps", judged_stage=0,
                reason="too few requests at step 0 to judge a 1% error rate"),
    )
    return testing.run_result(
        throughput, ramp, name="iris-staging", target="http://127.0.0.1:8080", path="/predict",
        started_at=T0, finished_at=t1 + 30,
        environment=Environment(python="3.11.7", platform="Linux-x86_64", uvloop=True,
                                processes=1, host_cores=2, transport="fast"),
        health=GeneratorHealth(loop_lag_p99_ms=1.2, loop_lag_max_ms=8.5, schedule_lag_p99_ms=0.4,
                               schedule_lag_max_ms=3.1, cpu_share=0.62, max_rss_mb=88.0),
        verdicts=verdicts, status=Status.FAIL,
        warnings=("the generator fell behind its schedule for 2 s (schedule lag max 3.1 ms)",),
        loadkit_version="0.1.0",
    )


def build_long_result(minutes: int = 10, stages: int = 5) -> RunResult:
    """A 10-minute-like stress run: ``stages`` open-model steps, 600 intervals."""
    rng = np.random.default_rng(11)
    per = minutes * 60 / stages
    st = [make_stage(rng, i, rate=200.0 * (i + 1), duration_s=per, rps=200.0 * (i + 1) * 0.98,
                     median_ms=8 + 6 * i, errors={"timeout": 3 * i, "http_5xx": 5 * i} if i else None,
                     started_at=T0 + i * per)
          for i in range(stages)]
    prof = make_profile("stress", "stress", st, T0, 3,
                        analysis=StressAnalysis(
                            headline="Breaks at 800 rps",
                            breaking_point=StressPoint(step=3, rate=800.0, throughput_rps=784.0,
                                                       p99_ms=90.0, error_rate=0.01,
                                                       reasons=())))
    base = build_result()
    return replace(base, profiles=(prof,), finished_at=T0 + minutes * 60,
                   verdicts=(Verdict("stress", "p99 < 100ms", "p99", prof.summary.latency_ms.p99,
                                     100.0, prof.summary.latency_ms.p99 < 100, "ms"),))
