"""Summaries and merges, field by field, where the exact answer is known.

A merge that drops a count (errors, kinds, status codes, in-flight requests), takes
the wrong extreme (the shortest duration, the latest start) or averages what must
add up gives a plausible but wrong result: these tests pin every field.
"""

from __future__ import annotations

from dataclasses import replace

from loadkit.results.aggregate import (
    breakdown_conflict,
    merge_breakdown,
    merge_health,
    merge_profiles,
    merge_server_metrics,
    merge_server_timing,
    merge_stages,
    merge_timeseries,
    summarize,
)
from loadkit.results.analysis import RampAnalysis
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import (
    BreakdownBucket,
    GeneratorHealth,
    LatencySummary,
    Summary,
)
from loadkit.results.server import ScrapeStats, ServerPoint, ServerSeries
from loadkit.testing import T0, interval, profile, stage


def _hist(values_us: list[int]) -> LatencyHistogram:
    h = LatencyHistogram()
    h.record_many(values_us)
    return h


def test_summary_adds_the_measured_stages_and_leaves_the_warmup_out_of_every_field():
    warm = stage(0, [500] * 7, errors={"connect": 3}, warmup=True, duration_s=9.0, late=5,
                 batch_size=4)
    s1 = stage(1, [100] * 2 + [1] * 8, errors=2, duration_s=2.0, batch_size=4, late=1)
    s2 = stage(2, [50] + [3] * 6, errors={"timeout": 1}, duration_s=3.0, late=2)
    s = summarize([warm, s1, s2])
    assert (s.requests, s.ok, s.errors) == (17, 14, 3)
    assert s.error_kinds == {"http_5xx": 2, "timeout": 1}
    assert list(s.error_kinds) == ["http_5xx", "timeout"]           # sorted by kind
    assert s.late == 3
    assert s.duration_s == 5.0
    assert s.throughput_rps == 2.8                                  # 14 successes / 5 s
    assert s.rows_per_s == 7.6                                      # (8 * 4 + 6 * 1) / 5 s
    assert s.latency_ms == LatencySummary.of(_hist([1_000] * 8 + [3_000] * 6))
    assert s.latency_all_ms == LatencySummary.of(
        _hist([100_000] * 2 + [1_000] * 8 + [50_000] + [3_000] * 6))
    assert (s.latency_all_ms.max, s.latency_ms.max) == (100.031, 3.001)   # HDR precision


def test_a_summary_rounds_durations_and_rates_to_the_millisecond():
    short = replace(stage(1, [1] * 10), duration_s=0.0004, rows_per_s=0.0)
    s = summarize([stage(0, [1] * 10, duration_s=3.0), short])
    assert s.duration_s == 3.0                                      # 3.0004 rounded
    assert s.throughput_rps == 6.666                                # 20 / 3.0004, 3 places
    assert s.rows_per_s == 3.333                                    # 3.333 * 3 / 3.0004


def test_a_summary_of_zero_seconds_has_zero_rates_and_of_only_warmup_is_empty():
    s = summarize([stage(0, [1] * 4, duration_s=0.0)])
    assert (s.requests, s.duration_s, s.throughput_rps, s.rows_per_s) == (4, 0.0, 0.0, 0.0)
    assert summarize([stage(0, [1] * 4, warmup=True)]) == Summary()
    assert summarize([]) == Summary()


def _parts():
    a = stage(0, [40] + [2] * 9, errors={"timeout": 1}, concurrency=3, rate=0.1,
              duration_s=2.0, started_at=T0 + 1, stable=True, late=1, in_flight_at_end=2,
              batch_size=2, label="steady")
    b = stage(0, [60, 70, 80] + [4] * 3, errors={"http_5xx": 2, "timeout": 1},
              concurrency=5, rate=0.2, duration_s=4.0, started_at=T0, stable=True, late=4,
              in_flight_at_end=3, batch_size=2, label="steady")
    return replace(a, redirects=3), replace(b, redirects=4)


def test_merging_a_stage_adds_counts_codes_and_loads_and_takes_the_longest_duration():
    a, b = _parts()
    m = merge_stages([a, b])
    assert (m.requests, m.ok, m.errors) == (16, 12, 4)
    assert m.error_kinds == {"http_5xx": 2, "timeout": 2}
    assert m.status_codes == {"200": 12, "503": 2}
    assert list(m.status_codes) == ["200", "503"]
    assert (m.concurrency, m.rate) == (8, 0.3)
    assert m.duration_s == 4.0
    assert m.throughput_rps == 3.0                                  # 12 / 4 s
    assert m.rows_per_s == 6.0                                      # (9 + 3) * 2 rows / 4 s
    assert m.late == 5 and m.in_flight_at_end == 5 and m.redirects == 7
    assert m.started_at == T0                                       # the earliest part
    assert m.stable is True
    assert (m.index, m.label, m.batch_size) == (0, "steady", 2)     # the first part's
    assert m.hist() == _hist([2_000] * 9 + [4_000] * 3)
    assert m.hist_all() == _hist([40_000] + [2_000] * 9 + [60_000, 70_000, 80_000]
                                 + [4_000] * 3)
    assert m.latency_ms == LatencySummary.of(m.hist())
    assert m.latency_all_ms == LatencySummary.of(m.hist_all())
    assert m.latency_all_ms.max > m.latency_ms.max


def test_a_merged_stage_counts_every_request_once_in_its_all_histogram_and_overflow():
    a = stage(0, latencies_us=[5_000_000_000, 1_000, 1_000], errors=1)   # > 1 h: clamped
    b = stage(0, latencies_us=[5_000_000_000, 7_000_000_000, 2_000])
    assert (a.overflow, a.overflow_all, b.overflow, b.overflow_all) == (0, 1, 2, 2)
    m = merge_stages([a, b])
    assert (m.overflow, m.overflow_all) == (2, 3)
    assert m.hist_all().count == m.requests == 6


def test_a_merged_stage_is_unstable_when_any_part_was_and_unknown_when_none_said():
    a, b = _parts()
    assert merge_stages([a, replace(b, stable=False)]).stable is False
    assert merge_stages([a, replace(b, stable=None)]).stable is True
    assert merge_stages([replace(a, stable=None), replace(b, stable=None)]).stable is None


def test_a_merged_load_is_unknown_only_when_no_part_had_one():
    a, b = _parts()
    m = merge_stages([a, replace(b, concurrency=None, rate=None)])
    assert (m.concurrency, m.rate) == (3, 0.1)
    m = merge_stages([replace(a, concurrency=None, rate=None),
                      replace(b, concurrency=None, rate=None)])
    assert (m.concurrency, m.rate) == (None, None)
    assert merge_stages([replace(a, rate=1 / 3), replace(b, rate=1 / 3)]).rate == 0.666667


def test_a_merged_stage_of_zero_seconds_has_zero_rates():
    m = merge_stages([stage(0, [1] * 3, duration_s=0.0), stage(0, [1] * 2, duration_s=0.0)])
    assert (m.duration_s, m.throughput_rps, m.rows_per_s) == (0.0, 0.0, 0.0)


def test_merging_nothing_is_refused():
    import pytest

    with pytest.raises(ValueError, match="^nothing to merge$"):
        merge_stages([])


def _bucket(key: str, lo: float, hi: float, values_us: list[int], errors: int = 0
            ) -> BreakdownBucket:
    h = _hist(values_us)
    return BreakdownBucket(key=key, label=f"{lo:g}-{hi:g}", lo=lo, hi=hi,
                           requests=len(values_us), errors=errors,
                           latency_ms=LatencySummary.of(h), histogram=h.encode(), unit="B",
                           overflow=h.overflow)


def test_input_buckets_with_the_same_edges_add_bucket_by_bucket():
    a = replace(stage(0, [1]), breakdown=(_bucket("payload_bytes", 0, 10, [1_000] * 3, 1),
                                          _bucket("payload_bytes", 10, 99, [9_000] * 2)))
    b = replace(stage(0, [1]), breakdown=(_bucket("payload_bytes", 0, 10, [2_000], 1),
                                          _bucket("payload_bytes", 10, 99, [8_000] * 4, 2)))
    assert not breakdown_conflict([a, b])
    low, high = merge_breakdown([a, b])
    assert (low.requests, low.errors, high.requests, high.errors) == (4, 2, 6, 2)
    assert low.hist() == _hist([1_000] * 3 + [2_000])
    assert high.latency_ms == LatencySummary.of(_hist([9_000] * 2 + [8_000] * 4))
    assert (low.key, low.lo, low.hi, low.unit, low.label) == ("payload_bytes", 0, 10, "B", "0-10")
    assert merge_stages([a, b]).breakdown == (low, high)


def test_input_buckets_with_other_edges_or_keys_do_not_merge():
    a = replace(stage(0, [1]), breakdown=(_bucket("payload_bytes", 0, 10, [1_000]),))
    other_edge = replace(stage(0, [1]), breakdown=(_bucket("payload_bytes", 0, 11, [1_000]),))
    other_key = replace(stage(0, [1]), breakdown=(_bucket("len(text)", 0, 10, [1_000]),))
    none = stage(0, [1])
    for b in (other_edge, other_key, none):
        assert breakdown_conflict([a, b]) and merge_breakdown([a, b]) == ()
    assert not breakdown_conflict([a]) and not breakdown_conflict([none, none])
    assert merge_breakdown([none, none]) == () and merge_breakdown([]) == ()
    assert merge_breakdown([a]) == a.breakdown


def test_server_metrics_of_one_server_come_whole_from_the_part_that_scraped_most():
    series = {"up": ServerSeries(kind="gauge", scrapes=3, mean=1.0)}
    better = {"up": ServerSeries(kind="gauge", scrapes=9, mean=2.0),
              "q": ServerSeries(kind="gauge", scrapes=9, mean=5.0)}
    a = replace(stage(0, [1]), server_metrics=series,
                server_scrapes=(ScrapeStats("http://s/metrics", ok=3, failed=6),))
    b = replace(stage(0, [1]), server_metrics=better,
                server_scrapes=(ScrapeStats("http://s/metrics", ok=9),))
    c = replace(stage(0, [1]), server_metrics={"only_c": ServerSeries(kind="counter")},
                server_scrapes=(ScrapeStats("http://other/metrics", ok=1),))
    got, stats = merge_server_metrics([a, b, c])
    assert got == {"up": better["up"], "q": better["q"], "only_c": ServerSeries(kind="counter")}
    assert stats == (ScrapeStats("http://s/metrics", ok=9),
                     ScrapeStats("http://other/metrics", ok=1))
    # a tie keeps the first part's
    tie = replace(b, server_scrapes=(ScrapeStats("http://s/metrics", ok=3),))
    got, stats = merge_server_metrics([a, tie])
    assert got["up"] == series["up"] and stats == a.server_scrapes
    m = merge_stages([a, b, c])
    assert m.server_metrics == {"up": better["up"], "q": better["q"],
                                "only_c": ServerSeries(kind="counter")}
    assert m.server_scrapes == (ScrapeStats("http://s/metrics", ok=9),
                                ScrapeStats("http://other/metrics", ok=1))


def test_server_timing_histograms_add_and_answers_without_one_are_counted():
    a = replace(stage(0, [1]), server_timing_histogram=_hist([1_000, 2_000]).encode(),
                server_timing_missing=1)
    b = replace(stage(0, [1]), server_timing_missing=2)
    c = replace(stage(0, [1]), server_timing_histogram=_hist([5_000]).encode())
    got = merge_server_timing([a, b, c])
    assert got == {"server_timing_ms": LatencySummary.of(_hist([1_000, 2_000, 5_000])),
                   "server_timing_histogram": _hist([1_000, 2_000, 5_000]).encode(),
                   "server_timing_missing": 3}
    assert merge_server_timing([b, b]) == {"server_timing_missing": 4}
    m = merge_stages([a, b, c])
    assert (m.server_timing_ms, m.server_timing_missing) == (got["server_timing_ms"], 3)


def test_merged_seconds_weight_percentiles_by_requests_add_rates_and_keep_the_worst_max():
    t0 = T0
    a = [interval(t0, 0, 10.0, requests=10, p50_ms=2.0, rps=9.5),
         interval(t0 + 1, 1, 30.0, requests=0, p50_ms=0.0, rps=0.0)]
    b = [interval(t0, 1, 40.0, requests=30, errors=3, p50_ms=6.0, rps=27.25),
         interval(t0 + 1, 0, 20.0, requests=0, p50_ms=1.0, rps=0.0)]
    first, second = merge_timeseries([a, b])
    assert (first.t, first.elapsed_s, first.stage) == (t0, 0.0, 1)
    assert (first.requests, first.ok, first.errors) == (40, 37, 3)
    assert first.rps == 36.75
    assert first.p50_ms == 5.0                                     # (2*10 + 6*30) / 40
    assert first.p90_ms == first.p95_ms == first.p99_ms == 32.5    # (10*10 + 40*30) / 40
    assert first.max_ms == 40.0
    # a second without requests: nothing to weight, zero (and still the worst max)
    assert (second.elapsed_s, second.stage, second.requests) == (1.0, 1, 0)
    assert (second.p50_ms, second.p99_ms, second.max_ms) == (0.0, 0.0, 30.0)
    assert merge_timeseries([[], []]) == ()


def test_merged_seconds_round_weighted_percentiles_to_the_microsecond():
    a = [interval(T0 + 5, 0, 1.0, requests=1, p50_ms=1.0)]
    b = [interval(T0 + 5, 0, 2.0, requests=2, p50_ms=2.0)]
    (only,) = merge_timeseries([a, b])
    assert only.p50_ms == 1.667 and only.p99_ms == 1.667         # 5 / 3
    assert only.elapsed_s == 0.0
    later = [interval(T0 + 0.0004, 0, 1.0, requests=1), interval(T0 + 1.5, 0, 1.0, requests=1)]
    assert [iv.elapsed_s for iv in merge_timeseries([later])] == [0.0, 1.5]   # 1.4996


def test_merged_profiles_keep_a_stage_only_one_part_ran_and_span_both_parts():
    p1 = profile(stages=[stage(0, [1] * 4), stage(1, [2] * 5, errors=1)],
                 analysis=RampAnalysis(no_knee=True), started_at=T0 + 2, finished_at=T0 + 20)
    p1 = replace(p1, server_timeseries=())
    points = (ServerPoint(t=T0, elapsed_s=0.0, stage=0, values={"up": 1.0}),)
    p2 = replace(profile(stages=[stage(0, [3] * 6)], started_at=T0, finished_at=T0 + 15),
                 server_timeseries=points)
    m = merge_profiles([p1, p2])
    assert [s.requests for s in m.stages] == [10, 5]
    assert m.stages[1] == merge_stages([p1.stages[1]])
    assert m.summary == summarize(m.stages)
    assert (m.started_at, m.finished_at) == (T0, T0 + 20)
    assert m.analysis is None                  # judge derives it afresh
    assert m.server_timeseries == points
    assert merge_profiles([p2, p1]).server_timeseries == points


def test_health_of_merged_generators_field_by_field():
    a = GeneratorHealth(loop_lag_p99_ms=1.0, loop_lag_max_ms=7.0, schedule_lag_p99_ms=3.0,
                        schedule_lag_max_ms=4.0, late=2, cpu_share=0.4, max_rss_mb=90.0,
                        connections_opened=5, reconnects=1, stale_retries=2, check_share=0.2,
                        check_mean_us=9.0, decompressed=1, decompress_mean_us=10.0)
    b = GeneratorHealth(loop_lag_p99_ms=2.0, loop_lag_max_ms=5.0, schedule_lag_p99_ms=1.0,
                        schedule_lag_max_ms=8.0, late=3, cpu_share=0.7, max_rss_mb=60.0,
                        connections_opened=None, reconnects=4, stale_retries=0, check_share=0.1,
                        check_mean_us=12.0, decompressed=3, decompress_mean_us=20.0,
                        reasons=("slow",))
    h = merge_health([a, b], concurrent=False)
    assert h == GeneratorHealth(
        loop_lag_p99_ms=2.0, loop_lag_max_ms=7.0, schedule_lag_p99_ms=3.0,
        schedule_lag_max_ms=8.0, late=5, cpu_share=0.7, max_rss_mb=90.0, fell_behind=False,
        reasons=("slow",), connections_opened=None, reconnects=5, stale_retries=2,
        check_share=0.2, check_mean_us=12.0, decompressed=4, decompress_mean_us=17.5)
    assert merge_health([a, b], concurrent=True).cpu_share == 1.1
    assert merge_health([a], concurrent=True).decompress_mean_us == 10.0
    nothing = GeneratorHealth(decompress_mean_us=0.0)
    assert merge_health([nothing, nothing], concurrent=True).decompress_mean_us == 0.0
    assert merge_health([], concurrent=True) == GeneratorHealth()
    assert merge_health([GeneratorHealth(decompressed=3, decompress_mean_us=1 / 3)],
                        concurrent=True).decompress_mean_us == 0.33


def test_a_merged_stage_keeps_each_error_kinds_first_failure_from_the_earliest_part():
    a = replace(stage(0, [1.0], started_at=T0 + 2), first_errors={"timeout": "a: timed out"})
    b = replace(stage(0, [1.0], started_at=T0 + 1),
                first_errors={"timeout": "b: timed out", "http_5xx": "b: 503"})
    m = merge_stages([a, b])
    assert m.first_errors == {"http_5xx": "b: 503", "timeout": "b: timed out"}
    assert list(m.first_errors) == ["http_5xx", "timeout"]


def test_a_merged_stages_rows_a_second_are_rounded_to_the_millisecond():
    m = merge_stages([stage(0, [1.0] * 10, duration_s=3.0), stage(0, [1.0], duration_s=3.0)])
    assert m.rows_per_s == 3.666                        # (3.333 + 0.333) * 3 / 3


def test_half_a_second_still_has_rates():
    s = summarize([stage(0, [1.0] * 3, duration_s=0.5)])
    assert (s.throughput_rps, s.rows_per_s) == (6.0, 6.0)
    m = merge_stages([stage(0, [1.0] * 2, duration_s=0.75), stage(0, [1.0], duration_s=0.75)])
    assert (m.throughput_rps, m.rows_per_s) == (4.0, 4.0)
    m = merge_stages([stage(0, [1.0] * 10, duration_s=3.0), stage(0, [1.0], duration_s=3.0)])
    assert m.throughput_rps == 3.667                      # 11 / 3, to the millisecond


def test_a_merged_profile_ends_with_its_last_part():
    early = profile(stages=[stage(0, [1.0])], started_at=T0, finished_at=T0 + 10)
    late = profile(stages=[stage(0, [1.0])], started_at=T0 + 1, finished_at=T0 + 30)
    assert (merge_profiles([early, late]).started_at, merge_profiles([early, late]).finished_at
            ) == (T0, T0 + 30)


def test_merged_rates_and_cpu_shares_are_rounded_to_three_places():
    (iv,) = merge_timeseries([[interval(T0, 0, 1.0, rps=0.1234)], [interval(T0, 0, 1.0, rps=0.1)]])
    assert iv.rps == 0.223
    h = merge_health([GeneratorHealth(cpu_share=0.1234), GeneratorHealth(cpu_share=0.2)],
                     concurrent=True)
    assert h.cpu_share == 0.323


def test_a_stages_first_failures_are_kept_sorted_by_kind():
    from loadkit.results.recorder import StageMeta, StageRecording

    rec = StageRecording(StageMeta(0, "s"), 0.0)
    rec.error("timeout", 1_000)
    rec.firsts.update({"timeout": "no answer in 1s", "http_5xx": "503"})
    rec.flush()
    assert list(rec.result(1.0).first_errors.items()) == [("http_5xx", "503"),
                                                          ("timeout", "no answer in 1s")]
