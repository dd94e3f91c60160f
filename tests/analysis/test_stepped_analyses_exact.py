"""Stress steps and their breaking point, ramp headlines and the analysis dispatch, exactly."""

from __future__ import annotations

from dataclasses import replace

from loadkit.analysis import analyze, analyze_kind
from loadkit.analysis.ramp import analyze_ramp
from loadkit.analysis.stress import _headline, analyze_stress, responses_rps, stress_steps
from loadkit.results.analysis import (
    ConstantRateAnalysis,
    LatencyAnalysis,
    Recovery,
    SoakAnalysis,
    SpikeAnalysis,
    SummaryAnalysis,
    ThroughputAnalysis,
)
from loadkit.results.model import StopCondition
from loadkit.sla import parse_rule
from loadkit.testing import latencies, profile, stage

T0 = 1_700_000_000.0


def step(i, rate, n, p99=20.0, errors=None, duration=10.0, late=0):
    return stage(i, latencies(10, p99, n=n), rate=rate, duration_s=duration,
                 errors=errors or 0, late=late, started_at=T0 + 10 * i)


def test_a_stress_step_counts_responses_goodput_and_each_kind_of_error():
    s = step(0, 100.0, 1000, errors={"http_5xx": 30, "http_4xx": 5, "too_large": 1,
                                      "timeout": 4, "connect": 2, "reset": 1}, late=7)
    (st,) = stress_steps(profile("s", "stress", [s]))
    assert (st.index, st.rate, st.throughput_rps, st.goodput_rps, st.achieved) == (
        0, 100.0, 100.0, 95.7, 1.0)
    assert (st.rejected, st.timed_out, st.other_errors, st.late) == (36, 4, 3, 7)
    assert st.error_rate == 0.043 and st.error_kinds == s.error_kinds
    assert (st.p50_ms, st.p99_ms, st.max_ms) == (s.latency_ms.p50, s.latency_ms.p99,
                                                 s.latency_ms.max)
    assert responses_rps(replace(s, duration_s=0.0)) == 0.0
    assert responses_rps(replace(s, duration_s=3.0)) == 333.333


def test_a_step_breaks_at_exactly_its_stop_condition_and_below_90_percent_achieved():
    ok = step(0, 100.0, 1000)                                      # 100% achieved
    at_90 = step(1, 100.0, 900)                                    # exactly 90%: holds
    below = step(2, 100.0, 899)
    errs = step(3, 100.0, 1000, errors={"http_5xx": 100})          # 10% errors
    slow = step(4, 100.0, 1000, p99=500.0)
    steps = stress_steps(profile("s", "stress", [ok, at_90, below, errs, slow]),
                         [parse_rule("p99 < 400ms"), parse_rule("throughput > 1rps")],
                         {"error_rate": "10%", "p99": "500ms"})
    assert [s.broke for s in steps[:2]] == [(), ()]
    assert steps[1].achieved == 0.9
    assert steps[2].broke == ("achieved 90 of 100 rps offered (< 90%)",)
    assert steps[3].broke == ("error rate 10% >= stop_when 10%",)
    assert steps[4].broke == ("p99 " + _p99_words(slow) + " >= stop_when 500ms",
                              "SLA p99 < 400ms broken")
    unlimited = stress_steps(profile("s", "stress", [below]), min_achieved=0.5)
    assert unlimited[0].broke == ()
    closed = stress_steps(profile("s", "stress", [replace(below, rate=None)]))
    assert (closed[0].rate, closed[0].achieved, closed[0].broke) == (0.0, 1.0, ())


def _p99_words(s):
    from loadkit.units import format_latency_ms

    return format_latency_ms(s.latency_ms.p99)


def test_the_breaking_point_is_the_first_broken_step_and_sustained_the_one_before():
    steps = [step(0, 100.0, 1000), step(1, 200.0, 2000), step(2, 400.0, 3000),
             step(3, 800.0, 4000)]
    a = analyze_stress(profile("s", "stress", steps))
    assert a.breaking_point.step == 2 and a.breaking_point.reasons == (
        "achieved 300 of 400 rps offered (< 90%)",)
    assert (a.max_rate_under_sla, a.max_sustained_rps, a.max_sustained.step) == (200.0, 200.0, 1)
    assert (a.peak_goodput_rps, a.peak_goodput_rate) == (400.0, 800.0)
    assert a.recovery is None and a.recovery_s is None
    assert a.headline == ("max sustained 200 rps under SLA; breaks at 400 rps (p99 20ms); "
                          "peak goodput 400 rps at 800 offered")
    first = analyze_stress(profile("s", "stress", [step(0, 100.0, 500)]))
    assert (first.max_rate_under_sla, first.max_sustained) == (None, None)
    assert first.headline == "SLA not met even at the first step; breaks at 100 rps (p99 20ms)"
    held = analyze_stress(profile("s", "stress", [*steps[:2], step(2, 300.0, 3000)]))
    assert held.breaking_point is None and held.max_rate_under_sla == 300.0
    assert held.headline == "max sustained 300 rps under SLA; no breaking point up to 300 rps"
    empty = analyze_stress(profile("s", "stress", []))
    assert (empty.headline, empty.peak_goodput_rps, empty.steps) == ("no measured steps", None, ())


def test_the_stress_headline_names_errors_peak_goodput_beyond_5_percent_and_recovery():
    steps = stress_steps(profile("s", "stress", [
        step(0, 100.0, 1000), step(1, 200.0, 1800, errors={"http_5xx": 20})]))
    assert _headline(steps, steps[0], steps[1], None, steps[1]) == (
        "max sustained 100 rps under SLA; breaks at 200 rps (p99 20ms, errors 1.11%); "
        "peak goodput 178 rps at 200 offered")
    near = replace(steps[1], goodput_rps=105.0)
    assert _headline(steps, steps[0], steps[1], None, near) == (
        "max sustained 100 rps under SLA; breaks at 200 rps (p99 20ms, errors 1.11%)")
    r = Recovery("recovered", 3.0, 40.0, "")
    assert _headline(steps, steps[0], None, r, steps[1]).endswith(
        "no breaking point up to 200 rps; recovered in 3 s")


def test_a_stop_condition_stored_in_the_result_is_read_like_the_scenarios():
    steps = [step(0, 100.0, 1000), step(1, 200.0, 2000, errors={"http_5xx": 200})]
    a = analyze_stress(profile("s", "stress", steps), stop_when=StopCondition(error_rate=0.1))
    assert a.breaking_point.step == 1 and a.breaking_point.error_rate == 0.1


def ramp_stage(i, c, rps, p50=10.0, p99=20.0, errors=0):
    return stage(i, latencies(p50, p99, n=int(rps * 10)), concurrency=c, duration_s=10.0,
                 errors=errors)


def test_a_ramp_says_where_it_saturates_and_how_far_the_sla_held():
    p = profile("r", "ramp", [ramp_stage(0, 1, 100), ramp_stage(1, 2, 200, p50=11),
                              ramp_stage(2, 4, 205, p50=30, p99=60),
                              ramp_stage(3, 8, 206, p50=60, p99=120)])
    a = analyze_ramp(p, [parse_rule("p99 < 50ms"), parse_rule("p50 < 1ms @ stage 0")])
    assert a.knee.step == 1 and a.no_knee is False
    assert (a.max_throughput_rps, a.max_throughput_concurrency) == (206.0, 8)
    assert (a.max_concurrency_under_sla, a.max_concurrency_under_sla_rps) == (2, 200.0)
    assert a.first_breaking_step.step == 2
    assert a.headline == ("saturates at concurrency 2: 200 rps, p99 20ms; SLA met up to "
                          "concurrency 2")
    scoped_only = analyze_ramp(p, [parse_rule("p50 < 1ms @ stage 0")])
    assert scoped_only.headline == "saturates at concurrency 2: 200 rps, p99 20ms"
    assert scoped_only.max_concurrency_under_sla is None


def test_a_ramp_still_scaling_says_so_with_its_efficiency():
    p = profile("r", "ramp", [ramp_stage(0, 1, 100), ramp_stage(1, 2, 190)])
    a = analyze_ramp(p, [parse_rule("p99 < 1ms")])
    assert a.knee is None and a.no_knee
    assert a.headline == ("no knee: throughput still scaling at concurrency 2 (190 rps, "
                          "efficiency 0.95); SLA not met at any step")
    assert analyze_ramp(profile("r", "ramp", [])).headline == "no measured steps"
    zero = replace(ramp_stage(0, 1, 100), throughput_rps=0.0)
    assert analyze_ramp(profile("r", "ramp", [zero])).headline == (
        "no knee: throughput still scaling at concurrency 1 (0 rps)")


def test_each_kind_gets_its_own_analysis_and_unknown_kinds_a_summary():
    s = [stage(0, [2.0] * 20, throughput_rps=10, rate=10.0)]
    expect = {"latency": LatencyAnalysis, "throughput": ThroughputAnalysis,
              "soak": SoakAnalysis, "spike": SpikeAnalysis,
              "constant-rate": ConstantRateAnalysis, "constant_rate": ConstantRateAnalysis}
    for kind, cls in expect.items():
        assert type(analyze_kind(profile("p", kind, s))) is cls, kind
    other = analyze_kind(profile("p", "custom", s))
    assert other == SummaryAnalysis(kind="custom", headline="10 rps, p50 2ms, p99 2ms over 20 "
                                                            "requests")
    assert analyze_kind(profile("p", "soak", s), soak_window_s=1).window_s is None   # too short
    stress = analyze_kind(profile("p", "stress", [step(0, 100.0, 1000, errors={"http_5xx": 100})]),
                          stop_when={"error_rate": "10%"})
    assert stress.breaking_point is not None
    ramp = analyze_kind(profile("p", "ramp", [ramp_stage(0, 1, 100)]), [parse_rule("p99 < 1ms")])
    assert ramp.headline.endswith("SLA not met at any step")
    spike = analyze_kind(profile("p", "spike", [step(0, 10.0, 100), step(1, 50.0, 500),
                                                step(2, 10.0, 100)]), [parse_rule("p99 < 30ms")])
    assert spike.recovery is not None and spike.recovery.threshold_ms == 30.0
    full = analyze(profile("p", "throughput", s))
    assert full.server is None and full.breakdown is None
    assert full.headline == analyze_kind(profile("p", "throughput", s)).headline


def test_a_first_step_without_latency_leaves_recovery_without_a_threshold():
    failed = stage(0, [5.0] * 100, errors=100, rate=10.0, duration_s=10.0, started_at=T0)
    rec = stage(1, [5.0] * 30, rate=5.0, role="recovery", started_at=T0 + 10, duration_s=6.0)
    a = analyze_stress(profile("s", "stress", [failed, rec]))
    assert a.steps[0].p99_ms == 0.0
    assert a.recovery == Recovery("unknown", None, 0.0, "no p99 threshold to recover under")


def test_empty_steps_are_skipped_and_a_lone_recovery_stage_starts_at_its_first_second():
    assert stress_steps(profile("s", "stress", [stage(0, [], rate=10.0)])) == []
    from loadkit.analysis.stress import stress_recovery
    from loadkit.testing import interval

    rec = stage(0, [5.0] * 30, rate=5.0, role="recovery", duration_s=3.0)
    ts = [interval(T0 + i, 0, 5.0) for i in range(3)]
    r = stress_recovery(profile("s", "stress", [rec], ts), [parse_rule("p99 < 10ms")], [])
    assert (r.status, r.seconds) == ("recovered", 0.0)


def test_analyze_stress_judges_recovery_by_its_stop_condition():
    steps = [step(0, 100.0, 1000), step(1, 200.0, 2000, p99=500.0)]
    rec = stage(2, [5.0] * 30, rate=5.0, role="recovery", started_at=T0 + 20, duration_s=3.0)
    from loadkit.testing import interval

    ts = [interval(T0 + 20 + i, 2, 45.0) for i in range(3)]
    p = profile("s", "stress", [*steps, rec], ts)
    assert analyze_stress(p, stop_when={"p99": "50ms"}).recovery.threshold_ms == 50.0
    assert analyze_stress(p).recovery.threshold_ms == 40.03           # twice the first p99


def test_an_empty_step_does_not_end_the_steps_and_recovery_minds_the_error_limit():
    steps = stress_steps(profile("s", "stress", [stage(0, [], rate=10.0), step(1, 100.0, 1000)]))
    assert [s.index for s in steps] == [1]
    from loadkit.testing import interval

    rec = stage(2, [5.0] * 30, rate=5.0, role="recovery", started_at=T0 + 20, duration_s=3.0)
    ts = [interval(T0 + 20 + i, 2, 5.0, errors=50) for i in range(3)]
    p = profile("s", "stress", [step(0, 100.0, 1000), step(1, 200.0, 2000), rec], ts)
    rules = [parse_rule("p99 < 100ms"), parse_rule("error_rate < 1%")]
    assert analyze_stress(p, rules).recovery.status == "did not recover"
    assert analyze_stress(p, [parse_rule("p99 < 100ms")]).recovery.status == "recovered"
