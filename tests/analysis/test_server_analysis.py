"""What the server's own metrics say at a turning point: gauges, ceilings, moves, charts."""

from __future__ import annotations

from dataclasses import replace

from loadkit.analysis.server import (
    analyze_server,
    at_step,
    chart_series,
    first_ceiling,
    headline_value,
    moved,
    server_line,
    turning_step,
)
from loadkit.results.analysis import (
    Ceiling,
    GaugeAt,
    RampAnalysis,
    RampPoint,
    ServerMove,
    ServerTurn,
    StressAnalysis,
    StressPoint,
)
from loadkit.results.server import ServerPoint, ServerSeries
from loadkit.testing import profile, stage


def gauge(mean, mx=None):
    return ServerSeries(kind="gauge", scrapes=3, mean=mean, min=0.0,
                        max=mx if mx is not None else mean, last=mean)


def counter(rate):
    return ServerSeries(kind="counter", scrapes=3, increase=rate * 10, rate_per_s=rate,
                        window_s=10.0)


def steps_with(*metrics, role="measured"):
    return [replace(stage(i, [1.0], role=role), server_metrics=m) for i, m in enumerate(metrics)]


def test_a_series_stands_for_itself_by_a_gauges_mean_or_a_rate():
    assert headline_value(gauge(3.0)) == 3.0
    assert headline_value(counter(7.0)) == 7.0
    assert headline_value(ServerSeries(kind="histogram", rate_per_s=2.0, p50=9.0)) == 2.0


def test_the_queue_gauges_at_a_step_and_the_step_before():
    s = steps_with({"queue_size": gauge(0.1, 1.0), "kv_cache": gauge(0.5),
                    "requests_total": counter(5.0)},
                   {"queue_size": gauge(2.3, 4.0), "num_requests_running{m=\"a\"}": gauge(8.0),
                    "Pending": gauge(1.0), "kv_cache": gauge(0.9), "reqs_inflight": counter(1.0)})
    turn = at_step(s, 1)
    assert turn == ServerTurn(step=1, before_step=0,
                              gauges={"queue_size": GaugeAt(2.3, 4.0),
                                      "num_requests_running{m=\"a\"}": GaugeAt(8.0, 8.0),
                                      "Pending": GaugeAt(1.0, 1.0)},
                              before={"queue_size": GaugeAt(0.1, 1.0)})
    first = at_step(s, 0)
    assert (first.before, first.before_step) == ({}, None)
    assert at_step(s, 5) is None and at_step(s, None) is None
    assert at_step(steps_with({"kv_cache": gauge(1.0)}), 0) is None
    # the series name decides, not a label value that happens to say "queue"
    assert at_step(steps_with({'requests{state="queue"}': gauge(1.0)}), 0) is None


def test_the_first_ceiling_is_the_gauge_pinned_within_two_percent_from_the_earliest_step():
    s = steps_with({"busy": gauge(1, 2.0), "queue": gauge(0, 1.0)},
                   {"busy": gauge(3, 8.0), "queue": gauge(1, 9.0)},
                   {"busy": gauge(4, 7.85), "queue": gauge(2, 10.0)},
                   {"busy": gauge(4, 8.0), "queue": gauge(3, 10.0)})
    assert first_ceiling(s) == Ceiling(series="busy", step=1, ceiling=8.0)   # 7.85 >= 7.84
    s[2] = replace(s[2], server_metrics={"busy": gauge(4, 7.83), "queue": gauge(2, 10.0)})
    assert first_ceiling(s) == Ceiling(series="queue", step=2, ceiling=10.0)


def test_no_ceiling_when_flat_from_the_start_still_climbing_falling_back_or_too_short():
    flat = steps_with({"g": gauge(1, 9.9)}, {"g": gauge(1, 10.0)}, {"g": gauge(1, 10.0)})
    assert first_ceiling(flat) is None                     # 9.9 is within 2% of 10
    climbing = steps_with({"g": gauge(1, 1.0)}, {"g": gauge(1, 5.0)}, {"g": gauge(1, 10.0)})
    assert first_ceiling(climbing) is None
    back = steps_with({"g": gauge(1, 1.0)}, {"g": gauge(1, 10.0)}, {"g": gauge(1, 5.0)},
                      {"g": gauge(1, 10.0)})
    assert first_ceiling(back) is None
    short = steps_with({"g": gauge(1, 1.0)}, {"g": gauge(1, 10.0)})
    assert first_ceiling(short) is None
    missing = steps_with({"g": gauge(1, 1.0)}, {}, {"g": gauge(1, 10.0)}, {"g": gauge(1, 10.0)})
    assert first_ceiling(missing) is None
    zero = steps_with({"g": gauge(0, 0.0)}, {"g": gauge(0, 0.0)}, {"g": gauge(0, 0.0)})
    assert first_ceiling(zero) is None
    rates = steps_with({"c": counter(1)}, {"c": counter(10)}, {"c": counter(10)})
    assert first_ceiling(rates) is None
    pinned = steps_with({"g": gauge(1, 1.0)}, {"g": gauge(1, 10.0)}, {"g": gauge(1, 10.0)})
    assert first_ceiling(pinned) == Ceiling(series="g", step=1, ceiling=10.0)


def test_what_moved_most_comes_first_and_a_start_at_zero_counts_as_infinite():
    s = steps_with({"a": gauge(2.0), "b": counter(10.0), "z": gauge(0.0), "same": gauge(1.0),
                    "gone": gauge(1.0), "c": counter(4.0), "neg": gauge(-2.0)},
                   {"a": gauge(3.0), "b": counter(5.0), "z": gauge(1.0), "same": gauge(1.0),
                    "new": gauge(9.0), "c": counter(6.0), "neg": gauge(-1.0)})
    assert moved(s) == [
        ServerMove("z", "gauge", "mean", 0.0, 1.0, None),
        ServerMove("a", "gauge", "mean", 2.0, 3.0, 0.5),
        ServerMove("b", "counter", "rate_per_s", 10.0, 5.0, -0.5),
        ServerMove("c", "counter", "rate_per_s", 4.0, 6.0, 0.5),
        ServerMove("neg", "gauge", "mean", -2.0, -1.0, 0.5),
    ]
    assert [m.series for m in moved(s, limit=2)] == ["z", "a"]
    assert moved(s[:1]) == []
    thirds = steps_with({"x": gauge(3.0)}, {"x": gauge(4.0)})
    assert moved(thirds)[0].change == 0.3333
    assert moved(steps_with({"x": gauge(None)}, {"x": gauge(1.0)})) == []


def test_the_turning_step_is_a_ramps_knee_or_a_stress_profiles_breaking_point():
    knee = RampPoint(step=3, concurrency=8, throughput_rps=1.0, p50_ms=1.0, p99_ms=1.0,
                     efficiency=None)
    assert turning_step(RampAnalysis(knee=knee)) == 3
    assert turning_step(RampAnalysis()) is None
    broke = StressPoint(step=2, rate=1.0, throughput_rps=1.0, p99_ms=1.0, error_rate=0.0,
                        reasons=())
    assert turning_step(StressAnalysis(breaking_point=broke)) == 2
    assert turning_step(StressAnalysis()) is None and turning_step(None) is None


def test_the_server_line_says_the_queue_at_the_turning_point_and_the_first_ceiling():
    turn = ServerTurn(step=2, gauges={"queue": GaugeAt(2.3456, 4.0), "busy": GaugeAt(8.0, None)},
                      before={"queue": GaugeAt(0.1, 1.0)}, before_step=1)
    ceiling = Ceiling(series="busy", step=1, ceiling=8.0)
    assert server_line(turn, ceiling, "ramp") == (
        "server at the saturation point (step 2): busy 8 (max -), queue 0.1 -> 2.35 (max 4); "
        "first at its ceiling: busy = 8 from step 1")
    assert server_line(turn, None, "stress").startswith(
        "server at the breaking point (step 2): busy 8")
    assert server_line(None, ceiling, "search") == "first at its ceiling: busy = 8 from step 1"
    assert server_line(None, None, "ramp") == ""


def test_the_chart_shows_queue_gauges_then_what_moved_only_if_the_time_series_has_them():
    s = steps_with({"queue": gauge(0.0), "a": gauge(1.0), "b": counter(1.0)},
                   {"queue": gauge(1.0), "a": gauge(5.0), "b": counter(1.5), "active": gauge(2.0)})
    points = (ServerPoint(0.0, 0.0, 0, {"z": 1.0, "b": 1.0, "a": 1.0, "queue": 0.0}),
              ServerPoint(1.0, 1.0, 1, {"extra": 1.0}))
    p = replace(profile("r", "ramp", s), server_timeseries=points)
    moves = moved(s)
    assert chart_series(p, s, moves) == ["queue", "a", "b", "z"]       # 'active' is not charted
    assert chart_series(p, s, moves, limit=2) == ["queue", "a"]
    assert chart_series(replace(p, server_timeseries=()), s, moves) == []


def test_a_profile_gets_a_server_analysis_only_from_its_measured_steps():
    s = steps_with({"queue": gauge(0.1, 1.0)}, {"queue": gauge(3.0, 10.0)},
                   {"queue": gauge(4.0, 10.0)})
    warm = replace(stage(9, [1.0], warmup=True), server_metrics={"queue": gauge(99.0)})
    rec = replace(stage(10, [1.0], role="recovery"), server_metrics={"queue": gauge(99.0)})
    knee = RampPoint(step=1, concurrency=2, throughput_rps=1.0, p50_ms=1.0, p99_ms=1.0,
                     efficiency=None)
    a = analyze_server(profile("r", "ramp", [warm, *s, rec]), RampAnalysis(knee=knee))
    assert a.moved == (ServerMove("queue", "gauge", "mean", 0.1, 4.0, 39.0),)
    assert a.at.step == 1 and a.at.before == {"queue": GaugeAt(0.1, 1.0)}
    assert a.first_ceiling == Ceiling(series="queue", step=1, ceiling=10.0)
    assert a.headline == ("server at the saturation point (step 1): queue 0.1 -> 3 (max 10); "
                          "first at its ceiling: queue = 10 from step 1")
    flat = analyze_server(profile("t", "throughput", s), None)
    assert flat.first_ceiling is None and flat.at is None and flat.headline == ""
    probes = steps_with({"queue": gauge(0.1, 1.0)}, {"queue": gauge(3.0, 10.0)},
                        {"queue": gauge(4.0, 10.0)}, role="probe")
    assert analyze_server(profile("s", "search", probes), None).first_ceiling.step == 1
    assert analyze_server(profile("s", "stress", s), None).first_ceiling.step == 1
    assert analyze_server(profile("t", "throughput", [stage(0, [1.0])]), None) is None


def test_a_gauge_that_fell_back_below_its_top_at_the_end_has_no_ceiling():
    assert first_ceiling(steps_with({"g": gauge(1, 1.0)}, {"g": gauge(1, 10.0)},
                                    {"g": gauge(1, 10.0)}, {"g": gauge(1, 5.0)})) is None


def test_the_line_gives_a_new_gauge_its_own_max_and_the_chart_reads_the_last_step():
    turn = ServerTurn(step=2, gauges={"active": GaugeAt(2.0, 3.0)}, before={}, before_step=1)
    assert server_line(turn, None, "ramp") == (
        "server at the saturation point (step 2): active 2 (max 3)")
    s = steps_with({"a": gauge(1.0)}, {"a": gauge(5.0), "waiting": gauge(2.0)})
    points = (ServerPoint(0.0, 0.0, 0, {"a": 1.0, "waiting": 0.0}),)
    p = replace(profile("r", "ramp", s), server_timeseries=points)
    assert chart_series(p, s, moved(s)) == ["waiting", "a"]
    assert analyze_server(p, None).chart == ("waiting", "a")


def test_analyze_reads_the_server_at_the_kinds_own_turning_point():
    from loadkit.analysis import analyze
    from loadkit.testing import latencies

    def ramp_stage(i, c, rps, p50, queue):
        return replace(stage(i, latencies(p50, n=int(rps * 10)), concurrency=c, duration_s=10.0),
                       server_metrics={"queue": gauge(queue)})

    p = profile("r", "ramp", [ramp_stage(0, 1, 100, 10, 0.0), ramp_stage(1, 2, 200, 11, 0.5),
                              ramp_stage(2, 4, 205, 30, 3.0), ramp_stage(3, 8, 206, 60, 9.0)])
    a = analyze(p)
    assert a.knee.step == 1 and a.server.at.step == 1
    assert a.server.at.gauges == {"queue": GaugeAt(0.5, 0.5)}


def test_gauges_pinned_at_the_same_step_name_the_first_by_series_name():
    s = steps_with({"b_busy": gauge(1, 1.0), "a_queue": gauge(1, 1.0)},
                   {"b_busy": gauge(1, 8.0), "a_queue": gauge(1, 4.0)},
                   {"b_busy": gauge(1, 8.0), "a_queue": gauge(1, 4.0)})
    assert first_ceiling(s) == Ceiling(series="a_queue", step=1, ceiling=4.0)
