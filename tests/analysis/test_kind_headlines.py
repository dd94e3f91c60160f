"""Latency, throughput and constant-rate analyses: every figure and headline, exactly."""

from __future__ import annotations

from dataclasses import replace

from loadkit.analysis.latency import analyze_latency, cold_start_words
from loadkit.analysis.throughput import analyze_constant_rate, analyze_throughput
from loadkit.results.analysis import BatchRow, ColdStart, FirstSecond
from loadkit.testing import interval, profile, stage

T0 = 1_700_000_000.0


def test_cold_start_words_name_readiness_before_connections_and_the_first_request():
    assert cold_start_words(ColdStart()) == []
    assert cold_start_words(ColdStart(connect_s=2.5)) == ["accepting connections after 2.5s"]
    assert cold_start_words(ColdStart(connect_s=2.5, ready_s=75.0, first_request_ms=1500)) == [
        "ready after 1m15s", "first request 1.5s"]
    assert cold_start_words(ColdStart(first_request_ms=12.345)) == ["first request 12.3ms"]


def test_a_latency_headline_states_the_figures_errors_and_a_slow_first_second():
    ts = [interval(T0, 0, 40.0, requests=0), interval(T0 + 1, 0, 90.0, requests=3, p50_ms=8.0),
          interval(T0 + 2, 0, 10.0, requests=5, p50_ms=5.0)]
    p = profile("lat", "latency", [stage(0, [50.0] * 2 + [1.0] + [2.0] * 7, errors=2)], ts)
    a = analyze_latency(p)
    assert (a.requests, a.p50_ms, a.p95_ms, a.p99_ms, a.max_ms) == (10, 2.0, 2.0, 2.0, 2.0)
    assert a.first_second == FirstSecond(requests=3, p50_ms=8.0, max_ms=90.0)
    assert a.first_second_vs_steady_p50 == 4.0
    assert a.headline == ("p50 2ms, p99 2ms over 10 requests, 2 errors (20%); first second "
                          "p50 8ms (4x steady)")
    exactly_twice = replace(p, timeseries=(interval(T0, 0, 9.0, requests=1, p50_ms=4.0),))
    assert analyze_latency(exactly_twice).headline.endswith("; first second p50 4ms (2x steady)")
    under = replace(p, timeseries=(interval(T0, 0, 9.0, requests=1, p50_ms=3.99),))
    assert analyze_latency(under).headline == "p50 2ms, p99 2ms over 10 requests, 2 errors (20%)"
    assert analyze_latency(under).first_second_vs_steady_p50 == 1.995


def test_a_cold_start_replaces_the_slow_first_second_in_the_headline():
    ts = [interval(T0, 0, 90.0, requests=3, p50_ms=50.0)]
    cold = ColdStart(ready_s=2.5, first_request_ms=800.0)
    p = replace(profile("lat", "latency", [stage(0, [5.0] * 4)], ts), cold_start=cold)
    a = analyze_latency(p)
    assert a.headline == ("p50 5ms, p99 5ms over 4 requests; cold start: ready after 2.5s, "
                          "first request 800ms")
    assert a.cold_start == cold and a.first_second_vs_steady_p50 == 9.994     # 50 / 5.003
    empty = replace(p, cold_start=ColdStart())
    assert analyze_latency(empty).headline.endswith("; first second p50 50ms (9.99x steady)")


def test_a_latency_profile_without_requests_says_so():
    a = analyze_latency(profile("lat", "latency", [stage(0, [])]))
    assert (a.headline, a.requests, a.first_second, a.first_second_vs_steady_p50) == (
        "no measured requests", 0, None, None)
    zero = profile("lat", "latency", [stage(0, [])], [interval(T0, 0, 5.0, requests=2)])
    assert analyze_latency(zero).first_second_vs_steady_p50 is None


def test_throughput_is_the_best_whole_stage_with_its_concurrency_and_rows():
    p = profile("t", "throughput", [
        stage(0, [1.0] * 50, warmup=True, throughput_rps=5000, concurrency=64),
        stage(1, [2.0] * 100, throughput_rps=100, concurrency=4, batch_size=8),
        stage(2, [3.0] * 120, errors=12, throughput_rps=120, concurrency=8, batch_size=8),
        stage(3, [], concurrency=16)])
    a = analyze_throughput(p)
    assert (a.max_sustained_rps, a.max_rows_per_s, a.batch_sizes, a.best_batch_size) == (
        108.0, 864.0, (), None)
    assert a.headline == ("108 rps sustained at concurrency 8, p99 3ms, 864 rows/s (batch 8); "
                          "12 errors (5.45%)")
    assert a.stable is None
    one = profile("t", "throughput", [stage(0, [2.0] * 10, throughput_rps=10)])
    assert analyze_throughput(one).headline == "10 rps sustained, p99 2ms"
    assert analyze_throughput(profile("t", "throughput", [stage(0, [])])).headline == (
        "no measured requests")


def test_several_batch_sizes_give_a_table_and_the_best_rows_per_second():
    p = profile("t", "throughput", [
        stage(0, [4.0] * 100, throughput_rps=100, batch_size=4, concurrency=2),
        stage(1, [2.0] * 150, throughput_rps=150, batch_size=1),
        stage(2, [8.0] * 60, throughput_rps=60, batch_size=16, errors=6)])
    a = analyze_throughput(p)
    assert a.best_batch_size == 16 and a.max_rows_per_s == 864.0
    assert a.batch_sizes == (
        BatchRow(step=1, batch_size=1, concurrency=None, throughput_rps=150.0, rows_per_s=150.0,
                 p50_ms=2.0, p99_ms=2.0, p50_ms_per_row=2.0, error_rate=0.0),
        BatchRow(step=0, batch_size=4, concurrency=2, throughput_rps=100.0, rows_per_s=400.0,
                 p50_ms=4.001, p99_ms=4.001, p50_ms_per_row=1.0003, error_rate=0.0),
        BatchRow(step=2, batch_size=16, concurrency=None, throughput_rps=54.0, rows_per_s=864.0,
                 p50_ms=8.003, p99_ms=8.003, p50_ms_per_row=0.5002, error_rate=0.1))
    assert a.headline == ("best at batch 16: 864 rows/s (54 rps, p99 8ms); batch 1: 150 "
                          "rows/s, batch 4: 400 rows/s; 6 errors (1.94%)")


def test_a_throughput_figure_is_only_an_answer_once_every_judged_stage_settled():
    settled = profile("t", "throughput", [
        stage(0, [1.0] * 20, throughput_rps=20, stable=True),
        stage(1, [1.0] * 30, throughput_rps=30, stable=True), stage(2, [1.0] * 5, duration_s=2.0)])
    a = analyze_throughput(settled)
    assert a.stable is True and a.headline.endswith("; stable after 1 s")
    unsettled = profile("t", "throughput", [
        stage(0, [1.0] * 20, throughput_rps=20, stable=False),
        stage(1, [1.0] * 30, throughput_rps=10, stable=False),
        stage(2, [1.0] * 30, throughput_rps=30, stable=True)])
    a = analyze_throughput(unsettled)
    assert a.stable is False
    assert a.headline.endswith("; never stabilised in 3 s (inconclusive)")


def test_a_constant_rate_compares_offered_and_achieved():
    p = profile("c", "constant-rate", [
        stage(0, [1.0] * 10, rate=50.0, warmup=True),
        stage(1, [2.0] * 100, errors=5, rate=10.0, throughput_rps=10, late=3),
        stage(2, [2.0] * 100, rate=12.5, throughput_rps=10)])
    a = analyze_constant_rate(p)
    assert (a.kind, a.offered_rps, a.achieved_rps, a.achieved, a.late, a.error_rate) == (
        "constant-rate", 12.5, 9.75, 0.78, 3, 0.025)
    assert a.headline == "9.75 rps of 12.5 offered, p50 2ms, p99 2ms, errors 2.5%, 3 late"
    fast = profile("c", "constant_rate", [stage(0, [1.0] * 3000, throughput_rps=1500.4)])
    a = analyze_constant_rate(fast)
    assert (a.kind, a.offered_rps, a.achieved) == ("constant_rate", None, None)
    assert a.headline == "1500 rps, p50 1ms, p99 1ms, errors 0%"
    assert analyze_constant_rate(profile("s", "soak", [stage(0, [])])).kind == "soak"
    assert analyze_constant_rate(profile("s", "soak", [stage(0, [])])).headline == (
        "no measured requests")


def test_two_batch_sizes_already_make_a_table_and_big_rates_print_whole():
    p = profile("t", "throughput", [stage(0, [4.0] * 100, throughput_rps=100, batch_size=4),
                                    stage(1, [2.0] * 150, throughput_rps=150, batch_size=1)])
    a = analyze_throughput(p)
    assert a.best_batch_size == 4 and len(a.batch_sizes) == 2
    fast = profile("c", "constant-rate", [stage(0, [1.0] * 12346, throughput_rps=12345.6)])
    assert analyze_constant_rate(fast).headline.startswith("12346 rps, p50 1ms")


def test_boundaries_of_the_throughput_headlines():
    settled = profile("t", "throughput", [stage(0, [1.0] * 30, throughput_rps=30, stable=True)])
    assert analyze_throughput(settled).headline == "30 rps sustained, p99 1ms; stable after 1 s"
    one = profile("t", "throughput", [stage(0, [1.0], throughput_rps=1)])
    assert analyze_throughput(one).max_sustained_rps == 1.0
    at_1000 = profile("c", "constant-rate", [stage(0, [1.0] * 1000, throughput_rps=1000)])
    assert analyze_constant_rate(at_1000).headline.startswith("1000 rps, p50 1ms")
