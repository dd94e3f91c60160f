"""Spike analysis: how bad a sudden burst got and how fast the service came back.

Reads one spike ProfileResult: steady stage(s), one stage at a multiple of the
load (the heaviest measured stage is the spike), then steady again. Recovery is
measured from the end of the spike against the SLA's p99 bound, else against
twice the pre-spike p99 (never tighter than pre-spike p99 + 5 ms, so ordinary
jitter of a very fast service is not mistaken for a slow recovery).
"""

from __future__ import annotations

from collections.abc import Sequence

from loadkit.analysis.recovery import (
    error_rate_limit,
    overload_end_t,
    p99_threshold_ms,
    recovery_time,
)
from loadkit.results.analysis import Recovery, SpikeAnalysis
from loadkit.results.model import ProfileResult
from loadkit.sla.grammar import Rule
from loadkit.sla.steps import load_of
from loadkit.units import format_latency_ms

JITTER_FLOOR_MS = 5.0


def analyze_spike(profile: ProfileResult, rules: Sequence[Rule] = (), *,
                  hold_s: int = 3) -> SpikeAnalysis:
    measured = sorted(profile.measured_stages(), key=lambda s: s.index)
    if not measured:
        return SpikeAnalysis(headline="no measured stages")
    peak_i = max(range(len(measured)), key=lambda i: (load_of(measured[i]), -i))
    spike = measured[peak_i]
    before, after = measured[:peak_i], measured[peak_i + 1:]
    baseline_p99 = before[-1].latency_ms.p99 if before and before[-1].requests else None
    spike_seconds = [iv for iv in profile.timeseries if iv.stage >= spike.index and iv.requests]
    peak_1s_p99 = max((iv.p99_ms for iv in spike_seconds), default=None)

    recovery: Recovery | None = None
    if after:
        rule = p99_threshold_ms(rules)
        end_t = overload_end_t(profile, spike, after[0])
        if rule is not None:
            threshold, op = rule.threshold, rule.op
        elif baseline_p99:
            threshold, op = max(2 * baseline_p99, baseline_p99 + JITTER_FLOOR_MS), "<="
        else:
            threshold, op = 0.0, "<"
        if threshold <= 0:
            recovery = Recovery("unknown", None, 0.0, "no p99 threshold to recover under")
        elif end_t is None:
            recovery = Recovery("unknown", None, threshold, "no timeseries after the spike")
        else:
            recovery = recovery_time(profile.timeseries, overload_end_t=end_t,
                                     threshold_ms=threshold, op=op, hold_s=hold_s,
                                     max_error_rate=error_rate_limit(rules))
    load = (f"{spike.rate:g} rps" if spike.rate is not None
            else f"concurrency {spike.concurrency}")
    head = f"spike to {load}: p99 {format_latency_ms(spike.latency_ms.p99)}"
    if baseline_p99 is not None:
        head += f" (baseline {format_latency_ms(baseline_p99)})"
    head += f", {spike.errors} errors"
    if recovery is not None:
        head += f"; {recovery.words()}"
    return SpikeAnalysis(
        spike_stage=spike.index,
        spike_load=spike.rate if spike.rate is not None else spike.concurrency,
        baseline_p99_ms=baseline_p99,
        peak_p99_ms=spike.latency_ms.p99,
        peak_max_ms=spike.latency_ms.max,
        peak_1s_p99_ms=peak_1s_p99,
        spike_requests=spike.requests,
        spike_errors=spike.errors,
        spike_error_rate=round(spike.error_rate, 6),
        spike_error_kinds=dict(spike.error_kinds),
        recovery=recovery,
        recovery_s=recovery.seconds if recovery else None,
        headline=head)
