"""Stress analysis: breaking point, maximum sustained rate under the SLA, how it
degrades step by step, and recovery time after the overload.

Reads one stress ProfileResult (open-model arrival-rate steps, then optionally a
low-rate recovery stage). A step *breaks* when any of these holds:

* its error rate reaches ``stop_when.error_rate`` or its p99 reaches ``stop_when.p99``;
* a profile-wide latency or error-rate SLA rule does not hold on it;
* the achieved throughput is below ``min_achieved`` (90%) of the offered rate.

The maximum sustained rate is the heaviest step before the breaking point that
broke nothing; its resolution is the step size. Peak goodput (successful
responses/s, best step) is reported beside it: past the break, a server that sheds
load with 503s still completes about its capacity, so goodput estimates the
ceiling between steps. Recovery is judged against the SLA's p99 bound, else
``stop_when.p99``, else twice the first step's p99 (see ``recovery.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from loadkit.analysis.recovery import (
    error_rate_limit,
    overload_end_t,
    p99_threshold_ms,
    recovery_time,
    stage_start_t,
)
from loadkit.results.analysis import Recovery, StressAnalysis, StressPoint, StressStep
from loadkit.results.model import ProfileResult, StageResult
from loadkit.sla.evaluate import LOAD_BROKEN_METRICS, observe
from loadkit.sla.grammar import Rule
from loadkit.sla.steps import split_steps
from loadkit.units import format_latency_ms, parse_fraction, parse_latency_us

REJECTED_KINDS = ("http_4xx", "http_5xx", "too_large")


class StopLimits(Protocol):
    """A stop condition as an object: the result's ``StopCondition`` or the scenario's
    ``StopWhen`` (an error-rate fraction and a p99 in ms, either may be None)."""

    @property
    def error_rate(self) -> float | None: ...

    @property
    def p99_ms(self) -> float | None: ...


StopWhenArg = StopLimits | Mapping[str, Any] | None


def parse_stop_when(stop_when: StopWhenArg) -> tuple[float | None, float | None]:
    """(error-rate fraction, p99 ms) from a profile's ``stop_when``.

    Accepts the scenario's parsed ``StopWhen`` (attributes ``error_rate`` as a
    fraction and ``p99_ms``), or a mapping in the scenario's spelling
    (``{error_rate: "10%", p99: "2s"}``) or with numbers: ``error_rate`` a fraction,
    ``p99_ms`` in ms, ``p99_s`` in seconds, a bare number under ``p99`` in ms.
    """
    if not stop_when:
        return None, None
    if not isinstance(stop_when, Mapping):
        err_attr = getattr(stop_when, "error_rate", None)
        p99_attr = getattr(stop_when, "p99_ms", None)
        return (float(err_attr) if err_attr is not None else None,
                float(p99_attr) if p99_attr is not None else None)
    err = stop_when.get("error_rate")
    err_f = parse_fraction(err) if err is not None else None
    p99_ms: float | None = None
    if stop_when.get("p99_ms") is not None:
        p99_ms = float(stop_when["p99_ms"])
    elif stop_when.get("p99_s") is not None:
        p99_ms = float(stop_when["p99_s"]) * 1000.0
    elif stop_when.get("p99") is not None:
        p99_ms = parse_latency_us(stop_when["p99"]) / 1000.0
    return err_f, p99_ms


def responses_rps(s: StageResult) -> float:
    """Responses of any outcome a second: what the server completed of the offered rate."""
    return round(s.requests / s.duration_s, 3) if s.duration_s > 0 else 0.0


def _broke(s: StageResult, rules: Sequence[Rule], stop_err: float | None,
           stop_p99: float | None, min_achieved: float) -> tuple[str, ...]:
    why: list[str] = []
    if stop_err is not None and s.error_rate >= stop_err:
        why.append(f"error rate {s.error_rate * 100:.3g}% >= stop_when {stop_err * 100:.3g}%")
    if stop_p99 is not None and s.latency_ms.p99 >= stop_p99:
        why.append(f"p99 {format_latency_ms(s.latency_ms.p99)} >= stop_when "
                   f"{format_latency_ms(stop_p99)}")
    for r in rules:
        if r.stage is None and r.metric in LOAD_BROKEN_METRICS:
            value = observe(r, s)
            if value is not None and not r.holds(value):
                why.append(f"SLA {r.expr} broken")
    if s.rate and responses_rps(s) < min_achieved * s.rate:
        why.append(f"achieved {responses_rps(s):.0f} of {s.rate:g} rps offered "
                   f"(< {min_achieved:.0%})")
    return tuple(why)


def stress_steps(profile: ProfileResult, rules: Sequence[Rule] = (),
                 stop_when: StopWhenArg = None,
                 min_achieved: float = 0.9) -> list[StressStep]:
    stop_err, stop_p99 = parse_stop_when(stop_when)
    out = []
    for s in split_steps(profile)[0]:
        if s.requests <= 0:
            continue
        kinds = dict(s.error_kinds)
        rejected = sum(kinds.get(k, 0) for k in REJECTED_KINDS)
        timed_out = kinds.get("timeout", 0)
        rate = float(s.rate) if s.rate else 0.0
        out.append(StressStep(
            index=s.index, rate=rate, throughput_rps=responses_rps(s),
            goodput_rps=s.throughput_rps,
            achieved=round(responses_rps(s) / rate, 4) if rate else 1.0,
            p50_ms=s.latency_ms.p50, p99_ms=s.latency_ms.p99, max_ms=s.latency_ms.max,
            error_rate=round(s.error_rate, 6), rejected=rejected, timed_out=timed_out,
            other_errors=s.errors - rejected - timed_out, late=s.late, error_kinds=kinds,
            broke=_broke(s, rules, stop_err, stop_p99, min_achieved)))
    return out


def stress_recovery(profile: ProfileResult, rules: Sequence[Rule], steps: Sequence[StressStep],
                    stop_when: StopWhenArg = None, hold_s: int = 3) -> Recovery | None:
    """Recovery after the last overload step, or None when the profile has no recovery stage."""
    load_steps, recovery_stages = split_steps(profile)
    if not recovery_stages:
        return None
    end_t = (overload_end_t(profile, load_steps[-1], recovery_stages[0]) if load_steps
             else stage_start_t(profile, recovery_stages[0]))
    rule = p99_threshold_ms(rules)
    _, stop_p99 = parse_stop_when(stop_when)
    if rule is not None:
        threshold, op = rule.threshold, rule.op
    elif stop_p99 is not None:
        threshold, op = stop_p99, "<"
    elif steps and steps[0].p99_ms > 0:
        threshold, op = 2 * steps[0].p99_ms, "<="
    else:
        return Recovery("unknown", None, 0.0, "no p99 threshold to recover under")
    if end_t is None:
        return Recovery("unknown", None, threshold, "no timeseries for the recovery stage")
    return recovery_time(profile.timeseries, overload_end_t=end_t, threshold_ms=threshold,
                         op=op, hold_s=hold_s, max_error_rate=error_rate_limit(rules))


def analyze_stress(profile: ProfileResult, rules: Sequence[Rule] = (),
                   stop_when: StopWhenArg = None) -> StressAnalysis:
    steps = stress_steps(profile, rules, stop_when)
    breaking = next((s for s in steps if s.broke), None)
    before = steps[:steps.index(breaking)] if breaking is not None else steps
    sustained = before[-1] if before else None
    recovery = stress_recovery(profile, rules, steps, stop_when)
    peak = max(steps, key=lambda s: s.goodput_rps) if steps else None
    return StressAnalysis(
        steps=tuple(steps),
        breaking_point=StressPoint.of(breaking),
        max_rate_under_sla=sustained.rate if sustained else None,
        max_sustained_rps=sustained.throughput_rps if sustained else None,
        max_sustained=StressPoint.of(sustained),
        peak_goodput_rps=peak.goodput_rps if peak else None,
        peak_goodput_rate=peak.rate if peak else None,
        recovery=recovery,
        recovery_s=recovery.seconds if recovery else None,
        headline=_headline(steps, sustained, breaking, recovery, peak))


def _headline(steps: Sequence[StressStep], sustained: StressStep | None,
              breaking: StressStep | None, recovery: Recovery | None,
              peak: StressStep | None = None) -> str:
    if not steps:
        return "no measured steps"
    parts = []
    if sustained is not None:
        parts.append(f"max sustained {sustained.throughput_rps:.0f} rps under SLA")
    else:
        parts.append("SLA not met even at the first step")
    if breaking is not None:
        parts.append(f"breaks at {breaking.rate:g} rps (p99 {format_latency_ms(breaking.p99_ms)}"
                     + (f", errors {breaking.error_rate * 100:.3g}%" if breaking.error_rate else "")
                     + ")")
    else:
        parts.append(f"no breaking point up to {steps[-1].rate:g} rps")
    if (peak is not None and breaking is not None and sustained is not None
            and peak.goodput_rps > sustained.throughput_rps * 1.05):
        parts.append(f"peak goodput {peak.goodput_rps:.0f} rps at {peak.rate:g} offered")
    if recovery is not None:
        parts.append(recovery.words())
    return "; ".join(parts)

