"""Ramp analysis: per-step scaling, the saturation point (knee) and the SLA's reach.

Reads one ramp ProfileResult (concurrency steps, each measured on its own).
The knee is the last step that still added throughput: the next step's gain is
below ``min_gain`` per doubling of concurrency (10% by default) while its p50
rises by more than ``min_latency_rise``, and no later step climbs more than
``min_gain`` above it (so one noisy step is not a knee). When throughput keeps
scaling to the last step there is "no knee".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from loadkit.results.analysis import RampAnalysis, RampPoint, RampStep
from loadkit.results.model import ProfileResult, StageResult
from loadkit.sla.evaluate import observe
from loadkit.sla.grammar import Rule
from loadkit.sla.steps import split_steps
from loadkit.units import format_latency_ms


def meets(rules: Sequence[Rule], stage: StageResult) -> tuple[bool | None, tuple[str, ...]]:
    """Whether every profile-wide rule holds on one step, and which ones don't."""
    scoped = [r for r in rules if r.stage is None]
    if not scoped:
        return None, ()
    broken = []
    for r in scoped:
        value = observe(r, stage)
        if value is None or not r.holds(value):
            broken.append(r.expr)
    return not broken, tuple(broken)


def ramp_steps(profile: ProfileResult, rules: Sequence[Rule] = ()) -> list[RampStep]:
    stages = [s for s in split_steps(profile)[0] if s.requests > 0 and s.concurrency]
    out: list[RampStep] = []
    base = stages[0] if stages else None
    for s in stages:
        eff = None
        if base is not None and base.throughput_rps > 0 and s.concurrency and base.concurrency:
            per_worker = base.throughput_rps / base.concurrency
            eff = round(s.throughput_rps / (s.concurrency * per_worker), 3)
        ok, broken = meets(rules, s)
        lat = s.latency_ms
        out.append(RampStep(
            index=s.index, concurrency=int(s.concurrency or 0), requests=s.requests,
            throughput_rps=s.throughput_rps, rows_per_s=s.rows_per_s, p50_ms=lat.p50,
            p95_ms=lat.p95, p99_ms=lat.p99, error_rate=round(s.error_rate, 6),
            efficiency=eff, meets_sla=ok, broken_rules=broken, stable=s.stable))
    return out


def gain_per_doubling(prev: RampStep, cur: RampStep) -> float | None:
    """Relative throughput gain per doubling of concurrency between two steps."""
    if prev.throughput_rps <= 0 or cur.concurrency <= prev.concurrency:
        return None
    doublings = math.log2(cur.concurrency / prev.concurrency)
    ratio = cur.throughput_rps / prev.throughput_rps
    if ratio <= 0:
        return -1.0
    return float(ratio ** (1.0 / doublings) - 1.0)


def find_knee(steps: Sequence[RampStep], *, min_gain: float = 0.10,
              min_latency_rise: float = 0.10) -> RampStep | None:
    """The saturation point, or None when throughput keeps scaling."""
    for i in range(1, len(steps)):
        prev, cur = steps[i - 1], steps[i]
        gain = gain_per_doubling(prev, cur)
        if gain is None or gain >= min_gain:
            continue
        if prev.p50_ms > 0 and cur.p50_ms < prev.p50_ms * (1 + min_latency_rise):
            continue
        later_best = max(s.throughput_rps for s in steps[i:])
        if later_best > prev.throughput_rps * (1 + min_gain):
            continue
        return prev
    return None


def analyze_ramp(profile: ProfileResult, rules: Sequence[Rule] = ()) -> RampAnalysis:
    steps = ramp_steps(profile, rules)
    if not steps:
        return RampAnalysis(headline="no measured steps")
    knee = find_knee(steps)
    best = max(steps, key=lambda s: s.throughput_rps)
    under = [s for s in steps if s.meets_sla]
    top_under = under[-1] if under else None
    first_broken = next((s for s in steps if s.meets_sla is False), None)
    if knee is not None:
        head = (f"saturates at concurrency {knee.concurrency}: {knee.throughput_rps:.0f} rps, "
                f"p99 {format_latency_ms(knee.p99_ms)}")
    else:
        last = steps[-1]
        eff = f", efficiency {last.efficiency:.2f}" if last.efficiency is not None else ""
        head = (f"no knee: throughput still scaling at concurrency {last.concurrency} "
                f"({last.throughput_rps:.0f} rps{eff})")
    if rules and any(r.stage is None for r in rules):
        if top_under is not None:
            head += f"; SLA met up to concurrency {top_under.concurrency}"
        else:
            head += "; SLA not met at any step"
    return RampAnalysis(
        steps=tuple(steps), knee=RampPoint.of(knee), no_knee=knee is None,
        max_throughput_rps=best.throughput_rps, max_throughput_concurrency=best.concurrency,
        max_concurrency_under_sla=top_under.concurrency if top_under else None,
        max_concurrency_under_sla_rps=top_under.throughput_rps if top_under else None,
        first_breaking_step=RampPoint.of(first_broken), headline=head)


__all__ = ["RampStep", "analyze_ramp", "find_knee", "gain_per_doubling", "meets", "ramp_steps"]
