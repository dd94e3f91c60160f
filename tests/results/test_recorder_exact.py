"""The recorder, second by second and stage by stage, on a scripted wall clock.

Every figure here is known exactly: which second a request lands in, which stage
an Interval is labelled with, what a stage's counts, rates and codes are, and
what a by-input stage puts in each bucket.
"""

from __future__ import annotations

import numpy as np
import pytest

from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import LatencySummary
from loadkit.results.recorder import InputBuckets, Recorder, StageMeta, StageRecording


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _hist(values_us):
    h = LatencyHistogram()
    h.record_many(values_us)
    return h


def test_a_stage_result_carries_its_meta_counts_rates_and_codes():
    meta = StageMeta(index=3, label="c=8", concurrency=8, rate=12.5, batch_size=4)
    rec = StageRecording(meta, started_at=1000.12345)
    for v in (1_000, 2_000, 3_000):
        rec.ok(v, 200)
    rec.ok(4_000)                                   # no status: not counted as a code
    rec.error("http_5xx", 50_000, 503)
    rec.error("timeout", 90_000)
    rec.error("http_5xx", 60_000, 502)
    rec.late(2)
    rec.late()
    assert rec.requests == 7
    rec.flush()
    r = rec.result(2.0049, stable=False, in_flight=5)
    assert (r.index, r.label, r.concurrency, r.rate, r.warmup) == (3, "c=8", 8, 12.5, False)
    assert (r.requests, r.ok, r.errors) == (7, 4, 3)
    assert r.error_kinds == {"http_5xx": 2, "timeout": 1}
    assert r.status_codes == {"200": 3, "502": 1, "503": 1}
    assert list(r.status_codes) == ["200", "502", "503"]
    assert r.late == 3
    assert r.duration_s == 2.005
    assert r.throughput_rps == 1.995                # 4 / 2.0049
    assert r.rows_per_s == 7.98                     # 16 / 2.0049
    assert (r.batch_size, r.started_at, r.stable, r.in_flight_at_end) == (4, 1000.123, False, 5)
    assert r.role == "measured" and r.breakdown == ()
    assert r.hist() == _hist([1_000, 2_000, 3_000, 4_000])
    assert r.hist_all() == _hist([1_000, 2_000, 3_000, 4_000, 50_000, 90_000, 60_000])
    assert r.latency_ms == LatencySummary.of(r.hist())
    assert r.latency_all_ms == LatencySummary.of(r.hist_all())
    assert (r.overflow, r.overflow_all) == (0, 0)


def test_a_stage_of_no_time_has_finite_rates_and_warmup_and_role_come_from_meta():
    rec = StageRecording(StageMeta(index=0, label="w", warmup=True), started_at=0.0)
    rec.ok(1_000)
    rec.flush()
    r = rec.result(0.0)
    assert r.duration_s == 0.0 and r.throughput_rps == 1e9 and r.rows_per_s == 1e9
    assert (r.warmup, r.role) == (True, "warmup")
    assert StageMeta(0, "x").stage_role == "measured"
    assert StageMeta(0, "x", warmup=True, role="probe").stage_role == "probe"


def test_overflowing_latencies_are_counted_in_both_histograms():
    rec = StageRecording(StageMeta(0, "s"), 0.0)
    rec.ok(4_000_000_000)
    rec.error("timeout", 5_000_000_000)
    rec.ok(1_000)
    rec.flush()
    r = rec.result(1.0)
    assert (r.overflow, r.overflow_all) == (1, 2)


def test_flush_moves_buffers_into_the_histograms_and_returns_the_seconds_successes():
    rec = StageRecording(StageMeta(0, "s"), 0.0)
    rec.ok(1_000)
    rec.ok(2_000)
    rec.error("reset", 7_000)
    buf, ok, err = rec.flush()
    assert (buf, ok, err) == ([1_000, 2_000], 2, 1)
    assert (rec.buf, rec.err_buf, rec.iv_ok, rec.iv_err, rec.ok_n, rec.errors_n) == (
        [], [], 0, 0, 2, 1)
    assert rec.hist == _hist([1_000, 2_000]) and rec.err_hist == _hist([7_000])
    rec.ok(3_000)
    assert rec.flush() == ([3_000], 1, 0)
    assert (rec.ok_n, rec.errors_n, rec.requests) == (3, 1, 4)


def test_intervals_follow_the_wall_clock_and_are_labelled_with_the_stage_begun_last():
    clock = Clock(100.0)
    r = Recorder(wall_clock=clock)
    s0 = r.begin_stage(StageMeta(index=0, label="a"))
    assert s0.started_at == 100.0
    s0.ok(1_000, 200)
    s0.ok(3_000, 200)
    s0.error("http_5xx", 9_000, 503)
    clock.t = 102.0
    iv = r.tick()
    assert iv is not None
    assert (iv.t, iv.elapsed_s, iv.stage) == (100.0, 0.0, 0)
    assert (iv.requests, iv.ok, iv.errors) == (3, 2, 1)
    assert iv.rps == 1.0                               # 2 successes over 2 s
    assert (iv.p50_ms, iv.p90_ms, iv.p99_ms, iv.max_ms) == (1.0, 3.001, 3.001, 3.001)
    assert iv.p95_ms == 3.001
    # the next stage begins while the first is still open: the clock runs on
    s1 = r.begin_stage(StageMeta(index=1, label="b"), started_at=102.5)
    s0.ok(5_000)                                       # the first stage's straggler
    s1.ok(2_000)
    clock.t = 103.0
    iv = r.tick()
    assert (iv.t, iv.elapsed_s, iv.stage, iv.requests) == (102.0, 2.0, 1, 2)
    assert iv.max_ms == 5.003                          # HDR precision
    assert r.intervals == list(r.intervals) and len(r.intervals) == 2
    assert s0.ok_n == 3 and s1.ok_n == 1


def test_a_stage_finished_between_ticks_owes_its_last_requests_to_the_next_second():
    clock = Clock(10.0)
    r = Recorder(wall_clock=clock)
    s0 = r.begin_stage(StageMeta(index=0, label="a"))
    s0.ok(1_000)
    s0.error("timeout", 8_000)
    clock.t = 10.5
    done = r.finish(s0, 0.5)
    assert (done.requests, done.ok, done.errors) == (2, 1, 1)
    assert r.stages == [done] and r.stage_requests == 0
    s1 = r.begin_stage(StageMeta(index=1, label="b"))   # none open: the clock restarts
    s1.ok(2_000)
    clock.t = 11.5
    iv = r.tick()
    assert (iv.t, iv.elapsed_s, iv.stage) == (10.5, 0.5, 1)
    assert (iv.requests, iv.ok, iv.errors) == (3, 2, 1)
    assert iv.rps == 2.0 and iv.max_ms == 2.0
    clock.t = 12.5                                      # nothing since: an empty second
    iv = r.tick()
    assert (iv.requests, iv.rps, iv.p99_ms) == (0, 0.0, 0.0)


def test_a_tick_right_after_another_with_nothing_recorded_makes_no_second():
    clock = Clock(0.0)
    r = Recorder(wall_clock=clock)
    s = r.begin_stage(StageMeta(0, "a"))
    clock.t = 0.05                                     # 50 ms: a second of its own
    iv = r.tick()
    assert iv is not None and iv.requests == 0
    clock.t = 0.05 + 1 / 32
    assert r.tick() is None
    clock.t = 0.05 + 2 / 32
    s.ok(1_000)                                        # a request makes even a short one
    iv = r.tick()
    assert iv is not None and iv.requests == 1 and iv.rps == 32.0
    assert len(r.intervals) == 2


def test_a_short_second_with_only_a_carried_error_is_still_recorded():
    clock = Clock(0.0)
    r = Recorder(wall_clock=clock)
    s = r.begin_stage(StageMeta(0, "a"))
    s.error("timeout", 1_000)
    r.finish(s, 1.0)
    r.begin_stage(StageMeta(1, "b"))
    iv = r.tick()
    assert iv is not None and (iv.requests, iv.errors, iv.rps) == (1, 1, 0.0)


def test_end_stage_ticks_then_freezes_the_current_stage():
    clock = Clock(50.0)
    r = Recorder(wall_clock=clock)
    s = r.begin_stage(StageMeta(index=0, label="a"))
    s.ok(1_000)
    clock.t = 51.0
    result = r.end_stage(1.0, stable=True, in_flight=2)
    assert (result.requests, result.stable, result.in_flight_at_end) == (1, True, 2)
    assert len(r.intervals) == 1 and r.intervals[0].requests == 1
    assert r.current_stream is None and r.stage_histogram == LatencyHistogram()
    # with no stage begun, end_stage records an empty one numbered after the others
    empty = r.end_stage(0.0)
    assert (empty.index, empty.label, empty.requests) == (1, "", 0)
    assert [st.index for st in r.stages] == [0, 1]


def test_the_recorder_records_into_the_current_stage_and_refuses_without_one():
    r = Recorder(wall_clock=Clock(0.0))
    for call in (lambda: r.ok(1), lambda: r.error("timeout", 1), lambda: r.status(200),
                 lambda: r.late(), lambda: r.ok_by_input(1), lambda: r.error_by_input("x", 1)):
        with pytest.raises(RuntimeError, match="^recorder: no stage begun$"):
            call()
    assert r.stage_requests == 0
    s = r.begin_stage(StageMeta(0, "a"), started_at=0.0)
    r.ok(1_000, 200)
    r.ok(2_000)
    r.error("http_4xx", 3_000, 404)
    r.error("timeout", 4_000)
    r.status(200)
    r.status(204)
    r.late()
    r.late(3)
    assert r.stage_requests == 4
    assert s.codes == {200: 2, 404: 1, 204: 1}
    assert s.kinds == {"http_4xx": 1, "timeout": 1}
    assert (s.late_n, s.buf, s.err_buf) == (4, [1_000, 2_000], [3_000, 4_000])
    r.tick()
    assert r.stage_histogram == _hist([1_000, 2_000])
    stream = s.begin_streams(slo=True)
    assert r.current_stream is stream and stream.slo is True


def test_by_input_stages_split_each_second_by_the_payloads_buckets():
    r = Recorder(wall_clock=Clock(0.0))
    s = r.begin_stage(StageMeta(0, "a"), started_at=0.0)
    # payloads 0,1 -> bucket 0; payload 2 -> bucket 1; payload 3 -> none
    r.begin_breakdown("payload_bytes", ["small", "large"], [(1, 10), (11, 90)], [0, 0, 1, -1],
                      unit="B")
    r.ok_by_input(1_000, 200, payload=0)
    r.ok_by_input(2_000, 200, payload=1)
    r.error_by_input("http_5xx", 9_000, 503, payload=2)
    r.ok_by_input(4_000, payload=2)
    r.error_by_input("timeout", 7_000, payload=0)
    r.ok_by_input(5_000, 200, payload=3)
    assert s.marks == [0, 1, 2, 3] and s.err_marks == [~2, ~0]
    assert s.codes == {200: 3, 503: 1} and s.kinds == {"http_5xx": 1, "timeout": 1}
    result = r.finish(s, 1.0)
    small, large = result.breakdown
    assert (small.key, small.label, small.lo, small.hi, small.unit) == (
        "payload_bytes", "small", 1, 10, "B")
    assert (small.requests, small.errors, large.requests, large.errors) == (3, 1, 2, 1)
    assert small.hist() == _hist([1_000, 2_000, 7_000])
    assert large.hist() == _hist([4_000, 9_000])
    assert small.latency_ms == LatencySummary.of(small.hist()) and small.overflow == 0
    assert (result.requests, result.ok, result.errors) == (6, 4, 2)


def test_input_buckets_ignore_an_empty_second_and_count_errors_by_their_inverted_index():
    b = InputBuckets("k", ["x", "y"], [(0, 1), (2, 3)], np.array([1, 0]))
    b.add([], [])
    assert (b.requests, b.errors) == ([0, 0], [0, 0])
    b.add([10, 20, 30], [0, ~0, ~1])
    assert (b.requests, b.errors) == ([1, 2], [1, 1])
    assert b.hists[1] == _hist([10, 20]) and b.hists[0] == _hist([30])
    (x, y) = b.results()
    assert (x.label, x.lo, x.hi, x.requests, x.errors, y.label, y.requests, y.errors) == (
        "x", 0, 1, 1, 1, "y", 2, 1)
    assert x.unit == ""


def test_a_plain_request_in_a_by_input_stage_is_a_bug_that_is_reported():
    r = Recorder(wall_clock=Clock(0.0))
    s = r.begin_stage(StageMeta(0, "a"), started_at=0.0)
    r.begin_breakdown("k", ["x"], [(0, 1)], [0])
    s.ok(1_000)
    with pytest.raises(RuntimeError, match="^recorder: a by-input stage recorded a request "
                                           "without its input$"):
        r.tick()
    s2 = r.begin_stage(StageMeta(1, "b"), started_at=0.0)
    r.begin_breakdown("k", ["x"], [(0, 1)], [0])
    s2.error("timeout", 1_000)
    with pytest.raises(RuntimeError, match="without its input"):
        s2.flush()


def test_a_snapshot_of_a_streaming_stage_includes_its_unflushed_stream_figures():
    r = Recorder(wall_clock=Clock(0.0))
    s = r.begin_stage(StageMeta(0, "a"), started_at=0.0)
    stream = s.begin_streams(slo=False)
    s.ok(10_000, 200)
    stream.add(2_000, [1_000_000, 3_000_000], 500, output_tokens=3, input_tokens=7,
               source="usage", good=True)
    snap = r.snapshot(s, 1.0)
    assert (snap.output_tokens, snap.input_tokens, snap.tokens_from) == (3, 7, "usage")
    assert snap.ttft_ms.max == 2.0 and snap.itl_ms.max == 3.001 and snap.tpot_ms.max == 0.5
    assert snap.slo_attainment is None and snap.good_requests is None
    assert stream.ttft_buf == [2_000] and stream.ttft.count == 0     # nothing flushed
    final = r.finish(s, 1.0)
    assert (final.ttft_ms, final.itl_ms, final.output_tokens) == (snap.ttft_ms, snap.itl_ms, 3)
    assert r.snapshot(StageRecording(StageMeta(0, "x"), 0.0), 1.0).output_tokens is None


def test_a_seconds_percentiles_are_read_at_50_90_95_and_99():
    clock = Clock(0.0)
    r = Recorder(wall_clock=clock)
    s = r.begin_stage(StageMeta(0, "a"))
    for ms in range(1, 101):                           # 1..100 ms: every percentile distinct
        s.ok(ms * 1_000)
    clock.t = 3.0
    iv = r.tick()
    assert (iv.p50_ms, iv.p90_ms, iv.p95_ms, iv.p99_ms, iv.max_ms) == (
        50.015, 90.047, 95.039, 99.007, 100.031)
    assert iv.rps == 33.333                            # 100 over 3 s, to the millisecond


def test_interval_times_are_rounded_to_the_millisecond():
    clock = Clock(100.0)
    r = Recorder(wall_clock=clock)
    s = r.begin_stage(StageMeta(0, "a"))
    s.ok(1_000)
    clock.t = 101.00049
    r.tick()
    s.ok(1_000)
    clock.t = 102.5
    iv = r.tick()
    assert (iv.t, iv.elapsed_s) == (101.0, 1.0)        # 101.00049 and 1.00049, rounded


def test_a_streaming_second_carries_its_ttft_gaps_and_tokens():
    clock = Clock(0.0)
    r = Recorder(wall_clock=clock)
    s = r.begin_stage(StageMeta(0, "a"))
    stream = s.begin_streams(slo=False)
    s.ok(9_000)
    stream.add(2_000, [4_000_000], 100, output_tokens=5, input_tokens=1, source="usage",
               good=False)
    clock.t = 1.0
    iv = r.tick()
    assert (iv.ttft_p50_ms, iv.ttft_p99_ms, iv.itl_p50_ms, iv.itl_p99_ms, iv.output_tokens) == (
        2.0, 2.0, 4.001, 4.001, 5)
    # a streaming stage finished between ticks still gives its tokens to the next second
    stream.add(3_000, [], None, output_tokens=7, input_tokens=0, source="usage", good=False)
    s.ok(1_000)
    r.finish(s, 1.0)
    r.begin_stage(StageMeta(1, "b"))
    clock.t = 2.0
    iv = r.tick()
    assert (iv.ttft_p50_ms, iv.output_tokens, iv.itl_p50_ms) == (3.001, 7, None)
    clock.t = 3.0
    assert r.tick().output_tokens is None               # a classic stage's second


def test_input_buckets_add_up_over_seconds_and_need_one_range_per_label():
    b = InputBuckets("k", ["x"], [(0, 1)], np.array([0]))
    b.add([10], [0])
    b.add([20, 30], [0, ~0])
    assert (b.requests, b.errors) == ([3], [1])
    bad = InputBuckets("k", ["x", "y"], [(0, 1)], np.array([0]))
    with pytest.raises(ValueError):
        bad.results()


def test_hdrhistograms_first_use_cost_is_paid_once_when_a_recorder_is_made():
    import loadkit.results.recorder as recorder

    Recorder()
    assert recorder._warm is True


def test_seconds_before_any_stage_are_labelled_stage_0():
    clock = Clock(5.0)
    r = Recorder(wall_clock=clock)
    clock.t = 6.0
    iv = r.tick()
    assert (iv.t, iv.stage, iv.requests, iv.elapsed_s) == (5.0, 0, 0, 0.0)


def test_a_snapshot_keeps_every_request_and_a_finish_defaults_to_nothing_in_flight():
    r = Recorder(wall_clock=Clock(0.0))
    s = r.begin_stage(StageMeta(0, "a"), started_at=0.0)
    s.ok(1_000)
    s.error("timeout", 40_000)
    snap = r.snapshot(s, 1.0)
    assert snap.hist_all() == _hist([1_000, 40_000]) and snap.latency_all_ms.max == 40.031
    assert snap.in_flight_at_end == 0
    assert r.finish(s, 1.0).in_flight_at_end == 0
    r.begin_stage(StageMeta(1, "b"), started_at=0.0)
    assert r.end_stage(1.0).in_flight_at_end == 0


def test_a_by_input_stage_counts_codes_and_keeps_bucket_overflow_and_its_unit():
    r = Recorder(wall_clock=Clock(0.0))
    s = r.begin_stage(StageMeta(0, "a"), started_at=0.0)
    r.begin_breakdown("k", ["x"], [(0, 1)], [0])
    r.error_by_input("http_5xx", 1_000, 503, payload=0)
    r.error_by_input("http_5xx", 2_000, 503, payload=0)
    r.ok_by_input(5_000_000_000, 200, payload=0)
    assert s.codes == {503: 2, 200: 1}
    (b,) = r.finish(s, 1.0).breakdown
    assert (b.overflow, b.unit, b.requests, b.errors) == (1, "", 3, 2)
