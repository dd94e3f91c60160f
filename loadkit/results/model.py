"""The RunResult: the plain, versioned value everything after the engine reads.

Frozen dataclasses only. Each stage keeps its full HDR histogram in the standard
encoding (``histogram``), so results from several processes or machines merge
exactly and any report can be re-rendered later. ``analysis`` is a typed record per
profile kind (``results/analysis``) derived by ``loadkit.analysis`` through ``judge``;
reporters read its attributes but never compute it.

Schema v2: a stage's ``latency_ms`` / ``histogram`` / ``throughput_rps`` describe the
requests that SUCCEEDED (what latency and throughput rules judge); ``latency_all_ms``
/ ``histogram_all`` keep every request, errors included. A result also stores what
judging needs (each profile's rules, their origin, its stop condition and soak
window; each stage's ``role``), so ``loadkit.judge.judge`` derives the same verdicts
from a run, a merge, a re-render or a Locust-made result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from loadkit.results.analysis import Analysis, ColdStart
from loadkit.results.fields import EMPTY_AS_NONE, OMIT
from loadkit.results.figures import LatencySummary as LatencySummary
from loadkit.results.figures import StreamFigures as StreamFigures
from loadkit.results.figures import StreamSecond as StreamSecond
from loadkit.results.figures import check_counts as check_counts
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.kinds import ERROR_KINDS as ERROR_KINDS
from loadkit.results.run_info import Environment as Environment
from loadkit.results.run_info import GeneratorHealth as GeneratorHealth
from loadkit.results.run_info import ScenarioInfo as ScenarioInfo
from loadkit.results.server import ScrapeStats, ServerPoint, ServerSeries
from loadkit.results.search import SearchRecord
from loadkit.results.status import Status

SCHEMA = "loadkit.result/v2"
SCHEMA_V1 = "loadkit.result/v1"

# A stage's role (a field, never read from its label): warm-up stages are recorded
# but never judged; recovery stages (after a stress profile's heaviest step) are not
# load steps; probes are capacity-search stages.
StageRole = str
ROLES = ("warmup", "measured", "recovery", "probe")
# Where a profile's rules came from: the scenario (``sla:`` given), the default rule
# (no ``sla:`` anywhere: ``error_rate < 1%``), or nothing (``sla: []``: nothing gated).
SlaOrigin = Literal["scenario", "default", "none"]
DEFAULT_RULE = "error_rate < 1%"


@dataclass(frozen=True)
class Interval(StreamSecond):
    """What happened in one wall-clock second of a profile (memory stays flat).

    ``requests = ok + errors``; ``rps`` and the percentiles are the successes' (v2).
    """

    t: float                 # wall-clock start of the second (unix seconds, whole)
    elapsed_s: float         # seconds since the profile started
    stage: int               # index of the stage running in that second
    requests: int
    ok: int
    errors: int
    rps: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    def __post_init__(self) -> None:
        check_counts(f"second {self.t:g}", self.requests, self.ok, self.errors)


@dataclass(frozen=True)
class BreakdownBucket:
    """Latency of the requests whose input fell in one quantile bucket (latency by input).

    ``key`` is what was measured per body (``payload_bytes``, a column, or
    ``len(COL)`` for a text column); ``lo``/``hi`` the lowest and highest key of
    the bodies in the bucket. Buckets of the same stage in several results merge
    only when their keys and edges agree.
    """

    key: str
    label: str
    lo: float
    hi: float
    requests: int
    errors: int
    latency_ms: LatencySummary
    histogram: str
    unit: str = ""
    overflow: int = 0

    def hist(self) -> LatencyHistogram:
        return LatencyHistogram.decode(self.histogram, self.overflow)


@dataclass(frozen=True)
class StageResult(StreamFigures):
    """One stage as measured: its load, its counts and its full histogram."""

    _omit_when_empty: ClassVar[frozenset[str]] = frozenset({"server_metrics", "server_scrapes"})

    index: int
    label: str
    concurrency: int | None
    rate: float | None
    warmup: bool
    duration_s: float
    requests: int
    ok: int
    errors: int
    error_kinds: dict[str, int]
    late: int
    throughput_rps: float
    rows_per_s: float
    latency_ms: LatencySummary
    histogram: str
    batch_size: int = 1
    started_at: float = 0.0                     # unix seconds
    status_codes: dict[str, int] = field(default_factory=dict)
    overflow: int = 0                           # latencies above 1 h, clamped and counted
    stable: bool | None = None                  # None: no stability windows were asked for
    in_flight_at_end: int = 0                   # requests abandoned when the stage stopped
    redirects: int = 0                          # redirect hops followed (each request timed
                                                # from its first send to its final answer)
    breakdown: tuple[BreakdownBucket, ...] = ()  # latency by input bucket, lowest key first
    # The target's own metrics over the stage (loadkit.telemetry; see results/server.py)
    server_metrics: dict[str, ServerSeries] = field(default_factory=dict)
    server_scrapes: tuple[ScrapeStats, ...] = ()
    role: StageRole = "measured"                # warmup | measured | recovery | probe | ...
    # Every request, errors included (``latency_ms``/``histogram`` are the successes').
    latency_all_ms: LatencySummary = field(default_factory=LatencySummary)
    histogram_all: str = ""
    overflow_all: int = 0
    # W3C Server-Timing: the duration the server reported for each request (HDR, us)
    server_timing_ms: LatencySummary | None = field(default=None, metadata=OMIT)
    server_timing_histogram: str = field(default="", metadata=OMIT)
    server_timing_missing: int = field(default=0, metadata=OMIT)  # answers without one
    # Per error kind, what its first failure in the stage was (``check_failed``:
    # ``json_has predictions missing``; ``http_4xx``: ``status 404``): the check to fix.
    first_errors: dict[str, str] = field(default_factory=dict, metadata=OMIT)

    def __post_init__(self) -> None:
        check_counts(f"stage {self.index} ({self.label})", self.requests, self.ok, self.errors,
                     self.error_kinds)

    def hist(self) -> LatencyHistogram:
        """The successful requests' histogram, decoded."""
        return LatencyHistogram.decode(self.histogram, self.overflow)

    def hist_all(self) -> LatencyHistogram:
        """Every request's histogram (errors included), decoded."""
        if not self.histogram_all:
            return self.hist()
        return LatencyHistogram.decode(self.histogram_all, self.overflow_all)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Summary(StreamFigures):
    """A profile's measured (non-warm-up) stages taken together."""

    _omit_when_empty: ClassVar[frozenset[str]] = frozenset({"server_metrics"})

    requests: int = 0
    ok: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    late: int = 0
    duration_s: float = 0.0
    throughput_rps: float = 0.0
    rows_per_s: float = 0.0
    latency_ms: LatencySummary = field(default_factory=LatencySummary)      # successes
    latency_all_ms: LatencySummary = field(default_factory=LatencySummary)  # every request
    server_metrics: dict[str, ServerSeries] = field(default_factory=dict)   # stages combined

    def __post_init__(self) -> None:
        check_counts("summary", self.requests, self.ok, self.errors, self.error_kinds)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class StopCondition:
    """A stress profile's ``stop_when``, kept in the result so a merge is judged as the run."""

    error_rate: float | None = None        # fraction 0..1
    p99_ms: float | None = None


@dataclass(frozen=True)
class ProfileResult:
    """One profile of the scenario: its stages, summary, per-second series and analysis."""

    _omit_when_empty: ClassVar[frozenset[str]] = frozenset({"server_timeseries", "search",
                                                            "cold_start"})

    name: str
    kind: str
    stages: tuple[StageResult, ...]
    summary: Summary
    timeseries: tuple[Interval, ...] = ()
    analysis: Analysis | None = field(default=None, metadata=EMPTY_AS_NONE)  # None: unjudged
    sla: tuple[str, ...] = ()                   # the rules that applied to this profile
    started_at: float = 0.0
    finished_at: float = 0.0
    server_timeseries: tuple[ServerPoint, ...] = ()   # one point per scrape (telemetry)
    search: SearchRecord | None = None          # search: its range and what ran between probes
    sla_origin: SlaOrigin = "scenario"          # scenario | default | none (sla: [])
    stop_when: StopCondition | None = None      # stress: when stepping up stopped
    window_s: float | None = None               # soak: the drift comparison window
    cold_start: ColdStart | None = None         # latency: the target's cold start (runner)

    def measured_stages(self) -> tuple[StageResult, ...]:
        return tuple(s for s in self.stages if not s.warmup and s.role != "warmup")


VerdictScope = Literal["profile", "stage", "steps", "operating_point"]


@dataclass(frozen=True)
class Verdict:
    """One SLA rule checked against one profile (or one stage of it).

    Structured scope (nobody parses ``reason`` or ``expr``): ``scope`` says what was
    judged -- the profile's measured stages together, one ``stage`` (a rule scoped to
    it), the ``steps`` of a ramp/stress (latency and error-rate rules: judged on the
    lightest step) or its ``operating_point`` (throughput rules). ``judged_stage`` is
    the stage the observed value was read on (None: the whole profile);
    ``first_broken_stage`` (steps) the first step that broke the rule and
    ``broken_observed`` the value there. ``default``: the rule is the default
    ``error_rate < 1%`` of a scenario without ``sla:``. ``reason`` is prose for people.
    """

    profile: str
    expr: str
    metric: str
    observed: float | None      # None: no data, which fails
    threshold: float
    passed: bool
    unit: str = ""
    inconclusive: bool = False  # e.g. too few requests to judge
    reason: str = ""
    judged_stage: int | None = None
    first_broken_stage: int | None = None
    broken_observed: float | None = None
    scope: VerdictScope = "profile"
    default: bool = False


@dataclass(frozen=True)
class PlannedProfile:
    """A profile the run set out to run, with the rules that were to judge it.

    A profile skipped after an abort or an interrupt is absent from ``profiles``; this
    is how the judge still knows its rules, and gives each a "did not run" verdict
    instead of letting them vanish. (result.json key ``planned``; files without it --
    v1, and v2 before it -- load with nothing planned, and are judged as before.)
    """

    name: str
    kind: str
    sla: tuple[str, ...] = ()                   # as ProfileResult.sla ("... @ stage N")
    sla_origin: SlaOrigin = "scenario"


@dataclass(frozen=True)
class RunResult:
    """Everything one run measured; round-trips through result.json without loss."""

    scenario: ScenarioInfo
    started_at: float
    finished_at: float
    profiles: tuple[ProfileResult, ...]
    environment: Environment = field(default_factory=Environment)
    health: GeneratorHealth = field(default_factory=GeneratorHealth)
    verdicts: tuple[Verdict, ...] = ()
    status: Status | None = None          # None: not judged yet (never a pass)
    partial: bool = False
    warnings: tuple[str, ...] = ()        # everything a report must say: notes + the judge's
    loadkit_version: str = ""
    schema: str = SCHEMA
    notes: tuple[str, ...] = ()           # what the measurement itself said (runner, merge)
    interrupted: bool = False             # Ctrl-C / SIGTERM: judged "interrupted"
    stopped_early: str = ""               # why the run ended early (abort rule, all errors)
    planned: tuple[PlannedProfile, ...] = field(default=(), metadata=OMIT)  # every profile to run

    def profile(self, name: str) -> ProfileResult:
        for p in self.profiles:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def judged(self) -> bool:
        return self.status is not None

    @property
    def passed(self) -> bool:
        """True only for a judged result whose status is pass."""
        return self.status == Status.PASS

    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result (an unjudged result exits 1)."""
        from loadkit.results.status import exit_code_of

        return exit_code_of(self.status)

    @property
    def failed_verdicts(self) -> tuple[Verdict, ...]:
        """Verdicts that failed on enough data (inconclusive ones are not failures)."""
        return tuple(v for v in self.verdicts if not v.passed and not v.inconclusive)

    @property
    def duration_s(self) -> float:
        return max(0.0, self.finished_at - self.started_at)
