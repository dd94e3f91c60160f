"""SLA verdicts from a RunResult, and the run's pass / fail / inconclusive status.

Sits after the recorder: ``evaluate(rules_by_profile, result)`` reads only plain
RunResult data and returns one ``Verdict`` per (profile, rule); ``status_of`` turns
verdicts plus the generator's health into the status the CLI maps to an exit code.
``observe_interval`` is the same reading on a one-second ``Interval``, used live by
the runner for ``abort: true`` rules.

Policy (the choices a user needs to know):

* Rules judge what they name (schema v2): latency rules read the successful
  requests only (no success: no data, which fails), ``throughput`` counts
  successes a second, ``error_rate`` is errors over every request. The metrics
  are a table in ``loadkit.sla.metrics``.
* Warm-up stages never count: a profile is judged on ``ProfileResult.summary``,
  which covers measured stages only. A rule scoped to a stage (``rule.stage``) is
  judged on that stage alone; a warm-up stage has no data for SLA purposes.
* A rule with no data (0 requests, or a profile that never ran) FAILS, with reason
  "no data" (k6 lets it pass silently; we don't). Fewer than ``min_requests``
  requests makes the verdict inconclusive (``passed=False, inconclusive=True``).
* Ramp, stress and search profiles (``kind`` in {"ramp", "stress", "search"}) push
  load *past* the point where the SLA can hold, so the profile-wide summary is
  meaningless. A capacity search judges every rule at its answer (the highest load
  that held, its runs pooled; the lightest load when none held, inconclusive there
  when the search could not tell). Ramp and stress judge each rule per measured
  step (a stress profile's recovery stage is not a step):

  - latency and error-rate rules are judged on the FIRST (lightest) step with data:
    they pass when the service meets them at all; ``Verdict.judged_stage`` is that
    step and ``first_broken_stage`` the first step that broke the rule (None when
    none did). How far load can go under the SLA is the analysis' job
    (``max_concurrency_under_sla`` / ``max_rate_under_sla``).
  - throughput and rows_per_s rules are judged at the operating point: the
    highest-load step where every latency/error-rate rule holds (the first step
    when none does), since a throughput floor is naturally missed at light load.

  Every verdict says what it was judged on in structured fields (``scope``,
  ``judged_stage``, ``first_broken_stage``); ``reason`` is prose nobody parses.
* ``status_of`` precedence: ``fail`` when any verdict failed on enough data (a
  clear failure is worth exit 1 even if something else was shaky); otherwise
  ``inconclusive`` when any verdict is inconclusive, the generator fell behind, or
  a measured stage never stabilised; otherwise ``pass``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from loadkit.results.model import (
    Interval,
    ProfileResult,
    RunResult,
    StageResult,
    Summary,
    Verdict,
    VerdictScope,
)
from loadkit.results.aggregate import summarize
from loadkit.results.search import SearchAnalysis
from loadkit.results.status import Status
from loadkit.sla.grammar import Rule
from loadkit.sla.metrics import METRICS, metric
from loadkit.sla.steps import load_of, split_steps

STEPPED_KINDS = frozenset({"ramp", "stress", "search"})
LOAD_BROKEN_METRICS = frozenset(name for name, m in METRICS.items() if m.load_broken)


def observe(rule: Rule, data: StageResult | Summary) -> float | None:
    """The rule's metric read from a stage or summary, in the rule's unit; None when no data."""
    if data.requests <= 0:
        return None
    return metric(rule.metric).read(data)


def observe_interval(rule: Rule, interval: Interval) -> float | None:
    """The rule's metric over one second, for abort-on-fail; None when a second can't tell.

    A second keeps only p50/p90/p95/p99/max, counts and rps: ``mean``, ``p999`` and
    ``rows_per_s`` are not observable live, nor is any latency in a second without
    a success, nor an error rate in a second without requests (its throughput is 0).
    Each metric's ``live`` reading says so itself.
    """
    live = metric(rule.metric).live
    return live(interval) if live is not None else None


def _count(rule: Rule, data: StageResult | Summary) -> int:
    return metric(rule.metric).count(data)


def _no_data(profile: str, rule: Rule, *, scope: VerdictScope = "profile",
             judged: int | None = None, where: str = "") -> Verdict:
    """The verdict of a rule with nothing to judge: it fails (k6 lets it pass; we don't)."""
    at = f" {where}" if where else ""
    return Verdict(profile=profile, expr=rule.expr, metric=rule.metric, observed=None,
                   threshold=rule.threshold, passed=False, unit=rule.unit, scope=scope,
                   judged_stage=judged,
                   reason=f"no data: no {metric(rule.metric).over} to judge{at}")


def _verdict(profile: str, rule: Rule, data: StageResult | Summary, min_requests: int,
             *, scope: VerdictScope = "profile", judged: int | None = None,
             where: str = "") -> Verdict:
    """One verdict of ``rule`` on ``data``; ``where`` is prose."""
    base = _no_data(profile, rule, scope=scope, judged=judged, where=where)
    at = f" {where}" if where else ""
    counted = metric(rule.metric).counted
    observed = observe(rule, data)
    n = _count(rule, data)
    if observed is None or n <= 0:
        return base
    if n < min_requests:
        return replace(base, observed=observed, inconclusive=True,
                       reason=f"only {counted(n)}{at} (need {min_requests:,})")
    return replace(base, observed=observed, passed=rule.holds(observed),
                   reason=f"over {counted(n)}{at}")


def load_steps(profile: ProfileResult) -> list[StageResult]:
    """Measured load steps with data of a ramp/stress profile (recovery stages left out);
    a search's probes lightest first (it ran them out of order: growth, then bisection)."""
    steps = [s for s in split_steps(profile)[0] if s.requests > 0]
    if profile.kind == "search":
        steps.sort(key=lambda s: (load_of(s), s.index))
    return steps


def _step_name(profile: ProfileResult, step: StageResult) -> str:
    if step.concurrency is not None and profile.kind in ("ramp", "search"):
        return f"step {step.index} (concurrency {step.concurrency})"
    if step.rate is not None:
        return f"step {step.index} ({step.rate:g} rps offered)"
    return f"step {step.index}"


def _holds_on(rule: Rule, step: StageResult) -> bool:
    value = observe(rule, step)
    return value is not None and rule.holds(value)


def operating_point(steps: Sequence[StageResult], rules: Sequence[Rule]) -> StageResult | None:
    """The highest-load step where every latency/error-rate rule holds (None if none does)."""
    bounded = [r for r in rules if r.metric in LOAD_BROKEN_METRICS and r.stage is None]
    ok = [s for s in steps if all(_holds_on(r, s) for r in bounded)]
    return ok[-1] if ok else None


def _stepped_verdict(profile: ProfileResult, rule: Rule, rules: Sequence[Rule],
                     min_requests: int) -> Verdict:
    steps = load_steps(profile)
    if not steps:
        return _no_data(profile.name, rule, scope="steps")
    if rule.metric in LOAD_BROKEN_METRICS:
        judged = steps[0]
        broken = next((s for s in steps if not _holds_on(rule, s)), None)
        v = _verdict(profile.name, rule, judged, min_requests, scope="steps",
                     judged=judged.index, where=f"at {_step_name(profile, judged)}")
        if broken is None:
            return v
        return replace(v, first_broken_stage=broken.index, broken_observed=observe(rule, broken))
    judged = operating_point(steps, rules) or steps[0]
    return _verdict(profile.name, rule, judged, min_requests, scope="operating_point",
                    judged=judged.index,
                    where=f"at the operating point, {_step_name(profile, judged)}")


def _search_verdict(profile: ProfileResult, rule: Rule, min_requests: int) -> Verdict:
    """A capacity search's rule, judged at its answer: the highest load that held, its
    runs pooled (what the search itself judged; the bracket is in the analysis, which
    ``judge`` derives first). A search where no load held is judged at its lightest
    load, and is inconclusive there when the search could not tell (within noise, or
    a generator that could not drive it) rather than failed on one noisy run."""
    steps = load_steps(profile)
    if not steps:
        return _no_data(profile.name, rule, scope="operating_point")
    analysis = profile.analysis if isinstance(profile.analysis, SearchAnalysis) else None
    answer = analysis.bracket[0] if analysis is not None else None
    load = answer if answer is not None else load_of(steps[0])
    runs = [s for s in steps if load_of(s) == load] or steps[:1]
    data = summarize(runs)              # one run's summary reads as the run itself
    where = (f"at the answer, {_step_name(profile, runs[-1])}" if answer is not None
             else f"at the lightest probe, {_step_name(profile, runs[-1])}")
    v = _verdict(profile.name, rule, data, min_requests, scope="operating_point",
                 judged=runs[-1].index, where=where + (f", {len(runs)} runs pooled"
                                                       if len(runs) > 1 else ""))
    if rule.metric in LOAD_BROKEN_METRICS:
        broken = next((s for s in steps if not _holds_on(rule, s)), None)
        if broken is not None:
            v = replace(v, first_broken_stage=broken.index, broken_observed=observe(rule, broken))
    outcomes = {p.stage: p.outcome for p in (analysis.probes if analysis is not None else ())}
    unsure = outcomes.get(runs[-1].index) in ("undecided", "generator_bound")
    if answer is None and unsure and not v.passed and v.observed is not None:
        v = replace(v, inconclusive=True,
                    reason=v.reason + "; the search could not tell at this load")
    return v


def evaluate_profile(profile: ProfileResult, rules: Sequence[Rule], *,
                     min_requests: int = 1) -> tuple[Verdict, ...]:
    """Verdicts of one profile's rules (see the module docstring for the policy)."""
    out: list[Verdict] = []
    for rule in rules:
        if rule.stage is not None:
            stage = next((s for s in profile.stages if s.index == rule.stage), None)
            if stage is None or stage.warmup or stage.role == "warmup":
                why = "is a warm-up stage" if stage is not None else "did not run"
                out.append(_no_data(profile.name, rule, scope="stage", judged=rule.stage,
                                    where=f"(stage {rule.stage} {why})"))
                continue
            out.append(_verdict(profile.name, rule, stage, min_requests, scope="stage",
                                judged=rule.stage, where=f"in stage {rule.stage}"))
        elif profile.kind == "search":
            out.append(_search_verdict(profile, rule, min_requests))
        elif profile.kind in STEPPED_KINDS:
            out.append(_stepped_verdict(profile, rule, rules, min_requests))
        else:
            out.append(_verdict(profile.name, rule, profile.summary, min_requests))
    return tuple(out)


def evaluate(rules_by_profile: Mapping[str, Sequence[Rule]], result: RunResult, *,
             min_requests: int = 1) -> tuple[Verdict, ...]:
    """One Verdict per (profile, rule); a profile with rules that never ran fails "no data"."""
    by_name = {p.name: p for p in result.profiles}
    out: list[Verdict] = []
    for name, rules in rules_by_profile.items():
        profile = by_name.get(name)
        if profile is None:
            out.extend(_no_data(name, r, where="(profile did not run)") for r in rules)
            continue
        out.extend(evaluate_profile(profile, rules, min_requests=min_requests))
    return tuple(out)


def inconclusive_reasons(verdicts: Sequence[Verdict], result: RunResult) -> list[str]:
    """Why a run cannot decide, in words for the report (empty when it can)."""
    reasons = [f"{v.profile}: {v.expr}: {v.reason}" for v in verdicts if v.inconclusive]
    reasons += search_indeterminate(result)
    if result.health.fell_behind:
        reasons.append("the generator fell behind its schedule"
                       + (f" ({'; '.join(result.health.reasons)})" if result.health.reasons else ""))
    return reasons + unstable_stages(result)


def search_indeterminate(result: RunResult) -> list[str]:
    """One line per capacity search whose answer is a bracket or a lower bound, not the
    number asked for (its analysis, derived before the status, says why)."""
    return [f"{p.name}: {p.analysis.indeterminate}" for p in result.profiles
            if isinstance(p.analysis, SearchAnalysis) and p.analysis.indeterminate]


def unstable_stages(result: RunResult) -> list[str]:
    """One line per measured stage whose stability windows never agreed."""
    return [f"{p.name}: stage {s.index} ({s.label}) never stabilised"
            for p in result.profiles for s in p.measured_stages() if s.stable is False]


def status_of(verdicts: Sequence[Verdict], result: RunResult) -> Status:
    """fail (a rule failed on enough data) > inconclusive > pass."""
    if any(not v.passed and not v.inconclusive for v in verdicts):
        return Status.FAIL
    if inconclusive_reasons(verdicts, result):
        return Status.INCONCLUSIVE
    return Status.PASS
