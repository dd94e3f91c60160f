"""How a verdict reads in every report: observed against threshold, where it was judged
(the profile, a stage, the lightest step and the first that broke it, the operating
point) and the rule's name. Reads the verdict's structured fields only (``scope``,
``judged_stage``, ``first_broken_stage``), never its prose.
"""

from __future__ import annotations

from loadkit.reporters._common import fmt_metric, stage_load, stage_of
from loadkit.results.model import ProfileResult, RunResult, Verdict


def relation(observed: float, threshold: float) -> str:
    if observed > threshold:
        return ">"
    if observed < threshold:
        return "<"
    return "="


def verdict_message(v: Verdict, *, with_reason: bool = True) -> str:
    """``observed 212 ms > threshold 200 ms`` (what JUnit puts in its failure message).

    ``with_reason=False`` leaves out a pass/fail verdict's reason, for a table that
    already shows where it was judged (``verdict_scope``); an inconclusive verdict
    always says why.
    """
    thr = fmt_metric(v.metric, v.threshold, v.unit)
    if v.observed is None:
        text = f"no data: no measured request to judge (threshold {thr})"
    else:
        obs = fmt_metric(v.metric, v.observed, v.unit)
        text = f"observed {obs} {relation(v.observed, v.threshold)} threshold {thr}"
    if v.inconclusive:
        text = f"inconclusive: {v.reason or 'the run cannot decide'} ({text})"
    elif v.reason and with_reason:
        text = f"{text}; {v.reason}"
    return text


def _profile_of(result: RunResult, v: Verdict) -> ProfileResult | None:
    return next((p for p in result.profiles if p.name == v.profile), None)


def _step(profile: ProfileResult | None, index: int | None) -> str:
    stage = stage_of(profile, index)
    return f"step {index}" + (f" ({stage_load(stage)})" if stage is not None else "")


def _observed_at(v: Verdict) -> str:
    """``: 41.3 ms``, the rule's metric on the step that first broke it ("" when unknown)."""
    value = v.broken_observed
    return f": {fmt_metric(v.metric, value, v.unit)}" if value is not None else ""


def verdict_scope(result: RunResult, v: Verdict) -> str:
    """What a verdict was judged on, in words; "" for the profile's measured stages together.

    ``in step 2 (c=4)`` (a rule scoped to a stage), ``judged on step 1 (c=1); first
    broken at step 6 (c=32): 41.3 ms`` (a ramp/stress latency or error-rate rule: judged on
    the lightest step; the step that broke it is where the service stopped meeting
    it, not what was judged), ``judged at the operating point, step 4 (c=8)``
    (a ramp/stress throughput rule). The verdict's structured fields say it (``scope``,
    ``judged_stage``, ``first_broken_stage``); nothing is read back from its prose.
    """
    profile = _profile_of(result, v)
    if v.scope == "stage":
        return f"in {_step(profile, v.judged_stage)}"
    if v.scope == "steps":
        if v.judged_stage is None:
            return ""
        text = f"judged on {_step(profile, v.judged_stage)}"
        if v.first_broken_stage is not None and v.first_broken_stage != v.judged_stage:
            text += f"; first broken at {_step(profile, v.first_broken_stage)}{_observed_at(v)}"
        elif v.first_broken_stage is None and v.passed:
            text += "; held at every step"
        return text
    if v.scope == "operating_point":
        at = f", {_step(profile, v.judged_stage)}" if v.judged_stage is not None else ""
        return f"judged at the operating point{at}"
    return ""


def verdict_detail(result: RunResult, v: Verdict) -> str:
    """``observed 212 ms > threshold 200 ms; in step 2 (c=4)``: the verdict and where it
    was judged (from its structured scope), else its prose (``over 950 successful
    requests``). What a JUnit message says."""
    scope = verdict_scope(result, v)
    if not scope or v.inconclusive:
        return verdict_message(v)
    return f"{verdict_message(v, with_reason=False)}; {scope}"


def verdict_rule(result: RunResult, v: Verdict) -> tuple[str, str]:
    """(the rule, what follows it in a table): ``("p99 < 30ms", " @ step 2 (c=4)")`` for a
    rule scoped to a stage, ``("p99 < 30ms", " (judged on step 1 (c=1); ...)")`` otherwise."""
    scope = verdict_scope(result, v)
    if v.default:
        return v.expr, " (the default rule: the scenario has no sla:)"
    if not scope:
        return v.expr, ""
    if scope.startswith("in step "):
        return v.expr, f" @ {scope.removeprefix('in ')}"
    return v.expr, f" ({scope})"


def rule_name(result: RunResult, v: Verdict) -> str:
    """A verdict's stable name (a JUnit test name): the rule, plus the stage it is scoped to.

    Where a stepped rule first broke changes from run to run, so it stays out of the
    name (CI tools track a test's history by its name) and goes in the message.
    """
    expr, suffix = verdict_rule(result, v)
    return expr + suffix if suffix.startswith(" @ ") else expr
