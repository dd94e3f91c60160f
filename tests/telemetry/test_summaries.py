"""Per-stage server figures from scrapes: pure, no network (loadkit.telemetry.parse/window)."""

from __future__ import annotations

import math

import pytest
from dataclasses import replace

from loadkit.results import codec
from loadkit.results.server import ServerSeries
from loadkit.telemetry.parse import ExpositionError, Selector, series_key, snapshot
from loadkit.telemetry.window import SourceLog, histogram_quantile
from loadkit import testing

BOUNDS = (0.005, 0.01, 0.02, 0.05, math.inf)


def page(*, gauge: float = 3, requests: float = 0, hist: tuple[float, ...] = (0, 0, 0, 0, 0),
         hist_sum: float = 0.0, extra: str = "") -> str:
    lines = ["# TYPE app_in_flight gauge", f"app_in_flight {gauge}",
             "# TYPE app_requests_total counter", f'app_requests_total{{route="/p",code="200"}} {requests}',
             "# TYPE app_service_seconds histogram"]
    for b, c in zip(BOUNDS, hist, strict=True):
        le = "+Inf" if math.isinf(b) else f"{b:g}"
        lines.append(f'app_service_seconds_bucket{{le="{le}"}} {c}')
    lines += [f"app_service_seconds_sum {hist_sum}", f"app_service_seconds_count {hist[-1]}"]
    return "\n".join(lines) + "\n" + extra


def run_stage(pages: list[tuple[float, str]], *, begin: float = 0.0, end: float | None = None,
              selector: Selector | None = None) -> tuple[dict[str, ServerSeries], SourceLog]:
    log = SourceLog("http://h/metrics")
    sel = selector or Selector()
    log.begin(0, begin)
    if end is not None:
        log.end(0, end)
    for t, text in pages:
        log.scraped(snapshot(text, t, sel), 1.0)
    series, _ = log.stage(0)
    return series, log


COUNTER_KEY = 'app_requests_total{code="200",route="/p"}'


def test_series_key_sorts_labels_and_escapes_values() -> None:
    assert series_key("x", {}) == "x"
    assert series_key("x", {"b": "2", "a": 'q"1'}) == 'x{a="q\\"1",b="2"}'


def test_gauge_counter_and_histogram_figures_over_one_stage() -> None:
    pages = [(100.0, page(gauge=2, requests=10)),
             (101.0, page(gauge=4, requests=110, hist=(0, 0, 100, 100, 100), hist_sum=1.5)),
             (102.0, page(gauge=6, requests=310, hist=(0, 0, 300, 300, 300), hist_sum=4.5))]
    series, _ = run_stage(pages, begin=100.0, end=102.0)
    g = series["app_in_flight"]
    # sampled inside the stage: the scrape its start triggered (gauge 2) is the handover
    assert (g.kind, g.mean, g.min, g.max, g.last, g.scrapes) == ("gauge", 5.0, 4.0, 6.0, 6.0, 2)
    c = series[COUNTER_KEY]
    assert (c.kind, c.increase, c.rate_per_s) == ("counter", 300.0, 150.0)
    h = series["app_service_seconds"]
    # Every observation in (0.01, 0.02]: interpolation puts p50 at the bucket's middle.
    assert (h.count, h.rate_per_s, h.mean) == (300.0, 150.0, 0.015)
    assert (h.p50, h.p90, h.p99) == (0.015, 0.019, 0.0199)
    assert g.stat("mean") == 5.0 and c.stat("rate") == 150.0 and g.stat("rate") is None


def test_counter_and_histogram_survive_a_server_restart() -> None:
    pages = [(0.0, page(requests=100, hist=(0, 10, 10, 10, 10), hist_sum=0.1)),
             (1.0, page(requests=150, hist=(0, 20, 20, 20, 20), hist_sum=0.2)),
             (2.0, page(requests=30, hist=(0, 5, 5, 5, 5), hist_sum=0.05))]     # restarted
    series, _ = run_stage(pages, begin=0.0)
    assert series[COUNTER_KEY].increase == 80.0          # 50, then 30 counted from zero
    assert series["app_service_seconds"].count == 15.0


def test_a_series_born_mid_stage_counts_from_zero() -> None:
    first = page(requests=0).replace(f"{COUNTER_KEY.split('{')[0]}", "other_total")
    pages = [(0.0, first), (1.0, page(requests=40)), (2.0, page(requests=100))]
    series, _ = run_stage(pages, begin=0.0)
    assert series[COUNTER_KEY].increase == 100.0
    assert series[COUNTER_KEY].rate_per_s == 50.0


def test_a_series_that_disappears_is_reported_lost() -> None:
    extra = "# TYPE app_gpu gauge\napp_gpu 0.5\n"
    pages = [(0.0, page(extra=extra)), (1.0, page(extra=extra)), (2.0, page())]
    _, log = run_stage(pages, begin=0.0)
    assert log.stage(0)[1].lost == ("app_gpu",)


def test_scrapes_outside_a_stage_window_do_not_count_in_it() -> None:
    log = SourceLog("src")
    sel = Selector()
    log.scraped(snapshot(page(gauge=100), 9.0, sel), 1.0)      # before the stage
    log.begin(0, 10.0)
    log.scraped(snapshot(page(gauge=1), 10.0, sel), 1.0)
    log.scraped(snapshot(page(gauge=5), 10.5, sel), 1.0)
    log.end(0, 11.0)
    log.scraped(snapshot(page(gauge=3), 11.5, sel), 1.0)       # closes the stage
    log.scraped(snapshot(page(gauge=100), 12.0, sel), 1.0)     # after it
    g = log.stage(0)[0]["app_in_flight"]
    # the closing scrape, taken after the stage ended, describes the next stage's
    # gauges, and the one its start triggered the handover: the one inside counts
    assert (g.mean, g.max, g.scrapes) == (5.0, 5.0, 1)


def test_failed_scrapes_are_counted_by_kind_and_close_the_stage() -> None:
    log = SourceLog("src")
    log.begin(0, 0.0)
    log.scraped(snapshot(page(), 0.0, Selector()), 2.0)
    log.failed("timeout", 1.0)
    log.end(0, 1.5)
    log.failed("http_503", 2.0)
    assert not log.open_windows()
    stats = log.stage(0)[1]
    assert (stats.ok, stats.failed, stats.failures) == (1, 2, {"http_503": 1, "timeout": 1})


def test_include_and_max_series_bound_what_is_kept() -> None:
    sel = Selector(include=["app_in_.*", "app_service_seconds"], max_series=1)
    snap = snapshot(page(), 0.0, sel)
    assert list(snap.kinds) == ["app_in_flight"] and snap.dropped == 1


def test_openmetrics_and_summaries_parse() -> None:
    text = ("# TYPE rpc summary\nrpc{quantile=\"0.5\"} 0.2\nrpc_sum 3\nrpc_count 4\n"
            "# TYPE jobs counter\njobs_total 7\njobs_created 1.7e9\n# EOF\n")
    snap = snapshot(text, 0.0, Selector())
    assert snap.kinds == {'rpc{quantile="0.5"}': "gauge", "rpc_sum": "counter",
                          "rpc_count": "counter", "jobs_total": "counter"}


@pytest.mark.parametrize("body", ["<html>502 Bad Gateway</html>", "x{{{ 1", '{"json": 1}'])
def test_garbage_is_an_exposition_error(body: str) -> None:
    with pytest.raises(ExpositionError):
        snapshot(body, 0.0, Selector())


@pytest.mark.parametrize(("q", "cumulative", "want"), [
    (0.5, (10.0, 20.0, 20.0), 10.0),          # rank 10: the top of the first bucket
    (0.75, (10.0, 20.0, 20.0), 15.0),         # halfway through (10, 20]
    (0.25, (10.0, 20.0, 20.0), 5.0),          # the first bucket starts at zero
    (0.99, (10.0, 20.0, 40.0), 20.0),         # in +Inf: the highest finite bound
], ids=["bucket-edge", "interpolated", "first-bucket-from-zero", "inf-bucket"])
def test_histogram_quantile_interpolates_as_prometheus_does(
        q: float, cumulative: tuple[float, ...], want: float) -> None:
    assert histogram_quantile(q, (10.0, 20.0, math.inf), cumulative) == pytest.approx(want)


def test_histogram_quantile_of_an_empty_histogram_is_no_data() -> None:
    assert histogram_quantile(0.5, (10.0, math.inf), (0.0, 0.0)) is None


def test_points_carry_gauges_counter_rates_and_histogram_means() -> None:
    pages = [(0.0, page(requests=0)), (2.0, page(gauge=5, requests=20, hist=(0, 0, 4, 4, 4),
                                                  hist_sum=0.06))]
    _, log = run_stage(pages, begin=0.0)
    last = log.points[-1].values
    assert last == {"app_in_flight": 5.0, COUNTER_KEY: 10.0, "app_service_seconds": 0.015}


def test_server_figures_round_trip_through_result_json_leaving_out_what_a_kind_lacks() -> None:
    stage = replace(testing.stage(0, [1.0, 2.0]), server_metrics={
        "q": ServerSeries(kind="gauge", scrapes=2, mean=1.5, min=1.0, max=2.0, last=2.0)})
    text = codec.dumps(testing.run_result(testing.profile(stages=[stage])))
    assert '"rate_per_s"' not in text and '"server_scrapes"' not in text
    assert codec.dumps(codec.loads(text)) == text
    assert codec.loads(text).profiles[0].stages[0].server_metrics["q"].max == 2.0


def test_processes_tell_the_parents_observer_once_per_stage() -> None:
    from loadkit.engine.processes import _observe

    calls: list[tuple[str, int]] = []

    class Obs:
        def stage_started(self, index: int) -> None:
            calls.append(("started", index))

        def stage_stopped(self, index: int) -> None:
            calls.append(("stopped", index))

    started: set[int] = set()
    stopped: set[int] = set()
    for kind, proc in [("started", 1), ("started", 0), ("stopped", 0), ("stopped", 1)]:
        _observe(Obs(), 4, kind, proc, started, stopped, 2)
    assert calls == [("started", 4), ("stopped", 4)]     # first start, last stop


def test_a_counter_is_counted_over_the_stage_itself_not_its_scrapes_span() -> None:
    # Scrapes at 9.5 (before), 10.5 and 11.5 (after): a steady 100/s counter, stage
    # [10, 11]: half of each edge interval lies inside the stage.
    log = SourceLog("src")
    sel = Selector()
    log.scraped(snapshot(page(requests=950), 9.5, sel), 1.0)
    log.begin(0, 10.0)
    log.scraped(snapshot(page(requests=1050), 10.5, sel), 1.0)
    log.end(0, 11.0)
    log.scraped(snapshot(page(requests=1150), 11.5, sel), 1.0)
    c = log.stage(0)[0][COUNTER_KEY]
    assert (c.increase, c.rate_per_s, c.window_s) == (100.0, 100.0, 1.0)


@pytest.mark.parametrize(("value", "metric", "want"), [
    ("app;dur=12.5", "", 12.5),
    ('db;dur=3, app;desc="x";dur=12, total;dur=20', "", 20.0),   # total wins
    ("db;dur=3, app;dur=12", "", 12.0),                           # else the largest
    ("db;dur=3, app;dur=12", "db", 3.0),
    ("db;dur=3", "app", None),                                     # the asked entry is absent
    ("cache;desc=hit", "", None),                                  # no duration at all
], ids=["one", "total", "largest", "named", "named-absent", "no-dur"])
def test_server_timing_values_are_read_as_the_w3c_header_says(
        value: str, metric: str, want: float | None) -> None:
    from loadkit.engine.server_timing import server_duration_ms

    assert server_duration_ms(value, metric) == want


def test_a_stage_with_only_its_start_scrape_keeps_that_gauge_sample() -> None:
    log = SourceLog("src")
    log.begin(0, 10.0)
    log.scraped(snapshot(page(gauge=7), 10.0, Selector()), 1.0)
    log.end(0, 10.2)
    log.scraped(snapshot(page(gauge=1), 10.3, Selector()), 1.0)     # closing: not this stage's
    g = log.stage(0)[0]["app_in_flight"]
    assert (g.mean, g.scrapes) == (7.0, 1)
