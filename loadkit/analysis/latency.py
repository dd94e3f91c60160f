"""Latency analysis: single-request latency, and cold start apart from steady state.

Reads one latency ProfileResult. Cold start is only known to the runner (time
until the readiness path answered 200, the very first request's latency); when it
put them under ``profile.analysis["cold_start"]`` (keys ``ready_s``,
``connect_s``, ``first_request_ms``; any may be missing) they are carried through. The
first second of the profile (warm-up included, where a cold model shows) is
compared with the measured steady state either way.
"""

from __future__ import annotations

from typing import Any

from loadkit.results.model import ProfileResult
from loadkit.units import format_duration, format_latency_ms

SLOW_START_RATIO = 2.0   # a first second this many times slower than steady state is news


def analyze_latency(profile: ProfileResult) -> dict[str, Any]:
    s = profile.summary
    lat = s.latency_ms
    out: dict[str, Any] = {"kind": "latency", "requests": s.requests,
                           "p50_ms": lat.p50, "p95_ms": lat.p95, "p99_ms": lat.p99,
                           "max_ms": lat.max}
    first = next((iv for iv in profile.timeseries if iv.requests > 0), None)
    if first is not None:
        out["first_second"] = {"requests": first.requests, "p50_ms": first.p50_ms,
                               "max_ms": first.max_ms}
        out["first_second_vs_steady_p50"] = round(first.p50_ms / lat.p50, 3) if lat.p50 else None
    cold = profile.analysis.get("cold_start") if isinstance(profile.analysis, dict) else None
    if s.requests:
        head = (f"p50 {format_latency_ms(lat.p50)}, p99 {format_latency_ms(lat.p99)} "
                f"over {s.requests} requests")
        if s.errors:
            head += f", {s.errors} errors ({s.error_rate * 100:.3g}%)"
    else:
        head = "no measured requests"
    ratio = out.get("first_second_vs_steady_p50")
    bits: list[str] = []
    if isinstance(cold, dict):
        out["cold_start"] = dict(cold)
        if cold.get("connect_s") is not None and cold.get("ready_s") is None:
            bits.append(f"accepting connections after {format_duration(float(cold['connect_s']))}")
        if cold.get("ready_s") is not None:
            bits.append(f"ready after {format_duration(float(cold['ready_s']))}")
        if cold.get("first_request_ms") is not None:
            bits.append(f"first request {format_latency_ms(float(cold['first_request_ms']))}")
    if bits:
        # The cold start is the answer; the slow first second tells the same story
        # less exactly, so it stays in the data only: a terminal summary cuts a
        # headline at about 100 characters, and the cold start must not be cut.
        head += "; cold start: " + ", ".join(bits)
    elif first is not None and ratio is not None and ratio >= SLOW_START_RATIO:
        head += (f"; first second p50 {format_latency_ms(first.p50_ms)} "
                 f"({ratio:.3g}x steady)")
    out["headline"] = head
    return out
