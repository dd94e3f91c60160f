"""Analysis records any profile kind may carry: the target's cold start, recovery after
an overload, what the server's own metrics said, and latency by input.

Plain frozen data written by ``loadkit.analysis`` (``judge`` stores it under a profile's
``analysis``) and read by reporters by attribute. Field names are result.json's keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from loadkit.results.fields import OMIT

RecoveryStatus = Literal["recovered", "did not recover", "unknown"]


@dataclass(frozen=True)
class ColdStart:
    """How long a just-started target took (measured by the runner before a latency
    profile): accepting connections, answering its readiness path, the first request."""

    connect_s: float | None = None
    ready_s: float | None = None
    first_request_ms: float | None = None


@dataclass(frozen=True)
class Recovery:
    """Recovery after an overload (stress: after the heaviest step; spike: after the spike)."""

    status: RecoveryStatus
    seconds: float | None           # None unless recovered
    threshold_ms: float             # the 1-second p99 bound it had to get back under
    reason: str

    def __post_init__(self) -> None:
        # Kept to the microsecond, as every latency in result.json.
        object.__setattr__(self, "threshold_ms", round(self.threshold_ms, 3))

    @property
    def recovered(self) -> bool:
        return self.status == "recovered"

    def words(self) -> str:
        """Short phrase for headlines: "recovered in 3 s" / "did not recover"."""
        if self.status == "recovered":
            return f"recovered in {self.seconds:.3g} s"
        if self.status == "did not recover":
            return "did not recover"
        return "recovery unknown"


@dataclass(frozen=True)
class GaugeAt:
    """A queue or in-flight gauge over one step: its mean and its maximum."""

    mean: float | None
    max: float | None


@dataclass(frozen=True)
class ServerTurn:
    """The queue/in-flight gauges at the turning step (knee, breaking point) and before it."""

    step: int
    gauges: dict[str, GaugeAt]
    before: dict[str, GaugeAt]
    before_step: int | None


@dataclass(frozen=True)
class Ceiling:
    """The first gauge that reached its plateau, the step it reached it and its value."""

    series: str
    step: int
    ceiling: float


@dataclass(frozen=True)
class ServerMove:
    """One series' change between the first and the last measured step."""

    series: str
    kind: str               # gauge | counter | histogram
    stat: str               # mean (gauges) | rate_per_s
    first: float
    last: float
    change: float | None    # relative; None when it started at 0


@dataclass(frozen=True)
class ServerAnalysis:
    """``analysis.server``: what the target's own metrics said (issue 17)."""

    moved: tuple[ServerMove, ...] = ()
    at: ServerTurn | None = None              # ramp / stress: at the knee / breaking point
    first_ceiling: Ceiling | None = None      # ramp / stress / search
    chart: tuple[str, ...] = ()               # series a report charts beside the client's
    headline: str = ""


@dataclass(frozen=True)
class BucketRow:
    """One input bucket, its stages added up: counts and the successes' p50/p99."""

    label: str
    lo: float
    hi: float
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class BreakdownGroup:
    """Stages whose buckets share edges (one batch size of a sweep, or every stage)."""

    scope: str                      # "" or e.g. "batch 8"
    stages: tuple[int, ...]
    buckets: tuple[BucketRow, ...]
    line: str                       # the sentence: which inputs are slow


@dataclass(frozen=True)
class BreakdownAnalysis:
    """``analysis.breakdown``: latency by input bucket, per group, and one sentence."""

    key: str                        # payload_bytes, a column, or len(COL)
    unit: str
    groups: tuple[BreakdownGroup, ...]
    line: str


@dataclass(frozen=True, kw_only=True)
class Extras:
    """Mixed into every kind's record: server metrics and latency by input, when measured."""

    server: ServerAnalysis | None = field(default=None, metadata=OMIT)
    breakdown: BreakdownAnalysis | None = field(default=None, metadata=OMIT)


__all__ = [
    "BreakdownAnalysis",
    "BreakdownGroup",
    "BucketRow",
    "Ceiling",
    "ColdStart",
    "Extras",
    "GaugeAt",
    "Recovery",
    "RecoveryStatus",
    "ServerAnalysis",
    "ServerMove",
    "ServerTurn",
]
