"""Command-line overrides (--duration, --concurrency, --rate, --profile, --sla) on a Scenario.

Where it sits: the CLI loads the scenario, then calls ``apply_overrides`` before
running. Pure: a new frozen Scenario comes back. What each flag changes:

* ``duration_s``: a single-stage profile's duration (latency: replaces ``requests``;
  throughput without stability, constant-rate, soak); ramp/stress/search: each step's
  ``stage_duration``; spike: the steady phases before and after the spike.
* ``concurrency``: throughput and closed-model soak profiles (latency stays at its
  own concurrency; ramp keeps its steps).
* ``rate``: constant-rate, open-model soak, and a spike's base rate (stress keeps
  its steps).
* ``profiles``: run only these, in the scenario's order.
* ``sla``: ADDS each rule to every profile's rules, except that it replaces a rule
  with the same metric and operator (``--sla 'p99 < 100ms'`` replaces the scenario's
  ``p99 < 200ms``; the scenario's other rules still judge). The scenario's
  ``notes`` say which rule each ``--sla`` added or replaced, and the result keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from loadkit.errors import ScenarioError, SlaSyntaxError
from loadkit.scenario.fields import did_you_mean
from loadkit.scenario.model import ProfileSpec, Scenario, merge_rules
from loadkit.scenario.streaming import SLO_METRICS, slo_rule_without_slo
from loadkit.sla import Rule, parse_rule


def _positive(flag: str, value: float | None) -> None:
    if value is not None and (isinstance(value, bool) or not value > 0):
        raise ScenarioError(flag, f"must be greater than 0 (got {value!r})")


def _duration(p: ProfileSpec, seconds: float) -> ProfileSpec:
    if p.kind == "latency":
        return replace(p, duration_s=seconds, requests=None)
    if p.kind in ("ramp", "stress", "search"):
        return replace(p, stage_duration_s=seconds)
    if p.kind == "spike":
        return replace(p, before_s=seconds, after_s=seconds)
    if p.kind == "soak" and p.window_s is not None and p.window_s * 2 > seconds:
        return replace(p, duration_s=seconds, window_s=seconds / 3)
    if p.kind == "throughput" and p.stability is not None:
        return replace(p, duration_s=seconds,
                       stability=replace(p.stability, max_duration_s=seconds))
    return replace(p, duration_s=seconds)


def _concurrency(p: ProfileSpec, n: int) -> ProfileSpec:
    if p.kind == "throughput" or (p.kind == "soak" and p.concurrency is not None):
        return replace(p, concurrency=n)
    return p


def _rate(p: ProfileSpec, rps: float) -> ProfileSpec:
    if p.kind in ("constant-rate", "spike") or (p.kind == "soak" and p.rate is not None):
        return replace(p, rate=rps)
    return p


def _select(profiles: tuple[ProfileSpec, ...], names: Sequence[str]) -> tuple[ProfileSpec, ...]:
    known = [p.name for p in profiles]
    for name in names:
        if name not in known:
            raise ScenarioError("--profile", f"no profile named {name!r}"
                                f"{did_you_mean(name, known)} (profiles: {', '.join(known)})")
    wanted = set(names)
    return tuple(p for p in profiles if p.name in wanted)


def _rules(exprs: Sequence[str]) -> list[Rule]:
    rules = []
    for expr in exprs:
        try:
            rule = parse_rule(expr)
        except SlaSyntaxError as exc:
            raise SlaSyntaxError(f"--sla: {exc}") from None
        if rule.stage is not None:
            raise SlaSyntaxError(f"--sla: {expr!r}: a stage belongs to one profile; scope the "
                                 "rule in that profile's sla in the scenario file")
        rules.append(rule)
    return rules


def _needs_slo(rules: Sequence[Rule], profile: ProfileSpec, scenario: Scenario) -> None:
    """``--sla goodput ...`` on a profile with no SLO bounds: refused before any load, as
    the same rule in the scenario file is (it could only end as "no data")."""
    if (profile.slo or scenario.slo) is not None:
        return
    for rule in rules:
        if rule.metric in SLO_METRICS:
            raise slo_rule_without_slo("--sla", rule.metric, profile.name)


def apply_overrides(scenario: Scenario, *, duration_s: float | None = None,
                    concurrency: int | None = None, rate: float | None = None,
                    profiles: Sequence[str] | None = None, sla: Sequence[str] = ()) -> Scenario:
    """A copy of ``scenario`` with the command line's overrides applied."""
    _positive("--duration", duration_s)
    _positive("--concurrency", concurrency)
    _positive("--rate", rate)
    if concurrency is not None and int(concurrency) != concurrency:
        raise ScenarioError("--concurrency", f"expected a whole number, got {concurrency!r}")
    chosen = _select(scenario.profiles, profiles) if profiles else scenario.profiles
    extra = _rules(sla)
    out = []
    for p in chosen:
        if duration_s is not None:
            p = _duration(p, float(duration_s))
        if concurrency is not None:
            p = _concurrency(p, int(concurrency))
        if rate is not None:
            p = _rate(p, float(rate))
        if extra:
            _needs_slo(extra, p, scenario)
            origin = "scenario" if p.sla_origin == "none" else p.sla_origin
            p = replace(p, sla=merge_rules(p.sla, extra), sla_origin=origin)
        out.append(p)
    notes = tuple(sla_note(rule, scenario.profiles) for rule in extra)
    return replace(scenario, profiles=tuple(out), sla=merge_rules(scenario.sla, extra),
                   notes=scenario.notes + notes)


def sla_note(rule: Rule, profiles: Sequence[ProfileSpec]) -> str:
    """What one ``--sla`` did: which rule it replaced (and where), or that it was added."""
    replaced: dict[str, list[str]] = {}
    for p in profiles:
        for r in p.sla:
            if (r.metric, r.op, r.abort, r.stage) == (rule.metric, rule.op, rule.abort, rule.stage):
                replaced.setdefault(r.expr, []).append(p.name)
    if not replaced:
        return f"--sla {rule.expr!r} was added to every profile's rules"
    parts = "; ".join(f"{old!r} in {', '.join(names)}" for old, names in replaced.items())
    return f"--sla {rule.expr!r} replaced {parts} (the other rules still judge)"
