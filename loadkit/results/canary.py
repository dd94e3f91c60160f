"""What ``loadkit canary`` decided: a CanaryResult, its stages, their criteria, and its config.

Where it sits: value types several rooms read (DESIGN.md: they live in ``results/``).
``loadkit.analysis.canary`` decides each stage, ``loadkit.canary`` runs the rehearsal
and builds the CanaryResult; the canary reporters and the CLI read it; the scenario's
``canary:`` block (``loadkit.scenario.gate_schema``) builds its ``CanaryConfig``.

A decision maps through the one ``Status``: promote is a pass (exit 0), rollback a
fail (exit 1), hold inconclusive (exit 4); an interrupted rehearsal is interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from loadkit.results.model import Verdict
from loadkit.results.status import Status

Decision = Literal["promote", "hold", "rollback"]
CriterionStatus = Literal["pass", "hold", "rollback"]
AgreementMode = Literal["auto", "exact", "tolerance", "top_label"]
AGREEMENT_MODES: tuple[AgreementMode, ...] = ("auto", "exact", "tolerance", "top_label")


@dataclass(frozen=True)
class CanaryStage:
    """One step of the rollout: the candidate's traffic share, for how long, on how much."""

    share: float                 # 0 < share <= 1
    duration_s: float = 30.0
    min_requests: int = 100      # per side, to be allowed to promote


DEFAULT_STAGES = (CanaryStage(0.01, 30.0, 50), CanaryStage(0.05, 30.0, 100),
                  CanaryStage(0.25, 30.0, 200), CanaryStage(1.0, 30.0, 200))


@dataclass(frozen=True)
class CanaryConfig:
    """The ``canary:`` block; every field has a default, so ``{}`` is a valid block."""

    stages: tuple[CanaryStage, ...] = DEFAULT_STAGES
    profile: str | None = None           # whose load to split (default: the first profile)
    rate: float | None = None            # total rps, overriding the profile's
    concurrency: int | None = None       # total workers, overriding the profile's
    min_side_rps: float = 20.0           # floor for each side (open model); see loadkit.canary
    warmup_s: float = 1.0                # unjudged warm-up before each stage, on both sides
    rollback_p99_ratio: float = 2.0
    promote_p99_ratio: float = 1.2
    rollback_error_rate_pp: float = 5.0
    promote_error_rate_pp: float = 1.0
    min_agreement: float = 0.95
    agreement_sample: int = 50           # inputs sent to both per stage
    agreement_mode: AgreementMode = "auto"
    agreement_tolerance: float = 1e-6
    alpha: float = 0.05
    seed: int = 0


@dataclass(frozen=True)
class AgreementSample:
    """Inputs sent to both versions: how many answered on both sides, how many agreed."""

    compared: int = 0
    matched: int = 0
    failed: int = 0                        # an input either side did not answer properly
    mode: str = "auto"
    mismatches: tuple[str, ...] = ()       # a few short examples, for the report

    @property
    def share(self) -> float | None:
        return self.matched / self.compared if self.compared else None


@dataclass(frozen=True)
class Criterion:
    """One rule of one stage: the observed value, the thresholds and what it says."""

    name: str                      # requests | p99_ratio | error_rate | agreement
    value: float | None
    promote_threshold: float | None
    rollback_threshold: float | None
    status: CriterionStatus
    detail: str
    p_value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class StageOutcome:
    """What one canary stage measured and decided (and why)."""

    index: int
    share: float
    duration_s: float
    decision: Decision
    reason: str
    criteria: tuple[Criterion, ...]
    baseline_requests: int
    candidate_requests: int
    baseline_rps: float
    candidate_rps: float
    baseline_p99_ms: float
    candidate_p99_ms: float
    baseline_error_rate: float
    candidate_error_rate: float
    agreement: AgreementSample = field(default_factory=AgreementSample)
    baseline_load: str = ""        # e.g. "rate 99 rps", as asked
    candidate_load: str = ""
    baseline_window_p99_ms: tuple[float, ...] = ()
    candidate_window_p99_ms: tuple[float, ...] = ()
    # Each arm judged as a run is (``judge()``: the scenario's per-request rules, the
    # same verdicts and Status as ``loadkit run``); None when no arm was judged.
    baseline_status: Status | None = None
    candidate_status: Status | None = None
    verdicts: tuple[Verdict, ...] = ()     # both arms' (profile "baseline" / "candidate")

    def criterion(self, name: str) -> Criterion:
        for c in self.criteria:
            if c.name == name:
                return c
        raise KeyError(name)


_DECISIONS: dict[Decision, Status] = {"promote": Status.PASS, "rollback": Status.FAIL,
                                      "hold": Status.INCONCLUSIVE}


def status_of_decision(decision: Decision) -> Status:
    """promote is a pass, rollback a fail, hold inconclusive (one Status, one exit map)."""
    return _DECISIONS[decision]


def decision_of_status(status: Status) -> Decision:
    """The other way: pass promotes, fail rolls back, anything else (inconclusive, an
    error, an interruption) holds -- never a promotion on what could not be decided."""
    return next((d for d, s in _DECISIONS.items() if s == status and d != "hold"), "hold")


def criterion_of_status(status: Status) -> CriterionStatus:
    """A criterion's own word for a Status: pass, hold or rollback."""
    decision = decision_of_status(status)
    return "pass" if decision == "promote" else decision


@dataclass(frozen=True)
class CanaryResult:
    """The whole rehearsal: every stage that ran, the decision and why."""

    scenario: str
    baseline_url: str                 # credentials and query tokens removed
    candidate_url: str
    config: CanaryConfig
    load: str                         # the total load that was split, e.g. "rate 100 rps"
    stages: tuple[StageOutcome, ...]
    decision: Decision
    reason: str
    started_at: float
    finished_at: float
    interrupted: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def status(self) -> Status:
        return Status.INTERRUPTED if self.interrupted else status_of_decision(self.decision)

    @property
    def exit_code(self) -> int:
        return self.status.exit_code


__all__ = ["AGREEMENT_MODES", "DEFAULT_STAGES", "AgreementMode", "AgreementSample",
           "CanaryConfig", "CanaryResult", "CanaryStage", "Criterion", "CriterionStatus",
           "Decision", "StageOutcome", "criterion_of_status", "decision_of_status",
           "status_of_decision"]
