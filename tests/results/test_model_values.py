"""The RunResult model's own logic: the count invariant, derived figures and properties."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import (
    Interval,
    LatencySummary,
    Summary,
    Verdict,
    check_counts,
)
from loadkit.results.status import Status
from loadkit.testing import interval, profile, run_result, stage


def test_counts_must_add_up_and_never_be_negative():
    check_counts("x", 5, 3, 2)
    check_counts("x", 5, 3, 2, {"timeout": 2})
    check_counts("x", 0, 0, 0, {})
    with pytest.raises(ValueError) as err:
        check_counts("stage 1 (a)", 5, 4, 2)
    assert str(err.value) == "stage 1 (a): requests (5) must equal ok (4) + errors (2)"
    with pytest.raises(ValueError, match=r"^x: requests \(0\) must equal ok \(1\) \+ errors \(-1\)$"):
        check_counts("x", 0, 1, -1)
    with pytest.raises(ValueError, match=r"errors \(1\)$"):
        check_counts("x", 0, -1, 1)
    with pytest.raises(ValueError) as err:
        check_counts("summary", 5, 3, 2, {"timeout": 1, "reset": 2})
    assert str(err.value) == ("summary: error kinds {'timeout': 1, 'reset': 2} add up to 3, "
                              "not errors (2)")


def test_every_counted_value_checks_its_counts_where_it_is_built():
    with pytest.raises(ValueError, match=r"^second 12: requests \(3\)"):
        Interval(t=12.0, elapsed_s=0.0, stage=0, requests=3, ok=1, errors=1, rps=1.0,
                 p50_ms=1, p90_ms=1, p95_ms=1, p99_ms=1, max_ms=1)
    with pytest.raises(ValueError, match=r"^summary: requests \(2\)"):
        Summary(requests=2, ok=1)
    with pytest.raises(ValueError, match="^summary: error kinds"):
        Summary(requests=2, ok=1, errors=1, error_kinds={})
    with pytest.raises(ValueError, match=r"^stage 2 \(c=4\): error kinds"):
        replace(stage(2, [1.0] * 3, errors=1, label="c=4"), error_kinds={"timeout": 2})
    assert interval(0.0, requests=4, errors=1).ok == 3


def test_a_latency_summary_is_read_from_one_histogram_in_milliseconds_to_the_microsecond():
    h = LatencyHistogram()
    h.record_many([1_234, 2_345, 100_000])
    s = LatencySummary.of(h)
    assert s == LatencySummary(
        min=round(h.min_us / 1000, 3), mean=round(h.mean_us / 1000, 3),
        stdev=round(h.stdev_us / 1000, 3), p50=round(h.percentile_us(50) / 1000, 3),
        p90=round(h.percentile_us(90) / 1000, 3), p95=round(h.percentile_us(95) / 1000, 3),
        p99=round(h.percentile_us(99) / 1000, 3), p999=round(h.percentile_us(99.9) / 1000, 3),
        max=round(h.max_us / 1000, 3))
    assert (s.min, s.p50, s.max) == (1.234, 2.345, 100.031)
    assert s.p90 == s.p95 == s.p99 == s.p999 == 100.031
    assert s.mean == 34.526 and s.stdev == 46.299
    assert LatencySummary.of(LatencyHistogram()) == LatencySummary()


def test_error_rates_and_the_all_requests_histogram_fall_back_when_absent():
    s = stage(0, [5.0] * 3 + [1.0] * 5, errors=3)
    assert s.error_rate == 3 / 8
    assert stage(0, []).error_rate == 0.0
    assert Summary(requests=4, ok=3, errors=1, error_kinds={"x": 1}).error_rate == 0.25
    assert Summary().error_rate == 0.0
    assert s.hist_all().count == 8 and s.hist().count == 5
    without = replace(s, histogram_all="")
    assert without.hist_all() == s.hist()
    clamped = stage(0, latencies_us=[5_000_000_000, 1])
    assert clamped.hist().overflow == 1 and clamped.hist_all().overflow == 1


def test_stream_figures_say_whether_a_stage_streamed_and_decode_their_histograms():
    s = stage(0, [1.0])
    assert not s.streamed
    assert s.stream_hist("ttft") == LatencyHistogram()
    h = LatencyHistogram()
    h.record_many([3_000, 4_000])
    streamed = replace(s, output_tokens=0, itl_histogram=h.encode())
    assert streamed.streamed
    assert streamed.stream_hist("itl") == h
    assert streamed.stream_hist("ttft") == LatencyHistogram()


def test_measured_stages_leave_out_warmups_by_flag_or_by_role():
    a = stage(0, [1.0], warmup=True)
    b = stage(1, [1.0], role="warmup")
    c = stage(2, [1.0])
    d = stage(3, [1.0], role="recovery")
    assert profile(stages=[a, b, c, d]).measured_stages() == (c, d)


def test_a_run_result_finds_profiles_by_name_and_says_how_it_was_judged():
    r = run_result(profile("a", stages=[stage(0, [1.0])]), profile("b"), started_at=10.0,
                   finished_at=12.5)
    assert r.profile("b") is r.profiles[1] and r.profile("a") is r.profiles[0]
    with pytest.raises(KeyError, match="'c'"):
        r.profile("c")
    assert r.duration_s == 2.5
    assert replace(r, finished_at=9.0).duration_s == 0.0
    assert (r.judged, r.passed, r.exit_code) == (False, False, 1)
    for status, code in ((Status.PASS, 0), (Status.FAIL, 1), (Status.INCONCLUSIVE, 4),
                         (Status.ERROR, 3), (Status.INTERRUPTED, 130)):
        judged = replace(r, status=status)
        assert (judged.judged, judged.passed, judged.exit_code) == (
            True, status is Status.PASS, code)


def test_failed_verdicts_are_the_failures_on_enough_data_in_order():
    def v(expr, passed, inconclusive=False):
        return Verdict("p", expr, "p99", 1.0, 2.0, passed, inconclusive=inconclusive)

    verdicts = (v("a", True), v("b", False), v("c", False, True), v("d", True, True),
                v("e", False))
    r = replace(run_result(), verdicts=verdicts)
    assert [x.expr for x in r.failed_verdicts] == ["b", "e"]


def test_a_histograms_recorded_values_are_its_buckets_in_increasing_order():
    h = LatencyHistogram()
    h.record_many([3_000, 1_000, 1_000, 5_000_000])
    assert h.recorded_values() == [(1_000, 2), (3_001, 1), (5_001_215, 1)]
    assert LatencyHistogram().recorded_values() == []


def test_a_latency_summary_reads_each_percentile_at_its_own_rank():
    h = LatencyHistogram()
    h.record_many([ms * 1_000 for ms in range(1, 1001)])       # 1..1000 ms
    s = LatencySummary.of(h)
    assert (s.p50, s.p90, s.p95, s.p99, s.p999) == (
        h.percentile_us(50) / 1000, round(h.percentile_us(90) / 1000, 3),
        round(h.percentile_us(95) / 1000, 3), round(h.percentile_us(99) / 1000, 3),
        round(h.percentile_us(99.9) / 1000, 3))
    assert len({s.p50, s.p90, s.p95, s.p99, s.p999, s.max}) == 6
    assert h.percentiles_us([0, 50, 95, 100]) == [h.min_us, h.percentile_us(50),
                                                  h.percentile_us(95), h.max_us]


def test_recording_a_value_several_times_counts_each():
    h = LatencyHistogram()
    h.record(1_000, 3)
    h.record(5_000_000_000, 2)                                # over an hour: clamped
    assert (h.count, h.overflow) == (5, 2)
    assert "count=5" in repr(h)


def test_low_percentiles_are_read_not_taken_as_the_minimum_and_unlike_histograms_differ():
    h = LatencyHistogram()
    h.record_many([ms * 1_000 for ms in range(1, 1001)])
    assert h.percentiles_us([1, 0.5, 100, 150]) == [h.percentile_us(1), h.percentile_us(0.5),
                                                    h.max_us, h.max_us]
    assert h.percentiles_us([1])[0] == 10_007 != h.min_us      # the 10th of 1000, not the 1st
    a, b = LatencyHistogram(), LatencyHistogram()
    a.record(1_000)
    b.record(2_000)
    assert a != b and a == a.copy()
