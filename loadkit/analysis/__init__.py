"""Analysis: pure functions of a ProfileResult that answer the user's question for
each profile kind (knee, max rate under SLA, recovery, drift, ...).

Sits after the recorder and beside the SLA verdicts; ``analyze`` returns plain
JSON-able data that the runner stores under the profile's ``analysis`` and
reporters show, always with a one-line human ``headline``. Baseline comparison
and canary statistics live in ``compare.py`` / ``canary.py`` / ``stats.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from loadkit.analysis.breakdown import analyze_breakdown, breakdown_line
from loadkit.analysis.latency import analyze_latency
from loadkit.analysis.ramp import analyze_ramp, find_knee, ramp_steps
from loadkit.analysis.recovery import Recovery, recovery_time
from loadkit.analysis.search import analyze_search
from loadkit.analysis.server import analyze_server
from loadkit.analysis.soak import analyze_soak
from loadkit.analysis.spike import analyze_spike
from loadkit.analysis.stress import analyze_stress, stress_steps
from loadkit.analysis.throughput import analyze_constant_rate, analyze_throughput
from loadkit.results.model import ProfileResult
from loadkit.sla.grammar import Rule
from loadkit.units import format_latency_ms


def analyze(profile: ProfileResult, rules: Sequence[Rule] = (), *,
            stop_when: Mapping[str, Any] | Any | None = None,
            soak_window_s: float | None = None) -> dict[str, Any]:
    """The analysis of one profile, by its kind; unknown kinds get a summary headline.

    ``stop_when`` (stress) is the profile's stop condition (the scenario's
    ``StopWhen`` or a mapping); ``soak_window_s`` the soak comparison window
    (``ProfileSpec.window_s``; default: first/last 20% of the measured seconds). Whatever the runner already put under
    ``profile.analysis`` (e.g. ``cold_start``) is kept unless recomputed. A profile
    recorded by input (``breakdown``) also gets ``breakdown``: per-bucket latency
    and the sentence saying which inputs are slow (``breakdown["line"]``).
    """
    kind = profile.kind
    if kind == "latency":
        out = analyze_latency(profile)
    elif kind == "throughput":
        out = analyze_throughput(profile)
    elif kind == "ramp":
        out = analyze_ramp(profile, rules)
    elif kind == "stress":
        out = analyze_stress(profile, rules, stop_when)
    elif kind == "spike":
        out = analyze_spike(profile, rules)
    elif kind == "soak":
        out = analyze_soak(profile, window_s=soak_window_s)
        out["steady"] = analyze_constant_rate(profile)
    elif kind == "search":
        out = analyze_search(profile, rules)
    elif kind in ("constant-rate", "constant_rate"):
        out = analyze_constant_rate(profile)
    else:
        s = profile.summary
        out = {"kind": kind,
               "headline": (f"{s.throughput_rps:.0f} rps, p50 {format_latency_ms(s.latency_ms.p50)}, "
                            f"p99 {format_latency_ms(s.latency_ms.p99)} over {s.requests} requests")}
    server = analyze_server(profile, out)
    if server is not None:
        out["server"] = server
    by_input = analyze_breakdown(profile)
    if by_input is not None:
        out["breakdown"] = by_input
    return {**dict(profile.analysis or {}), **out}


__all__ = [
    "Recovery",
    "analyze",
    "analyze_breakdown",
    "analyze_constant_rate",
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
