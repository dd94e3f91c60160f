"""Latency analysis: single-request latency, and cold start apart from steady state.

Reads one latency ProfileResult. Cold start is only known to the runner (time
until the readiness path answered 200, the very first request's latency); when it
stored one in ``profile.cold_start`` (a ``ColdStart``; any figure may be None) it is
carried into the analysis. The first second of the profile (warm-up included, where
a cold model shows) is compared with the measured steady state either way.
"""

from __future__ import annotations

from loadkit.results.analysis import ColdStart, FirstSecond, LatencyAnalysis
from loadkit.results.model import ProfileResult
from loadkit.units import format_duration, format_latency_ms

SLOW_START_RATIO = 2.0   # a first second this many times slower than steady state is news


def cold_start_words(cold: ColdStart) -> list[str]:
    """The cold start's figures as headline phrases (connections, readiness, first request)."""
    bits: list[str] = []
    if cold.connect_s is not None and cold.ready_s is None:
        bits.append(f"accepting connections after {format_duration(cold.connect_s)}")
    if cold.ready_s is not None:
        bits.append(f"ready after {format_duration(cold.ready_s)}")
    if cold.first_request_ms is not None:
        bits.append(f"first request {format_latency_ms(cold.first_request_ms)}")
    return bits


def analyze_latency(profile: ProfileResult) -> LatencyAnalysis:
    s = profile.summary
    lat = s.latency_ms
    first_iv = next((iv for iv in profile.timeseries if iv.requests > 0), None)
    first = ratio = None
    if first_iv is not None:
        first = FirstSecond(requests=first_iv.requests, p50_ms=first_iv.p50_ms,
                            max_ms=first_iv.max_ms)
        ratio = round(first.p50_ms / lat.p50, 3) if lat.p50 else None
    if s.requests:
        head = (f"p50 {format_latency_ms(lat.p50)}, p99 {format_latency_ms(lat.p99)} "
                f"over {s.requests} requests")
        if s.errors:
            head += f", {s.errors} errors ({s.error_rate * 100:.3g}%)"
    else:
        head = "no measured requests"
    cold = profile.cold_start
    bits = cold_start_words(cold) if cold is not None else []
    if bits:
        # The cold start is the answer; the slow first second tells the same story
        # less exactly, so it stays in the data only: a terminal summary cuts a
        # headline at about 100 characters, and the cold start must not be cut.
        head += "; cold start: " + ", ".join(bits)
    elif first is not None and ratio is not None and ratio >= SLOW_START_RATIO:
        head += (f"; first second p50 {format_latency_ms(first.p50_ms)} "
                 f"({ratio:.3g}x steady)")
    return LatencyAnalysis(requests=s.requests, p50_ms=lat.p50, p95_ms=lat.p95, p99_ms=lat.p99,
                           max_ms=lat.max, first_second=first, first_second_vs_steady_p50=ratio,
                           cold_start=cold, headline=head)
