"""Analysis: pure functions of a ProfileResult that answer the user's question for
each profile kind (knee, max rate under SLA, recovery, drift, ...).

Sits after the recorder and beside the SLA verdicts; ``analyze`` returns the
profile kind's typed record (``loadkit.results.analysis``) that ``judge`` stores
under the profile's ``analysis`` and reporters show, always with a one-line human
``headline``. Baseline comparison and canary statistics live in ``compare.py`` /
``canary.py`` / ``stats.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from loadkit.analysis.breakdown import analyze_breakdown, breakdown_line
from loadkit.analysis.latency import analyze_latency
from loadkit.analysis.ramp import analyze_ramp, find_knee, ramp_steps
from loadkit.analysis.recovery import Recovery, recovery_time
from loadkit.analysis.search import analyze_search
from loadkit.analysis.server import analyze_server
from loadkit.analysis.soak import analyze_soak
from loadkit.analysis.spike import analyze_spike
from loadkit.analysis.stress import StopWhenArg, analyze_stress, stress_steps
from loadkit.analysis.throughput import analyze_constant_rate, analyze_throughput
from loadkit.results.analysis import Analysis, SummaryAnalysis
from loadkit.results.model import ProfileResult
from loadkit.sla.grammar import Rule
from loadkit.units import format_latency_ms


def analyze_kind(profile: ProfileResult, rules: Sequence[Rule] = (), *,
                 stop_when: StopWhenArg = None,
                 soak_window_s: float | None = None) -> Analysis:
    """The record of the profile's own kind (without server metrics or by-input latency)."""
    kind = profile.kind
    if kind == "latency":
        return analyze_latency(profile)
    if kind == "throughput":
        return analyze_throughput(profile)
    if kind == "ramp":
        return analyze_ramp(profile, rules)
    if kind == "stress":
        return analyze_stress(profile, rules, stop_when)
    if kind == "spike":
        return analyze_spike(profile, rules)
    if kind == "soak":
        return analyze_soak(profile, window_s=soak_window_s)
    if kind == "search":
        return analyze_search(profile, rules)
    if kind in ("constant-rate", "constant_rate"):
        return analyze_constant_rate(profile)
    s = profile.summary
    return SummaryAnalysis(
        kind=kind, headline=(f"{s.throughput_rps:.0f} rps, p50 {format_latency_ms(s.latency_ms.p50)}, "
                             f"p99 {format_latency_ms(s.latency_ms.p99)} over {s.requests} requests"))


def analyze(profile: ProfileResult, rules: Sequence[Rule] = (), *,
            stop_when: StopWhenArg = None,
            soak_window_s: float | None = None) -> Analysis:
    """The analysis of one profile, by its kind; unknown kinds get a summary headline.

    ``stop_when`` (stress) is the profile's stop condition (the scenario's
    ``StopWhen``, the result's ``StopCondition`` or a mapping); ``soak_window_s`` the
    soak comparison window (``ProfileSpec.window_s``; default: first/last 20% of the
    measured seconds). A profile with server metrics also gets ``server`` (what the
    target's own metrics said at the turning point), and a profile recorded by input
    ``breakdown`` (per-bucket latency and the sentence saying which inputs are slow).
    """
    out = analyze_kind(profile, rules, stop_when=stop_when, soak_window_s=soak_window_s)
    return replace(out, server=analyze_server(profile, out), breakdown=analyze_breakdown(profile))


__all__ = [
    "Recovery",
    "analyze",
    "analyze_breakdown",
    "analyze_constant_rate",
    "analyze_kind",
    "analyze_latency",
    "analyze_ramp",
    "analyze_search",
    "analyze_soak",
    "analyze_spike",
    "analyze_stress",
    "analyze_throughput",
    "breakdown_line",
    "find_knee",
    "ramp_steps",
    "recovery_time",
    "stress_steps",
]
