"""``judge(result) -> RunResult``: the one place analysis, verdicts, status and warnings
are derived (DESIGN.md's flow: measured RunResult -> judge -> reporters / exit code).

Pure: it reads only what the result stores -- each profile's rules (``sla``, with a
stage scope written ``@ stage N``), where they came from (``sla_origin``), its stop
condition and soak window, each stage's ``role``, the generator's health, and the
run's own facts (``notes``, ``interrupted``, ``stopped_early``, and the ``planned``
profiles, so that a profile skipped after an abort or interrupt still gets a "did not
run" verdict per rule) -- so a run, a merge of several, a re-rendered result.json and a Locust-made result are judged
exactly alike. Judging twice gives the same result.

Status: ``interrupted`` when the run was interrupted; otherwise ``fail`` when a rule
failed on enough data or the run stopped early (an ``abort`` rule, or every request
failing at its start); otherwise ``inconclusive`` when something could not decide;
otherwise ``pass``. The exit code comes from ``Status.exit_code`` only.
"""

from __future__ import annotations

from dataclasses import replace

from loadkit.analysis import analyze
from loadkit.results.model import (
    DEFAULT_RULE,
    ProfileResult,
    RunResult,
    Verdict,
)
from loadkit.results.server_notes import scrape_notes
from loadkit.results.status import Status
from loadkit.sla import evaluate_profile, parse_rule, status_of
from loadkit.sla.evaluate import unstable_stages
from loadkit.sla.grammar import Rule

FELL_BEHIND = ("the generator fell behind its schedule: it, not the target, may have "
               "been the limit")


def rules_of(profile: ProfileResult) -> list[Rule]:
    """The rules a profile stored (``p99 < 30ms @ stage 2`` keeps its scope)."""
    return [parse_rule(text) for text in profile.sla]


def _mark_default(profile: ProfileResult, verdicts: tuple[Verdict, ...]) -> tuple[Verdict, ...]:
    if profile.sla_origin != "default":
        return verdicts
    return tuple(replace(v, default=True, reason=f"{v.reason}; the default rule (no sla: "
                                                 "in the scenario)")
                 if v.expr == DEFAULT_RULE and not v.default else v for v in verdicts)


def judge_profile(profile: ProfileResult) -> tuple[ProfileResult, tuple[Verdict, ...]]:
    """One profile's analysis and verdicts, from what it stores."""
    rules = rules_of(profile)
    if profile.stages:
        profile = replace(profile, analysis=analyze(profile, rules, stop_when=profile.stop_when,
                                                    soak_window_s=profile.window_s))
    return profile, _mark_default(profile, evaluate_profile(profile, rules))


def gate_warnings(result: RunResult) -> list[str]:
    """What every report must say about what gated (or did not gate) the run."""
    out: list[str] = []
    for p in result.profiles:
        if p.sla_origin == "none" and not p.sla:
            out.append(f"{p.name}: nothing was gated: the scenario says sla: [], so no rule "
                       "judged this profile")
        elif p.sla_origin == "default" and DEFAULT_RULE in p.sla:
            out.append(f"{p.name}: the scenario has no sla:, so the default rule "
                       f"{DEFAULT_RULE} judged it")
    return out


def _why_not_run(result: RunResult) -> str:
    if result.interrupted:
        return "the run was interrupted before it"
    if result.stopped_early:
        return "the run stopped early before it"
    return "it is not in the result"


def not_run(result: RunResult) -> tuple[list[Verdict], list[str]]:
    """A "did not run" verdict for each rule of each planned profile that is missing
    (skipped after an abort or an interrupt), and a warning per profile.

    Each verdict has no observation and is inconclusive: nothing was measured, so it
    cannot have passed. The run's status still says why it ended (fail when it stopped
    early, interrupted when interrupted); otherwise these make it inconclusive.
    """
    ran = {p.name for p in result.profiles}
    why = _why_not_run(result)
    verdicts: list[Verdict] = []
    warnings: list[str] = []
    for plan in result.planned:
        if plan.name in ran:
            continue
        rules = [parse_rule(text) for text in plan.sla]
        warnings.append(f"{plan.name}: did not run ({why}); " + (
            f"its {len(rules)} rule(s) were not judged" if rules else "it had no rule"))
        verdicts += [Verdict(profile=plan.name, expr=r.expr, metric=r.metric, observed=None,
                             threshold=r.threshold, passed=False, unit=r.unit,
                             inconclusive=True, reason=f"profile did not run: {why}",
                             scope="profile" if r.stage is None else "stage",
                             judged_stage=r.stage,
                             default=plan.sla_origin == "default" and r.expr == DEFAULT_RULE)
                     for r in rules]
    return verdicts, warnings


def judge(result: RunResult) -> RunResult:
    """``result`` with its analysis, verdicts, status and warnings derived afresh."""
    profiles: list[ProfileResult] = []
    verdicts: list[Verdict] = []
    for p in result.profiles:
        judged, found = judge_profile(p)
        profiles.append(judged)
        verdicts.extend(found)
    skipped, skipped_warnings = not_run(result)
    verdicts.extend(skipped)
    result = replace(result, profiles=tuple(profiles), verdicts=tuple(verdicts))
    warnings = list(result.notes)
    if result.stopped_early:
        warnings.append(result.stopped_early)
    if result.health.fell_behind:
        # One line; the reasons themselves are in health.reasons, which every report
        # lists beside the warnings.
        warnings.append(FELL_BEHIND)
    warnings += (unstable_stages(result) + scrape_notes(result) + gate_warnings(result)
                 + skipped_warnings)
    if result.interrupted:
        status = Status.INTERRUPTED
    else:
        status = status_of(result.verdicts, result)
        if result.stopped_early:
            status = Status.FAIL
    return replace(result, status=status, warnings=tuple(dict.fromkeys(warnings)))


__all__ = ["gate_warnings", "judge", "judge_profile", "not_run", "rules_of"]
