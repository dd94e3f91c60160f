"""Latency analysis: single-request latency, and cold start apart from steady state.

Reads one latency ProfileResult. Cold start is only known to the runner (time
until the readiness path answered 200, the very first request's latency); when it
put them under ``profile.analysis["cold_start"]`` they are carried through. The
first second of the profile (warm-up included, where a cold model shows) is
compared with the measured steady state either way.
"""

from __future__ import annotations

from typing import Any

from loadkit.results.model import ProfileResult
from loadkit.units import format_duration, format_latency_ms


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
    else:
        head = "no measured requests"
    if isinstance(cold, dict):
        out["cold_start"] = dict(cold)
        bits = []
        if cold.get("ready_s") is not None:
            bits.append(f"ready after {format_duration(float(cold['ready_s']))}")
        if cold.get("first_request_ms") is not None:
            bits.append(f"first request {format_latency_ms(float(cold['first_request_ms']))}")
        if bits:
            head += "; cold start: " + ", ".join(bits)
    out["headline"] = head
    return out
