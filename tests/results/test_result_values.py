"""The smaller values of results/: statuses and exit codes, server figures and their
combination, scrape notes, capacity-search records and a history's directions."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from loadkit.results.codec import dumps
from loadkit.results.history import direction_of
from loadkit.results.search import SearchAnalysis, SearchRecord, SearchSpace
from loadkit.results.server import (
    ScrapeStats,
    ServerSeries,
    combine_series,
    histogram_quantile,
    histogram_series,
    round6,
    series_key,
)
from loadkit.results.server_notes import scrape_notes
from loadkit.results.status import Status, exit_code_of
from loadkit.testing import profile, run_result, stage
from tests.results.records import round_trip


def test_every_status_has_its_one_exit_code_and_prints_as_its_value():
    assert {s: s.exit_code for s in Status} == {
        Status.PASS: 0, Status.FAIL: 1, Status.INCONCLUSIVE: 4, Status.ERROR: 3,
        Status.INTERRUPTED: 130}
    assert [str(s) for s in Status] == ["pass", "fail", "inconclusive", "error", "interrupted"]
    assert exit_code_of(None) == 1 and exit_code_of("bogus") == 1
    assert exit_code_of("inconclusive") == 4 and exit_code_of(Status.INTERRUPTED) == 130


def test_a_series_key_sorts_and_escapes_labels_as_the_text_format_does():
    assert series_key("up", {}) == "up"
    assert series_key("x", {"b": "2", "a": 'say "hi"\\\n'}) == 'x{a="say \\"hi\\"\\\\\\n",b="2"}'


def test_a_series_names_only_the_figures_of_its_kind():
    g = ServerSeries(kind="gauge", mean=2, min=1.0, max=None, rate_per_s=9.0)
    assert g.stat("mean") == 2.0 and type(g.stat("mean")) is float
    assert g.stat("max") is None and g.stat("rate") is None and g.stat("rate_per_s") is None
    c = ServerSeries(kind="counter", rate_per_s=3.5, increase=7.0, mean=1.0)
    assert (c.stat("rate"), c.stat("rate_per_s"), c.stat("increase"), c.stat("mean")) == (
        3.5, 3.5, 7.0, None)
    assert ServerSeries(kind="other", mean=1.0).stat("mean") is None


def test_histogram_quantiles_interpolate_within_the_bucket_as_prometheus_does():
    bounds, cum = [0.1, 0.5, 1.0, math.inf], [10, 30, 40, 40]
    assert histogram_quantile(0.25, bounds, cum) == pytest.approx(0.1 * 10 / 10)     # 0.1
    assert histogram_quantile(0.5, bounds, cum) == pytest.approx(0.1 + 0.4 * 10 / 20)
    assert histogram_quantile(0.125, bounds, cum) == pytest.approx(0.05)
    assert histogram_quantile(0.9, bounds, cum) == pytest.approx(0.5 + 0.5 * 6 / 10)
    assert histogram_quantile(0.99, bounds, [1, 1, 1, 10]) == 1.0      # in +Inf: top bound
    assert histogram_quantile(0.5, [math.inf], [4]) is None
    assert histogram_quantile(0.99, [1.0, math.inf], [1, 10]) == 1.0     # one finite bound
    assert histogram_quantile(0.5, [0.0, 1.0, math.inf], [4, 4, 4]) == 0.0
    assert histogram_quantile(0.5, [-1.0, 1.0, math.inf], [4, 4, 4]) == -1.0
    assert histogram_quantile(0.5, [1.0, 2.0, math.inf], [0, 0, 0]) is None
    assert histogram_quantile(0.5, [], []) is None
    assert histogram_quantile(0.5, [1.0], [1, 2]) is None
    assert histogram_quantile(0.0, [1.0, 2.0, math.inf], [0, 4, 4]) == 1.0   # empty bucket
    # a rank exactly at a bucket's cumulative count is that bucket's upper bound
    assert histogram_quantile(0.5, [1.0, 2.0, math.inf], [10, 10, 20]) == 1.0


def test_histogram_figures_come_from_bucket_deltas_to_six_digits():
    assert round6(1 / 3) == 0.333333 and round6(123456789.0) == 123457000.0
    s = histogram_series(count=40, total=10.0, window_s=8.0, scrapes=5,
                         buckets=[(0.1, 10), (0.5, 30), (1.0, 40)])
    assert (s.kind, s.scrapes, s.count, s.rate_per_s, s.mean) == ("histogram", 5, 40, 5.0, 0.25)
    assert (s.p50, s.p90, s.p99) == (0.3, 0.8, 0.98)
    assert s.window_s == 8.0 and s.buckets == ((0.1, 10), (0.5, 30), (1.0, 40))
    empty = histogram_series(0, 0.0, 0.0, 1, [(0.1, 0)])
    assert (empty.rate_per_s, empty.mean, empty.p50) == (None, None, None)


def test_consecutive_stages_combine_gauges_by_scrapes_and_add_counters_and_histograms():
    g1 = ServerSeries(kind="gauge", scrapes=1, mean=1.0, min=1.0, max=1.0, last=1.0)
    g2 = ServerSeries(kind="gauge", scrapes=3, mean=5.0, min=2.0, max=9.0, last=4.0)
    unseen = ServerSeries(kind="gauge", scrapes=2, mean=None)
    c1 = ServerSeries(kind="counter", scrapes=2, increase=10.0, rate_per_s=5.0, window_s=2.0)
    c2 = ServerSeries(kind="counter", scrapes=4, increase=20.0, rate_per_s=10.0 / 3,
                      window_s=6.0)
    c0 = ServerSeries(kind="counter", scrapes=1, increase=None, window_s=None)
    h1 = histogram_series(10, 1.0, 2.0, 2, [(0.1, 5), (1.0, 10)])
    h2 = histogram_series(30, 9.0, 6.0, 3, [(0.1, 10), (1.0, 30)])
    out = combine_series([{"g": g1, "c": c1, "h": h1, "only": g1},
                          {"g": g2, "c": c2, "h": h2},
                          {"g": unseen, "c": c0}])
    assert out["only"] is g1
    assert out["g"] == ServerSeries(kind="gauge", scrapes=6, mean=4.0, min=1.0, max=9.0,
                                    last=4.0)
    assert out["c"] == ServerSeries(kind="counter", scrapes=7, increase=30.0, rate_per_s=3.75,
                                    window_s=8.0)
    assert out["h"] == histogram_series(40, 10.0, 8.0, 5, [(0.1, 15), (1.0, 40)])
    assert combine_series([{"g": unseen}, {"g": unseen}])["g"] == ServerSeries(kind="gauge",
                                                                                 scrapes=4)
    assert combine_series([{"c": c0}, {"c": c0}])["c"] == ServerSeries(kind="counter",
                                                                         scrapes=2)
    # a series of another kind under the same key is left out; re-bucketed: no quantiles
    assert combine_series([{"c": c1}, {"c": g2}])["c"] is c1
    h3 = histogram_series(30, 9.0, 6.0, 3, [(0.2, 10), (1.0, 30)])
    assert combine_series([{"h": h1}, {"h": h3}])["h"] == ServerSeries(kind="histogram",
                                                                         scrapes=5)


def _scraped(index, *stats):
    return replace(stage(index, [1.0]), server_scrapes=tuple(stats))


def test_scrape_notes_name_failures_lost_series_and_bounds_per_source():
    src = "http://s/metrics"
    p = profile("steady", stages=[
        _scraped(0, ScrapeStats(src, ok=8, failed=2, failures={"timeout": 2},
                                lost=("a", "b", "c"), dropped=3, uncharted=1)),
        _scraped(1, ScrapeStats(src, ok=5, failed=1, failures={"connect": 1, "timeout": 0},
                                lost=("d", "e", "f"), dropped=1, uncharted=4),
                 ScrapeStats("http://quiet/m", ok=9))])
    assert scrape_notes(run_result(p)) == [
        f"steady: server_metrics {src}: 3 of 16 scrapes failed (connect 1, timeout 2); "
        "the load went on",
        f"steady: server_metrics {src}: series disappeared mid-run: a (stage 0), b (stage 0), "
        "c (stage 0), d (stage 1), e (stage 1) and 1 more",
        f"steady: server_metrics {src}: 3 series beyond max_series were not kept "
        "(narrow `include`)",
        f"steady: server_metrics {src}: the time series keeps the first 24 series; 4 more "
        "are in the stage figures only",
    ]
    five = profile("p", stages=[_scraped(2, ScrapeStats(src, ok=1, lost=tuple("vwxyz")))])
    assert scrape_notes(run_result(five)) == [
        f"p: server_metrics {src}: series disappeared mid-run: v (stage 2), w (stage 2), "
        "x (stage 2), y (stage 2), z (stage 2)"]
    assert scrape_notes(run_result(profile(stages=[stage(0, [1.0])]))) == []


def test_a_search_record_is_open_unless_its_space_is_integral_and_its_analysis_round_trips():
    assert SearchRecord(SearchSpace(start=1, max=8)).open_model
    assert not SearchRecord(SearchSpace(start=1, max=8, integral=True)).open_model
    a = SearchAnalysis(kind="search", model="open", unit="rps", answer=40.0,
                       bracket=(40.0, 45.0), stop="precision", indeterminate="", probes=(),
                       binding_rule="p99 < 1s", binding_metric="p99", threshold=1000.0,
                       throughput_rps=39.5, p50_ms=2.0, p99_ms=9.0, binding_observed=9.0,
                       duration_s=12.0, headline="h", max_rate_under_sla=40.0)
    assert a.open_model and not replace(a, model="closed").open_model
    data = json.loads(dumps(run_result(profile("s", "search", analysis=a))))
    written = data["profiles"][0]["analysis"]
    assert written["max_rate_under_sla"] == 40.0 and written["max_concurrency_under_sla"] is None
    assert written["bracket"] == [40.0, 45.0]
    assert round_trip(a) == a
    closed = replace(a, model="closed", answer=None, max_rate_under_sla=None)
    assert round_trip(closed) == closed


def test_a_move_is_worse_by_the_metrics_direction():
    assert direction_of("p99", 10.0, 12.0) == "worse"
    assert direction_of("p99", 12.0, 10.0) == "better"
    assert direction_of("throughput", 10.0, 12.0) == "better"
    assert direction_of("goodput", 12.0, 10.0) == "worse"
    assert direction_of("unknown", 1.0, 2.0) == "worse"
    assert direction_of("p50", 5.0, 5.0) == "better"
    assert direction_of("throughput", 5.0, 5.0) == "worse"


def test_one_observation_has_a_quantile_and_windows_without_an_increase_add_nothing():
    assert histogram_quantile(0.5, [1.0, math.inf], [1, 1]) == 0.5
    c1 = ServerSeries(kind="counter", scrapes=2, increase=10.0, window_s=2.0)
    c2 = ServerSeries(kind="counter", scrapes=2, increase=None, window_s=2.0)
    assert combine_series([{"c": c1}, {"c": c2}])["c"].increase == 10.0


def test_scrape_notes_keep_the_largest_bound_whatever_the_stage_order():
    src = "http://s/metrics"
    p = profile("p", stages=[_scraped(0, ScrapeStats(src, ok=1, uncharted=4, dropped=5)),
                             _scraped(1, ScrapeStats(src, ok=1, uncharted=1, dropped=2))])
    notes = scrape_notes(run_result(p))
    assert notes[0].endswith("5 series beyond max_series were not kept (narrow `include`)")
    assert notes[1].endswith("first 24 series; 4 more are in the stage figures only")


def test_zero_valued_gauges_and_empty_histogram_windows_combine_as_zero():
    z = ServerSeries(kind="gauge", scrapes=2, mean=0.0, min=0.0, max=0.0, last=0.0)
    four = ServerSeries(kind="gauge", scrapes=2, mean=4.0, min=4.0, max=4.0, last=4.0)
    assert combine_series([{"g": z}, {"g": four}])["g"].mean == 2.0
    h0 = histogram_series(0, 0.0, 2.0, 2, [(0.1, 0), (1.0, 0)])
    h1 = histogram_series(10, 1.0, 2.0, 2, [(0.1, 5), (1.0, 10)])
    assert combine_series([{"h": h0}, {"h": h1}])["h"].count == 10
