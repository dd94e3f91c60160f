"""Analysis records of the stepped profile kinds: ramp (concurrency steps) and stress
(arrival-rate steps, then an optional recovery stage).

Each step is judged on its own; the record names the turning points (a ramp's knee,
a stress profile's breaking point) as small ``*Point`` records so a report marks them
on the load axis by attribute. Field names are result.json's keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from loadkit.results.analysis.extras import Extras, Recovery


@dataclass(frozen=True)
class RampStep:
    """One concurrency step of a ramp, with its scaling efficiency and the rules it broke."""

    index: int
    concurrency: int
    requests: int
    throughput_rps: float
    rows_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    error_rate: float
    efficiency: float | None        # rps(c) / (c * rps(c0) / c0); 1.0 = linear scaling
    meets_sla: bool | None          # None: no rules to meet
    broken_rules: tuple[str, ...]
    stable: bool | None


@dataclass(frozen=True)
class RampPoint:
    """A ramp step named by the analysis (the knee, the first step that broke the SLA)."""

    step: int
    concurrency: int
    throughput_rps: float
    p50_ms: float
    p99_ms: float
    efficiency: float | None

    @classmethod
    def of(cls, step: RampStep | None) -> RampPoint | None:
        if step is None:
            return None
        return cls(step=step.index, concurrency=step.concurrency,
                   throughput_rps=step.throughput_rps, p50_ms=step.p50_ms,
                   p99_ms=step.p99_ms, efficiency=step.efficiency)


@dataclass(frozen=True, kw_only=True)
class RampAnalysis(Extras):
    """Per-step scaling, the saturation point (knee) and how far the SLA held."""

    kind: Literal["ramp"] = "ramp"
    steps: tuple[RampStep, ...] = ()
    knee: RampPoint | None = None
    no_knee: bool = False
    max_throughput_rps: float | None = None
    max_throughput_concurrency: int | None = None
    max_concurrency_under_sla: int | None = None
    max_concurrency_under_sla_rps: float | None = None
    first_breaking_step: RampPoint | None = None
    headline: str = ""


@dataclass(frozen=True)
class StressStep:
    """One arrival-rate step of a stress profile and why it counts as broken."""

    index: int
    rate: float                       # offered, requests/s
    throughput_rps: float             # achieved: responses (successes and errors) a second
    goodput_rps: float                # successful responses a second (the stage's v2 throughput)
    achieved: float                   # achieved / offered
    p50_ms: float
    p99_ms: float
    max_ms: float
    error_rate: float
    rejected: int                     # the server said no (4xx / 5xx, e.g. 503 shedding)
    timed_out: int
    other_errors: int                 # connect, reset, check_failed, ...
    late: int                         # requests the generator could not start on time
    error_kinds: dict[str, int]
    broke: tuple[str, ...]            # why this step counts as broken (empty: it held)


@dataclass(frozen=True)
class StressPoint:
    """A stress step named by the analysis (the breaking point, the max sustained step)."""

    step: int
    rate: float
    throughput_rps: float
    p99_ms: float
    error_rate: float
    reasons: tuple[str, ...]

    @classmethod
    def of(cls, step: StressStep | None) -> StressPoint | None:
        if step is None:
            return None
        return cls(step=step.index, rate=step.rate, throughput_rps=step.throughput_rps,
                   p99_ms=step.p99_ms, error_rate=step.error_rate, reasons=step.broke)


@dataclass(frozen=True, kw_only=True)
class StressAnalysis(Extras):
    """Breaking point, maximum sustained rate under the SLA, degradation and recovery."""

    kind: Literal["stress"] = "stress"
    steps: tuple[StressStep, ...] = ()
    breaking_point: StressPoint | None = None
    max_rate_under_sla: float | None = None
    max_sustained_rps: float | None = None
    max_sustained: StressPoint | None = None
    peak_goodput_rps: float | None = None
    peak_goodput_rate: float | None = None
    recovery: Recovery | None = None
    recovery_s: float | None = None
    headline: str = ""


__all__ = ["RampAnalysis", "RampPoint", "RampStep", "StressAnalysis", "StressPoint", "StressStep"]
