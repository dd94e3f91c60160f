"""A history of runs as plain values: stored runs, change points, regimes, a trend check.

Where it sits: ``loadkit.history`` fills these from its store and change-point
detection; reporters render them; the CLI maps a check's status to the exit
code. Like RunResult they are frozen dataclasses (DESIGN.md: value types that
several rooms read live in ``results/``), and ``to_data`` turns them into the
JSON ``loadkit history show --json`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from loadkit.results.status import Status

HISTORY_SCHEMA = "loadkit.history/v1"

Direction = Literal["worse", "better"]
FindingState = Literal["same", "better", "regression", "too_short", "no_history"]


@dataclass(frozen=True)
class MetricInfo:
    """What a gate metric measures: its unit, and which way is worse."""

    unit: str
    higher_is_worse: bool


# The metrics the change-point search and the trend gate read, per profile (DESIGN.md:
# p50/p95/p99/mean, throughput, error rate, and TTFT/ITL/goodput where a stage has them).
GATE_METRICS: dict[str, MetricInfo] = {
    "p50": MetricInfo("ms", True),
    "p95": MetricInfo("ms", True),
    "p99": MetricInfo("ms", True),
    "mean": MetricInfo("ms", True),
    "throughput": MetricInfo("rps", False),
    "error_rate": MetricInfo("fraction", True),
    "ttft_p50": MetricInfo("ms", True),
    "ttft_p99": MetricInfo("ms", True),
    "itl_p99": MetricInfo("ms", True),
    "tpot_p99": MetricInfo("ms", True),
    "goodput": MetricInfo("rps", False),
    "output_tokens_per_s": MetricInfo("tokens/s", False),
}


def direction_of(metric: str, before: float, after: float) -> Direction:
    """``worse`` when the move from ``before`` to ``after`` hurts (higher latency, lower
    throughput); metrics not in GATE_METRICS count higher as worse."""
    info = GATE_METRICS.get(metric, MetricInfo("", True))  # pragma: no mutate (unit unread here)
    rose = after > before
    return "worse" if rose == info.higher_is_worse else "better"


@dataclass(frozen=True)
class StoredRun:
    """One run as the store keeps it: provenance and per-profile figures (oldest first)."""

    id: int
    digest: str
    scenario: str
    started_at: float                       # unix seconds, as result.json
    status: str
    commit: str | None = None
    branch: str | None = None
    runner: str | None = None
    partial: bool = False
    profiles: dict[str, dict[str, float]] = field(default_factory=dict)  # profile -> metric -> value


@dataclass(frozen=True)
class ChangePoint:
    """Where a metric's regime changed: ``index`` is the position in the history's runs
    of the first run of the new regime; before/after are the two segments' means."""

    profile: str
    metric: str
    index: int
    before: float
    after: float
    change: float                           # after / before - 1 (relative; 0 when before is 0)
    direction: Direction
    p_value: float
    commit: str | None = None
    started_at: float = 0.0


@dataclass(frozen=True)
class Regime:
    """The current regime of one metric: the runs since its last change point."""

    profile: str
    metric: str
    start: int                              # index in the history's runs of its first run
    runs: int
    mean: float
    stdev: float
    low: float                              # mean -/+ 2 stdev: the band the trend page draws
    high: float


@dataclass(frozen=True)
class History:
    """One scenario's runs oldest first, their change points and current regimes."""

    scenario: str
    runs: tuple[StoredRun, ...]
    change_points: tuple[ChangePoint, ...]
    regimes: tuple[Regime, ...]
    significance: float
    min_magnitude: float = 0.0              # smallest relative move a change point may have
    branch: str | None = None
    skipped_partial: int = 0                # partial (interrupted) runs kept but not analysed
    schema: str = HISTORY_SCHEMA


@dataclass(frozen=True)
class Finding:
    """One metric of the candidate against its regime."""

    profile: str
    metric: str
    state: FindingState
    observed: float
    regime_mean: float | None = None
    regime_stdev: float | None = None
    regime_runs: int = 0
    regime_start: int | None = None         # index in the history's runs
    regime_commit: str | None = None        # commit of the regime's first run
    change: float | None = None             # observed / regime mean - 1, or a difference for error_rate
    p_value: float | None = None
    young_change: int | None = None         # a change point too recent to be the regime yet


@dataclass(frozen=True)
class TrendCheck:
    """The trend gate's answer for one candidate run."""

    scenario: str
    status: Status                          # PASS, FAIL or INCONCLUSIVE: its exit_code is the CLI's
    message: str
    findings: tuple[Finding, ...]
    history_runs: int
    alpha: float
    min_change: float
    branch: str | None = None
