"""Analysis records of the single-load profile kinds: latency, throughput, constant
rate, soak, spike, and the headline-only record of any other kind.

Each record is what ``loadkit.analysis`` derives for one profile and ``judge`` stores
under ``ProfileResult.analysis``; field names are result.json's keys (``kind`` first,
``headline`` the one-line answer every report shows). Every field has a default, so a
profile with nothing measured is the kind's record with only its headline set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from loadkit.results.analysis.extras import ColdStart, Extras, Recovery
from loadkit.results.fields import OMIT_HERE


@dataclass(frozen=True)
class FirstSecond:
    """The first second with requests (warm-up included, where a cold model shows)."""

    requests: int
    p50_ms: float
    max_ms: float


@dataclass(frozen=True, kw_only=True)
class LatencyAnalysis(Extras):
    """Single-request latency, and the cold start apart from the steady state."""

    kind: Literal["latency"] = "latency"
    requests: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    first_second: FirstSecond | None = field(default=None, metadata=OMIT_HERE)
    first_second_vs_steady_p50: float | None = None
    cold_start: ColdStart | None = field(default=None, metadata=OMIT_HERE)
    headline: str = ""


@dataclass(frozen=True)
class BatchRow:
    """One stage of a batch-size sweep: what each batch size achieved."""

    step: int
    batch_size: int
    concurrency: int | None
    throughput_rps: float
    rows_per_s: float
    p50_ms: float
    p99_ms: float
    p50_ms_per_row: float | None
    error_rate: float


@dataclass(frozen=True, kw_only=True)
class ThroughputAnalysis(Extras):
    """Maximum sustained requests/s and rows/s, and the batch-size trade-off."""

    kind: Literal["throughput"] = "throughput"
    max_sustained_rps: float | None = None
    max_rows_per_s: float | None = None
    batch_sizes: tuple[BatchRow, ...] = field(default=(), metadata=OMIT_HERE)
    best_batch_size: int | None = field(default=None, metadata=OMIT_HERE)
    stable: bool | None = field(default=None, metadata=OMIT_HERE)   # only when windows asked
    headline: str = ""


ConstantRateKind = Literal["constant-rate", "constant_rate", "soak"]


@dataclass(frozen=True, kw_only=True)
class ConstantRateAnalysis(Extras):
    """Offered against achieved rate (a constant-rate profile, or a soak's steady part)."""

    kind: ConstantRateKind = "constant-rate"
    offered_rps: float | None = None
    achieved_rps: float = 0.0
    achieved: float | None = None          # achieved / offered
    late: int = 0
    error_rate: float = 0.0
    headline: str = ""


@dataclass(frozen=True, kw_only=True)
class SoakWindow:
    """A run of consecutive seconds of a soak: counts, error rate, weighted p99, rps."""

    start_s: float | None = field(default=None, metadata=OMIT_HERE)   # in ``windows`` only
    seconds: int
    requests: int
    errors: int
    error_rate: float | None
    p99_ms: float | None
    rps: float | None


Trend = Literal["rising", "falling", "flat"]


@dataclass(frozen=True, kw_only=True)
class SoakAnalysis(Extras):
    """Drift over a long constant load: the first window against the last."""

    kind: Literal["soak"] = "soak"
    window_s: int | None = None
    first: SoakWindow | None = None
    last: SoakWindow | None = None
    windows: tuple[SoakWindow, ...] = ()
    p99_drift_ms: float | None = None
    p99_drift: float | None = None         # relative: last / first - 1
    error_rate: float | None = None
    error_trend: Trend | None = None
    error_rate_slope_per_min: float | None = None
    headline: str = ""
    steady: ConstantRateAnalysis | None = field(default=None, metadata=OMIT_HERE)


@dataclass(frozen=True, kw_only=True)
class SpikeAnalysis(Extras):
    """How bad a sudden burst got and how fast the service came back."""

    kind: Literal["spike"] = "spike"
    spike_stage: int | None = None
    spike_load: int | float | None = None      # rate (rps) or concurrency
    baseline_p99_ms: float | None = None
    peak_p99_ms: float | None = None
    peak_max_ms: float | None = None
    peak_1s_p99_ms: float | None = None
    spike_requests: int = 0
    spike_errors: int = 0
    spike_error_rate: float = 0.0
    spike_error_kinds: dict[str, int] = field(default_factory=dict)
    recovery: Recovery | None = None
    recovery_s: float | None = None
    headline: str = ""


@dataclass(frozen=True, kw_only=True)
class SummaryAnalysis(Extras):
    """A profile kind with no analysis of its own: the summary in one line."""

    kind: str = ""
    headline: str = ""


__all__ = [
    "BatchRow",
    "ConstantRateAnalysis",
    "ConstantRateKind",
    "FirstSecond",
    "LatencyAnalysis",
    "SoakAnalysis",
    "SoakWindow",
    "SpikeAnalysis",
    "SummaryAnalysis",
    "ThroughputAnalysis",
    "Trend",
]
