"""Streamed answers in the result: TTFT, gaps, TPOT, tokens, SLO counts, merged exactly."""

from __future__ import annotations

from collections import Counter

import numpy as np

from loadkit.results.aggregate import merge_stages, merge_timeseries, summarize
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import LatencySummary, StreamSecond
from loadkit.results.recorder import StageMeta, StageRecording
from loadkit.results.streams import (
    MAX_DETAILS,
    StreamRecording,
    merge_seconds,
    merge_stream_fields,
    second_fields,
    stream_fields,
)
from loadkit.testing import T0, interval


def _hist(values_us):
    h = LatencyHistogram()
    h.record_many(values_us)
    return h


def streamed_stage(index=0, requests=(), *, errors=0, slo=True, duration_s=2.0,
                   started_at=0.0):
    """A stage of streamed requests: each ``(ttft_us, gaps_ns, tpot_us, out, in, source,
    good)``; ``errors`` failed ones (no stream figures, a detail each)."""
    rec = StageRecording(StageMeta(index=index, label=f"s{index}"), started_at)
    stream = rec.begin_streams(slo)
    for ttft, gaps, tpot, out, inp, source, good in requests:
        rec.ok(ttft * 2, 200)
        stream.add(ttft, list(gaps), tpot, out, inp, source, good)
    for _ in range(errors):
        rec.error("stream_incomplete", 5_000, 200)
        stream.detail("no [DONE]")
    rec.flush()
    stream.flush()
    return rec.result(duration_s)


A = [(1_000, [2_000_000, 4_000_000], 3_000, 10, 5, "usage", True),
     (3_000, [6_000_000], 5_000, 6, 4, "usage", False)]
B = [(2_000, [], None, 1, 2, "chunks", True)]


def test_a_streamed_stage_reads_each_figure_from_its_own_histogram():
    s = streamed_stage(0, A, errors=1, duration_s=2.0)
    assert s.streamed and (s.requests, s.ok, s.errors) == (3, 2, 1)
    assert s.ttft_ms == LatencySummary.of(_hist([1_000, 3_000]))
    assert s.itl_ms == LatencySummary.of(_hist([2_000, 4_000, 6_000]))
    assert s.tpot_ms == LatencySummary.of(_hist([3_000, 5_000]))
    assert s.stream_hist("itl") == _hist([2_000, 4_000, 6_000])
    assert (s.output_tokens, s.input_tokens, s.output_tokens_per_s) == (16, 9, 8.0)
    assert s.tokens_from == "usage"
    assert (s.good_requests, s.slo_attainment, s.goodput_rps) == (1, round(1 / 3, 6), 0.5)
    assert s.error_details == {"no [DONE]": 1}


def test_without_an_slo_nothing_is_counted_good():
    s = streamed_stage(0, A, slo=False)
    assert (s.good_requests, s.slo_attainment, s.goodput_rps) == (None, None, None)


def test_stream_fields_of_no_requests_and_no_time_stay_finite():
    f = stream_fields(LatencyHistogram(), LatencyHistogram(), LatencyHistogram(), 5, 0, 0,
                      Counter(), {"b": 1, "a": 2}, 0.0, 0)
    assert f["slo_attainment"] == 0.0 and f["goodput_rps"] == 0.0
    assert f["output_tokens_per_s"] == 5e9
    assert list(f["error_details"]) == ["a", "b"]
    assert f["tokens_from"] == "" and f["ttft_histogram"] == LatencyHistogram().encode()
    assert stream_fields(LatencyHistogram(), LatencyHistogram(), LatencyHistogram(), 1, 0, 2,
                         Counter(usage=0, chunks=3), {}, 3.0, 3)["tokens_from"] == "chunks"
    assert stream_fields(LatencyHistogram(), LatencyHistogram(), LatencyHistogram(), 1, 0, 2,
                         Counter(usage=1, chunks=3), {}, 3.0, 3)["goodput_rps"] == 0.667


def test_stages_of_several_generators_merge_their_stream_figures_exactly():
    a = streamed_stage(0, A, errors=1, duration_s=2.0)
    b = streamed_stage(0, B, duration_s=4.0)
    m = merge_stages([a, b])
    assert m.ttft_ms == LatencySummary.of(_hist([1_000, 3_000, 2_000]))
    assert m.stream_hist("itl") == _hist([2_000, 4_000, 6_000])
    assert m.stream_hist("tpot") == _hist([3_000, 5_000])
    assert (m.output_tokens, m.input_tokens) == (17, 11)
    assert m.output_tokens_per_s == 4.25                  # 17 tokens over the longest 4 s
    assert m.tokens_from == "mixed"
    assert (m.good_requests, m.slo_attainment, m.goodput_rps) == (2, 0.5, 0.5)
    assert m.error_details == {"no [DONE]": 1}
    s = summarize([a, b])                                # consecutive: durations add
    assert (s.output_tokens, s.output_tokens_per_s, s.good_requests) == (17, 2.833, 2)
    assert s.slo_attainment == 0.5 and s.goodput_rps == 0.333


def test_a_merge_is_good_counted_only_when_every_part_counted():
    a = streamed_stage(0, A)
    b = streamed_stage(0, B, slo=False)
    m = merge_stages([a, b])
    assert (m.good_requests, m.slo_attainment, m.goodput_rps) == (None, None, None)


def test_mixed_token_sources_stay_mixed_and_classic_stages_merge_to_nothing():
    a = streamed_stage(0, [A[0], B[0]])
    assert a.tokens_from == "mixed"
    b = streamed_stage(0, [A[1]])
    assert merge_stream_fields([a, b], 1.0, 3)["tokens_from"] == "mixed"
    same = streamed_stage(0, [B[0]])
    assert merge_stream_fields([same, same], 1.0, 2)["tokens_from"] == "chunks"
    classic = StageRecording(StageMeta(0, "c"), 0.0).result(1.0)
    assert merge_stream_fields([classic, classic], 1.0, 0) == {}
    assert merge_stream_fields([classic, same], 1.0, 1)["output_tokens"] == 1


def test_merged_error_details_keep_the_most_common_and_add_counts():
    a, b = StreamRecording(False), StreamRecording(False)
    for k in range(MAX_DETAILS + 5):
        a.detail(f"d{k}")
    assert len(a.details) == MAX_DETAILS
    a.detail("d0")                                    # a known text is still counted
    assert a.details["d0"] == 2
    b.detail("d1")
    b.detail("d1")
    sa = StageRecording(StageMeta(0, "a"), 0.0)
    sa.stream = a
    sb = StageRecording(StageMeta(0, "b"), 0.0)
    sb.stream = b
    m = merge_stream_fields([sa.result(1.0), sb.result(1.0)], 1.0, 0)
    assert m["error_details"]["d1"] == 3 and m["error_details"]["d0"] == 2
    assert len(m["error_details"]) == MAX_DETAILS


def test_a_recording_flushes_once_a_tick_and_a_snapshot_folds_in_the_buffers():
    r = StreamRecording(slo=True)
    r.add(1_000, [1_500_000, 2_500_000], 700, 4, 3, "usage", True)
    r.add(None, [], None, 2, 1, "chunks", False)
    assert (r.output_tokens, r.iv_tokens, r.input_tokens, r.good) == (6, 6, 4, 1)
    r2 = StreamRecording(slo=True)
    r2.add(None, [], None, 1, 1, "usage", True)
    r2.add(None, [], None, 1, 1, "usage", True)
    assert r2.good == 2 and r2.output_tokens == 2
    assert r.sources == Counter(usage=1, chunks=1)
    snap = r.snapshot()
    assert snap.ttft == _hist([1_000]) and snap.itl == _hist([1_500, 2_500])
    assert snap.tpot == _hist([700]) and snap.slo is True
    assert (snap.output_tokens, snap.input_tokens, snap.good) == (6, 4, 1)
    assert snap.sources == r.sources and snap.sources is not r.sources
    assert r.ttft.count == 0 and r.itl_buf == [1_500_000, 2_500_000]
    ttft, itl, tokens = r.flush()
    assert ttft == [1_000] and list(itl) == [1_500, 2_500] and tokens == 6
    assert (r.ttft_buf, r.itl_buf, r.tpot_buf, r.iv_tokens) == ([], [], [], 0)
    assert r.ttft == snap.ttft and r.itl == snap.itl and r.tpot == snap.tpot
    assert r.flush()[2] == 0 and r.output_tokens == 6
    f = r.fields(2.0, 2)
    assert (f["good_requests"], f["slo_attainment"], f["goodput_rps"]) == (1, 0.5, 0.5)
    assert StreamRecording(slo=False).fields(1.0, 0)["good_requests"] is None


def test_one_seconds_stream_figures_are_its_percentiles_and_tokens():
    out = second_fields([1_000, 3_000], np.array([2_000, 4_000, 8_000]), 7)
    assert out == {"output_tokens": 7, "ttft_p50_ms": 1.0, "ttft_p99_ms": 3.001,
                   "itl_p50_ms": 4.001, "itl_p99_ms": 8.003}
    assert second_fields((v for v in [5_000]), iter([]), 0) == {
        "output_tokens": 0, "ttft_p50_ms": 5.003, "ttft_p99_ms": 5.003}
    assert second_fields([], [6_000], 1) == {"output_tokens": 1, "itl_p50_ms": 6.003,
                                              "itl_p99_ms": 6.003}
    spread = [ms * 1_000 for ms in range(1, 101)]          # p50, p99 and max all distinct
    assert second_fields(spread, np.array(spread), 0) == {
        "output_tokens": 0, "ttft_p50_ms": 50.015, "ttft_p99_ms": 99.007,
        "itl_p50_ms": 50.015, "itl_p99_ms": 99.007}


def test_generators_same_second_adds_tokens_and_keeps_the_worst_percentiles():
    a = StreamSecond(ttft_p50_ms=1.0, ttft_p99_ms=9.0, itl_p99_ms=None, output_tokens=3)
    b = StreamSecond(ttft_p50_ms=2.0, ttft_p99_ms=4.0, itl_p50_ms=0.5, output_tokens=None)
    assert merge_seconds([a, b]) == {"output_tokens": 3, "ttft_p50_ms": 2.0, "ttft_p99_ms": 9.0,
                                     "itl_p50_ms": 0.5}
    assert merge_seconds([StreamSecond(), StreamSecond()]) == {}
    assert merge_seconds([StreamSecond(output_tokens=0)]) == {"output_tokens": 0}
    from dataclasses import replace

    ivs = [[replace(interval(T0, 0, 5.0), output_tokens=4, ttft_p99_ms=7.0)],
           [replace(interval(T0, 0, 5.0), output_tokens=5, ttft_p99_ms=3.0)]]
    (one,) = merge_timeseries(ivs)
    assert (one.output_tokens, one.ttft_p99_ms, one.ttft_p50_ms) == (9, 7.0, None)


def test_merged_token_counts_add_zeros_as_zeros():
    a = streamed_stage(0, [(1_000, [], None, 0, 0, "usage", True)])
    assert merge_stream_fields([a, a], 1.0, 2)["input_tokens"] == 0
    assert merge_stream_fields([a, a], 1.0, 2)["output_tokens"] == 0
