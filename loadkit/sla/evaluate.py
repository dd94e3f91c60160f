"""SLA verdicts from a RunResult, and the run's pass / fail / inconclusive status.

Sits after the recorder: ``evaluate(rules_by_profile, result)`` reads only plain
RunResult data and returns one ``Verdict`` per (profile, rule); ``status_of`` turns
verdicts plus the generator's health into the status the CLI maps to an exit code.
``observe_interval`` is the same reading on a one-second ``Interval``, used live by
the runner for ``abort: true`` rules.

Policy (the choices a user needs to know):

* Warm-up stages never count: a profile is judged on ``ProfileResult.summary``,
  which covers measured stages only. A rule scoped to a stage (``rule.stage``) is
  judged on that stage alone; a warm-up stage has no data for SLA purposes.
* A rule with no data (0 requests, or a profile that never ran) FAILS, with reason
  "no data" (k6 lets it pass silently; we don't). Fewer than ``min_requests``
  requests makes the verdict inconclusive (``passed=False, inconclusive=True``).
* Ramp and stress profiles (``kind`` in {"ramp", "stress"}) push load *past* the
  point where the SLA can hold, so the profile-wide summary is meaningless. Each
  rule is judged per measured step (a stress profile's recovery stage is not a step):

  - latency and error-rate rules are judged on the FIRST (lightest) step with data:
    they pass when the service meets them at all; ``Verdict.stage`` is the index of
    the first step that broke the rule (None when none did), and the reason says
    so. How far load can go under the SLA is the analysis' job
    (``max_concurrency_under_sla`` / ``max_rate_under_sla``).
  - throughput and rows_per_s rules are judged at the operating point: the
    highest-load step where every latency/error-rate rule holds (the first step
    when none does), since a throughput floor is naturally missed at light load.

  Reasons speak of "step N" here and of "stage N" for stage-scoped rules only:
  ``loadkit.sla.scope`` relies on that to tell reports what a verdict was judged on.
* ``status_of`` precedence: ``fail`` when any verdict failed on enough data (a
  clear failure is worth exit 1 even if something else was shaky); otherwise
  ``inconclusive`` when any verdict is inconclusive, the generator fell behind, or
  a measured stage never stabilised; otherwise ``pass``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Literal

from loadkit.results.model import Interval, ProfileResult, RunResult, StageResult, Summary, Verdict
from loadkit.sla.server_rule import is_server_metric, read_server
from loadkit.sla.grammar import LATENCY_METRICS, STREAM_LATENCY_METRICS, Rule
from loadkit.sla.steps import load_of, split_steps

STEPPED_KINDS = frozenset({"ramp", "stress", "search"})
LOAD_BROKEN_METRICS = (frozenset(LATENCY_METRICS) | frozenset(STREAM_LATENCY_METRICS)
                       | {"error_rate", "slo_attainment"})


def observe(rule: Rule, data: StageResult | Summary) -> float | None:
    """The rule's metric read from a stage or summary, in the rule's unit; None when empty."""
    if is_server_metric(rule.metric):            # the target's own metrics (server_rule.py)
        return read_server(rule.metric, data)
    if data.requests <= 0:
        return None
    if rule.metric in LATENCY_METRICS:
        return float(getattr(data.latency_ms, rule.metric))
    if rule.metric == "error_rate":
        return data.errors / data.requests
    if rule.metric == "throughput":
        return float(data.throughput_rps)
    if rule.metric == "rows_per_s":
        return float(data.rows_per_s)
    return observe_stream(rule, data)


def observe_stream(rule: Rule, data: StageResult | Summary) -> float | None:
    """A streaming rule's metric (``ttft_p99``, ``goodput`` ...); None without stream data."""
    if not data.streamed:
        return None
    timing, _, stat = rule.metric.partition("_")
    if rule.metric in STREAM_LATENCY_METRICS:
        summary = getattr(data, f"{timing}_ms")
        hist_count = data.stream_hist(timing).count
        return float(getattr(summary, stat)) if summary is not None and hist_count else None
    value = {"output_tokens_per_s": data.output_tokens_per_s, "goodput": data.goodput_rps,
             "slo_attainment": data.slo_attainment}.get(rule.metric)
    return None if value is None else float(value)


_INTERVAL_FIELDS = {"p50": "p50_ms", "p90": "p90_ms", "p95": "p95_ms", "p99": "p99_ms",
                    "max": "max_ms"}


def observe_interval(rule: Rule, interval: Interval) -> float | None:
    """The rule's metric over one second, for abort-on-fail; None when a second can't tell.

    A second keeps only p50/p90/p95/p99/max, error count and rps: ``mean``, ``p999``
    and ``rows_per_s`` are not observable live, nor is any latency in an empty second.
    """
    if rule.metric == "throughput":
        return float(interval.rps)
    if interval.requests <= 0:
        return None
    if rule.metric == "error_rate":
        return interval.errors / interval.requests
    field = _INTERVAL_FIELDS.get(rule.metric)
    return float(getattr(interval, field)) if field else None


def _fmt(rule: Rule, value: float) -> str:
    if rule.metric == "error_rate":
        return f"{value * 100:.3g}%"
    if rule.unit == "ms":
        return f"{value:.4g} ms"
    return f"{value:.4g} {rule.unit}"


def _verdict(profile: str, rule: Rule, observed: float | None, requests: int,
             min_requests: int, *, stage: int | None = None, where: str = "") -> Verdict:
    base = Verdict(profile=profile, expr=rule.expr, metric=rule.metric, observed=observed,
                   threshold=rule.threshold, passed=False, unit=rule.unit, stage=stage)
    at = f" {where}" if where else ""
    if observed is None or requests <= 0:
        return replace(base, observed=None, reason=f"no data{at}")
    if requests < min_requests:
        return replace(base, inconclusive=True,
                       reason=f"only {requests} requests{at} (need {min_requests})")
    return replace(base, passed=rule.holds(observed), reason=where)


def load_steps(profile: ProfileResult) -> list[StageResult]:
    """Measured load steps with data of a ramp/stress profile (recovery stages left out);
    a search's probes lightest first (it ran them out of order: growth, then bisection)."""
    steps = [s for s in split_steps(profile)[0] if s.requests > 0]
    if profile.kind == "search":
        steps.sort(key=lambda s: (load_of(s), s.index))
    return steps


def _step_name(profile: ProfileResult, step: StageResult) -> str:
    if step.concurrency is not None and profile.kind == "ramp":
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
        return _verdict(profile.name, rule, None, 0, min_requests)
    if rule.metric in LOAD_BROKEN_METRICS:
        judged = steps[0]
        broken = next((s for s in steps if not _holds_on(rule, s)), None)
        v = _verdict(profile.name, rule, observe(rule, judged), judged.requests, min_requests,
                     stage=broken.index if broken else None,
                     where=f"at {_step_name(profile, judged)}")
        if broken is not None and broken is not judged and v.reason and v.observed is not None:
            seen = observe(rule, broken)
            tail = f"; first broken at {_step_name(profile, broken)}"
            if seen is not None:
                tail += f": {_fmt(rule, seen)}"
            v = replace(v, reason=v.reason + tail)
        elif v.observed is not None and not v.inconclusive:
            v = replace(v, reason=v.reason + "; held at every step")
        return v
    judged = operating_point(steps, rules) or steps[0]
    v = _verdict(profile.name, rule, observe(rule, judged), judged.requests, min_requests,
                 where=f"at the operating point, {_step_name(profile, judged)}")
    return v if v.passed else replace(v, stage=judged.index)


def evaluate_profile(profile: ProfileResult, rules: Sequence[Rule], *,
                     min_requests: int = 1) -> tuple[Verdict, ...]:
    """Verdicts of one profile's rules (see the module docstring for the policy)."""
    out: list[Verdict] = []
    for rule in rules:
        if rule.stage is not None:
            stage = next((s for s in profile.stages if s.index == rule.stage), None)
            if stage is None or stage.warmup:
                why = "is a warm-up stage" if stage is not None else "did not run"
                out.append(_verdict(profile.name, rule, None, 0, min_requests,
                                    stage=rule.stage, where=f"(stage {rule.stage} {why})"))
                continue
            out.append(_verdict(profile.name, rule, observe(rule, stage), stage.requests,
                                min_requests, stage=rule.stage, where=f"in stage {rule.stage}"))
        elif profile.kind in STEPPED_KINDS:
            out.append(_stepped_verdict(profile, rule, rules, min_requests))
        else:
            s = profile.summary
            out.append(_verdict(profile.name, rule, observe(rule, s), s.requests, min_requests,
                                where=f"over {s.requests} requests" if s.requests else ""))
    return tuple(out)


def evaluate(rules_by_profile: Mapping[str, Sequence[Rule]], result: RunResult, *,
             min_requests: int = 1) -> tuple[Verdict, ...]:
    """One Verdict per (profile, rule); a profile with rules that never ran fails "no data"."""
    by_name = {p.name: p for p in result.profiles}
    out: list[Verdict] = []
    for name, rules in rules_by_profile.items():
        profile = by_name.get(name)
        if profile is None:
            out.extend(_verdict(name, r, None, 0, min_requests, where="(profile did not run)")
                       for r in rules)
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
    return [f"{p.name}: {p.analysis['indeterminate']}" for p in result.profiles
            if p.kind == "search" and p.analysis.get("indeterminate")]


def unstable_stages(result: RunResult) -> list[str]:
    """One line per measured stage whose stability windows never agreed."""
    return [f"{p.name}: stage {s.index} ({s.label}) never stabilised"
            for p in result.profiles for s in p.measured_stages() if s.stable is False]


def status_of(verdicts: Sequence[Verdict], result: RunResult
              ) -> Literal["pass", "fail", "inconclusive"]:
    """fail (a rule failed on enough data) > inconclusive > pass."""
    if any(not v.passed and not v.inconclusive for v in verdicts):
        return "fail"
    if inconclusive_reasons(verdicts, result):
        return "inconclusive"
    return "pass"
