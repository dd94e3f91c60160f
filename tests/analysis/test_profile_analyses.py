"""Latency, throughput, constant-rate and soak analyses: the headline a user reads first."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadkit.analysis import analyze
from loadkit.results.analysis import ColdStart
from loadkit.testing import interval, latencies, profile, stage
from tests.results.records import round_trip


def test_latency_headline_states_p50_p99_and_count():
    p = profile("lat", "latency", [stage(0, latencies(4.1, 6.3, n=200), concurrency=1)])
    assert analyze(p).headline == "p50 4.1ms, p99 6.3ms over 200 requests"


def test_latency_carries_cold_start_from_the_runner():
    p = replace(profile("lat", "latency", [stage(0, latencies(4, 6, n=200), concurrency=1)]),
                cold_start=ColdStart(ready_s=2.3, first_request_ms=340.0))
    a = analyze(p)
    assert a.cold_start.first_request_ms == 340.0
    assert a.headline.endswith("cold start: ready after 2.3s, first request 340ms")


def test_latency_compares_the_first_second_with_steady_state():
    p = profile("lat", "latency", [stage(0, latencies(4, 6, n=200), concurrency=1)],
                [interval(1, 0, 300, p50_ms=120, requests=3), interval(2, 0, 6, p50_ms=4)])
    a = analyze(p)
    assert a.first_second.p50_ms == 120
    assert a.first_second_vs_steady_p50 == pytest.approx(30, rel=0.01)


def test_throughput_reports_max_sustained_rps():
    p = profile("thr", "throughput", [stage(0, latencies(40, 41), concurrency=32,
                                            throughput_rps=780)])
    a = analyze(p)
    assert a.max_sustained_rps == 780
    assert a.headline == "780 rps sustained at concurrency 32, p99 41ms"


def test_throughput_with_several_batch_sizes_shows_the_trade_off():
    stages = [stage(i, latencies(p50, p50 * 2), concurrency=8, batch_size=b, throughput_rps=rps)
              for i, (b, rps, p50) in enumerate([(1, 780, 10), (8, 400, 20), (32, 150, 53)])]
    a = analyze(profile("thr", "throughput", stages))
    assert [r.rows_per_s for r in a.batch_sizes] == [780, 3200, 4800]
    assert a.best_batch_size == 32
    assert a.headline.startswith("best at batch 32: 4800 rows/s (150 rps")
    assert round_trip(a) == a


def test_constant_rate_compares_offered_and_achieved():
    p = profile("steady", "constant-rate", [stage(0, latencies(5, 20), rate=200,
                                                  throughput_rps=199.5, late=3)])
    a = analyze(p)
    assert a.achieved == pytest.approx(0.9975)
    assert a.headline == "199.5 rps of 200 offered, p50 5ms, p99 20ms, errors 0%, 3 late"


def _soak(p99s, errors=None):
    errors = errors or [0] * len(p99s)
    ts = [interval(100 + i, 1, p, errors=e, t0=100) for i, (p, e) in enumerate(zip(p99s, errors, strict=False))]
    stages = [stage(0, latencies(5), rate=100, warmup=True),
              stage(1, latencies(5, 12), rate=100, duration_s=len(p99s))]
    warm = [interval(90 + i, 0, 500) for i in range(5)]
    return profile("soak", "soak", stages, warm + ts)


def test_soak_reports_p99_drift_between_first_and_last_windows():
    a = analyze(_soak([10] * 20 + [12] * 60 + [15] * 20))
    assert a.window_s == 20
    assert a.first.p99_ms == 10 and a.last.p99_ms == 15
    assert a.p99_drift == pytest.approx(0.5)
    assert a.error_trend == "flat"
    assert a.headline.startswith("p99 10ms -> 15ms from first to last 20 s (+50%)")


def test_soak_error_rate_rising_over_time_is_flagged():
    a = analyze(_soak([10] * 50, errors=[0] * 40 + [5] * 10))
    assert a.error_trend == "rising"
    assert a.error_rate_slope_per_min > 0


def test_soak_window_seconds_can_be_chosen():
    a = analyze(_soak([10] * 10 + [20] * 80 + [30] * 10), soak_window_s=10)
    assert (a.first.p99_ms, a.last.p99_ms) == (10, 30)


def test_unknown_kind_still_gets_a_headline():
    p = profile("x", "custom", [stage(0, latencies(5, 20), concurrency=2)])
    assert analyze(p).headline == "100 rps, p50 5ms, p99 20ms over 1000 requests"


def test_latency_headline_does_not_hide_errors():
    p = profile("lat", "latency", [stage(0, latencies(4, 6, n=200), concurrency=1, errors=200)])
    assert analyze(p).headline.endswith("over 200 requests, 200 errors (100%)")


def test_latency_headline_flags_a_slow_first_second():
    p = profile("lat", "latency", [stage(0, latencies(4, 6, n=200), concurrency=1)],
                [interval(1, 0, 300, p50_ms=120, requests=3), interval(2, 0, 6, p50_ms=4)])
    assert analyze(p).headline.endswith("first second p50 120ms (30x steady)")


def test_soak_lists_error_rate_and_p99_window_by_window():
    a = analyze(_soak([10] * 30, errors=[0] * 10 + [10] * 10 + [0] * 10), soak_window_s=10)
    assert [w.error_rate for w in a.windows] == [0.0, 0.1, 0.0]
    assert [w.start_s for w in a.windows] == [0, 10, 20]
