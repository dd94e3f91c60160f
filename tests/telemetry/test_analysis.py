"""What analysis says from server figures: the turning point, the first ceiling, what
moved; and a profile summary's figures combined from its stages (pure)."""

from __future__ import annotations

from dataclasses import replace

from loadkit import testing
from loadkit.analysis.server import analyze_server, first_ceiling, moved
from loadkit.results.aggregate import summarize
from loadkit.results.analysis import (
    Ceiling,
    GaugeAt,
    RampAnalysis,
    RampPoint,
    StressAnalysis,
    StressPoint,
    ThroughputAnalysis,
)
from loadkit.results.server import ServerSeries, combine_series


def gauge(mean: float, mx: float, scrapes: int = 4) -> ServerSeries:
    return ServerSeries(kind="gauge", scrapes=scrapes, mean=mean, min=0.0, max=mx, last=mx)


def counter(inc: float, window: float) -> ServerSeries:
    return ServerSeries(kind="counter", scrapes=4, increase=inc, rate_per_s=inc / window,
                        window_s=window)


def ramp_stages() -> list:
    busy = [(1, 1), (2, 2), (3.6, 4), (4, 4), (4, 4)]
    queue = [(0, 0), (0, 0), (0.2, 1), (2.3, 4), (8.6, 12)]
    stages = []
    for i, ((bm, bx), (qm, qx)) in enumerate(zip(busy, queue, strict=True)):
        s = testing.stage(i, [10.0] * 10, concurrency=2 ** i)
        stages.append(replace(s, server_metrics={
            "app_busy_slots": gauge(bm, bx), "app_queue_depth": gauge(qm, qx),
            "app_capacity": gauge(4, 4), "app_requests_total": counter(100.0 * (i + 1), 1.0)}))
    return stages


def test_the_first_ceiling_is_the_gauge_that_plateaued_earliest() -> None:
    got = first_ceiling(ramp_stages())
    # busy slots reach 4 at step 2 and stay; the queue is still climbing at the last
    # step; capacity is flat from the start (not load-driven).
    assert got == Ceiling(series="app_busy_slots", step=2, ceiling=4.0)


def test_a_ramps_saturation_point_reports_the_queue_there() -> None:
    profile = testing.profile("ramp", "ramp", ramp_stages())
    server = analyze_server(profile, RampAnalysis(knee=RampPoint(step=3, concurrency=8, throughput_rps=0.0,
                                                              p50_ms=0.0, p99_ms=0.0,
                                                              efficiency=None)))
    assert server is not None and server.at is not None
    assert server.at.gauges["app_queue_depth"] == GaugeAt(mean=2.3, max=4.0)
    assert server.at.before["app_queue_depth"].mean == 0.2
    assert "app_queue_depth 0.2 -> 2.3 (max 4)" in server.headline
    assert "first at its ceiling: app_busy_slots = 4 from step 2" in server.headline


def test_moved_lists_the_largest_relative_change_first() -> None:
    names = [m.series for m in moved(ramp_stages())]
    assert names[0] == "app_queue_depth"                 # from 0: no ratio, listed first
    assert names[1:3] == ["app_requests_total", "app_busy_slots"]   # x5, then x4
    assert "app_capacity" not in names


def test_a_profile_without_server_metrics_has_no_server_analysis() -> None:
    assert analyze_server(testing.profile(stages=[testing.stage(0, [1.0])]), None) is None


def test_a_summary_combines_its_stages_server_figures() -> None:
    stages = ramp_stages()[:2]
    combined = summarize(stages).server_metrics
    assert combined["app_busy_slots"] == ServerSeries(kind="gauge", scrapes=8, mean=1.5,
                                                      min=0.0, max=2.0, last=2.0)
    c = combined["app_requests_total"]
    assert (c.increase, c.rate_per_s, c.window_s) == (300.0, 150.0, 2.0)


def test_histograms_combine_by_their_buckets() -> None:
    from loadkit.results.server import histogram_series

    a = histogram_series(10, 0.15, 1.0, 3, [(0.01, 0.0), (0.02, 10.0)])
    b = histogram_series(30, 1.35, 1.0, 3, [(0.01, 0.0), (0.02, 0.0)])   # all in +Inf
    both = combine_series([{"h": a}, {"h": b}])["h"]
    assert (both.count, both.rate_per_s, both.mean) == (40.0, 20.0, 0.0375)
    assert both.p50 == 0.02                     # rank 20 lies in +Inf: the top finite bound
    assert both.buckets == ((0.01, 0.0), (0.02, 10.0))


def test_a_stress_breaking_point_reports_the_queue_there_and_leaves_recovery_out() -> None:
    stages = ramp_stages()
    recovery = replace(stages[0], index=5, role="recovery",
                       server_metrics={"app_busy_slots": gauge(9, 9)})   # not a load step
    profile = testing.profile("stress", "stress", [*stages, recovery])
    server = analyze_server(profile, StressAnalysis(breaking_point=StressPoint(
        step=4, rate=400.0, throughput_rps=0.0, p99_ms=0.0, error_rate=0.0, reasons=())))
    assert server is not None and server.at is not None
    assert server.at.step == 4 and server.at.before_step == 3
    assert server.first_ceiling == Ceiling(series="app_busy_slots", step=2, ceiling=4.0)
    assert "the breaking point (step 4)" in server.headline


def test_a_one_stage_profile_still_charts_and_tables_its_series() -> None:
    from loadkit.reporters.server_view import stage_table
    from loadkit.results.server import ServerPoint

    stage = ramp_stages()[2]
    points = tuple(ServerPoint(t=float(t), elapsed_s=float(t), stage=0,
                               values={"app_requests_total": 100.0, "app_capacity": 4.0})
                   for t in range(3))
    profile = replace(testing.profile("tp", "throughput", [stage]), server_timeseries=points)
    server = analyze_server(profile, None)
    assert server is not None and server.moved == ()
    assert server.chart == ("app_requests_total", "app_capacity")   # nothing moved
    profile = replace(profile, analysis=ThroughputAnalysis(server=server))
    assert [row[0] for row in stage_table(profile)[1]] == [
        "app_requests_total", "app_capacity", "app_busy_slots", "app_queue_depth"]
