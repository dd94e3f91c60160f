"""What ``loadkit compare`` found: a Comparison of two runs, stage by stage, metric by metric.

Where it sits: a value type several rooms read (DESIGN.md: values that several rooms
read live in ``results/``). ``loadkit.analysis.compare`` produces it; the compare
reporters, the CLI and whatever gates on it read it; the scenario's ``compare:``
block (``loadkit.scenario.gate_schema``) builds its ``CompareThresholds``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from loadkit.results.status import Status

CompareVerdict = Literal["pass", "regression", "inconclusive"]


@dataclass(frozen=True)
class CompareThresholds:
    """Practical thresholds; None leaves a metric reported but never gating.

    Latency and throughput thresholds are fractions (0.10 = 10%); the error-rate
    threshold is in percentage points.
    """

    p50_increase: float | None = None
    p95_increase: float | None = 0.10
    p99_increase: float | None = 0.10
    error_rate_increase_pp: float | None = 0.5
    throughput_decrease: float | None = 0.10
    min_windows: int = 5              # per side and stage; fewer is inconclusive
    min_requests: int = 20            # per side and stage


@dataclass(frozen=True)
class MetricComparison:
    """One metric of one stage: both values, the effect, its test and the gate."""

    metric: str                       # p50 | p95 | p99 | error_rate | throughput | ttft_p99 | itl_p99
    unit: str                         # ms | % | rps
    baseline: float
    candidate: float
    change: float                     # relative change (latency, throughput) or pp (errors)
    ci_low: float | None              # CI of the ratio (latency, throughput) or of the pp change
    ci_high: float | None
    test: str
    p_value: float
    threshold: float | None           # practical threshold (fraction, or pp for errors)
    significant: bool
    practical: bool                   # beyond the threshold, in the bad direction
    regression: bool


@dataclass(frozen=True)
class StageComparison:
    """One profile stage present in both results."""

    profile: str
    stage: int
    label: str
    baseline_requests: int
    candidate_requests: int
    baseline_windows: int
    candidate_windows: int
    metrics: tuple[MetricComparison, ...]
    verdict: CompareVerdict
    reasons: tuple[str, ...] = ()
    spectrum: tuple[tuple[float, float, float], ...] = ()     # (percentile, base_ms, cand_ms)
    baseline_window_p99_ms: tuple[float, ...] = ()
    candidate_window_p99_ms: tuple[float, ...] = ()
    baseline_histogram: str = ""      # encoded HDR histograms, for the overlaid spectra
    candidate_histogram: str = ""

    def metric(self, name: str) -> MetricComparison:
        for m in self.metrics:
            if m.metric == name:
                return m
        raise KeyError(name)


@dataclass(frozen=True)
class RunRef:
    """Which run a side of the comparison is (for reports; target already redacted)."""

    scenario: str
    target: str
    started_at: float
    status: str
    partial: bool = False


@dataclass(frozen=True)
class Comparison:
    baseline: RunRef
    candidate: RunRef
    stages: tuple[StageComparison, ...]
    verdict: CompareVerdict
    reasons: tuple[str, ...]
    alpha: float
    thresholds: CompareThresholds = field(default_factory=CompareThresholds)
    skipped: tuple[str, ...] = ()     # profiles/stages present on one side only

    @property
    def status(self) -> Status:
        """pass (no regression), fail (a regression), inconclusive (too little data)."""
        return {"pass": Status.PASS, "regression": Status.FAIL}.get(self.verdict,
                                                                     Status.INCONCLUSIVE)

    @property
    def exit_code(self) -> int:
        return self.status.exit_code


__all__ = ["CompareThresholds", "CompareVerdict", "Comparison", "MetricComparison", "RunRef",
           "StageComparison"]
