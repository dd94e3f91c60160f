"""SLA verdicts on synthetic RunResults: warm-up, no data, min_requests, ramp/stress steps, status."""

from __future__ import annotations

import pytest

from loadkit.testing import interval, latencies, profile, run_result, stage
from loadkit.sla import (
    evaluate,
    inconclusive_reasons,
    observe,
    observe_interval,
    parse_rule,
    status_of,
)


def rules(*exprs):
    return [parse_rule(e) for e in exprs]


def test_p99_rule_fails_when_tail_exceeds_limit():
    p = profile("lat", "latency", [stage(0, latencies(10, 250), concurrency=1)])
    (v,) = evaluate({"lat": rules("p99 < 200ms")}, run_result(p))
    assert not v.passed and not v.inconclusive
    assert v.observed == pytest.approx(250, rel=0.01)
    assert v.threshold == 200


def test_p99_rule_passes_when_tail_is_under_limit():
    p = profile("lat", "latency", [stage(0, latencies(10, 150), concurrency=1)])
    (v,) = evaluate({"lat": rules("p99 < 200ms")}, run_result(p))
    assert v.passed


def test_warmup_stage_is_excluded_from_the_verdict():
    slow_warmup = stage(0, latencies(900, 2000), concurrency=1, warmup=True)
    fast = stage(1, latencies(10, 20), concurrency=1)
    p = profile("lat", "latency", [slow_warmup, fast])
    (v,) = evaluate({"lat": rules("max < 100ms")}, run_result(p))
    assert v.passed
    assert v.observed == pytest.approx(20, rel=0.01)


def test_rule_with_no_data_fails():
    p = profile("lat", "latency", [stage(0, [], concurrency=1)])
    (v,) = evaluate({"lat": rules("p99 < 200ms")}, run_result(p))
    assert not v.passed and not v.inconclusive
    assert v.observed is None
    assert "no data" in v.reason


def test_only_warmup_data_counts_as_no_data():
    p = profile("lat", "latency", [stage(0, latencies(5), concurrency=1, warmup=True)])
    (v,) = evaluate({"lat": rules("error_rate < 1%")}, run_result(p))
    assert not v.passed and v.reason.startswith("no data")


def test_rules_of_a_profile_that_never_ran_fail_with_no_data():
    p = profile("lat", "latency", [stage(0, latencies(5), concurrency=1)])
    (v,) = evaluate({"missing": rules("p50 < 1s")}, run_result(p))
    assert v.profile == "missing" and not v.passed and "did not run" in v.reason


def test_too_few_requests_is_inconclusive_not_pass():
    p = profile("lat", "latency", [stage(0, latencies(5, n=10), concurrency=1)])
    (v,) = evaluate({"lat": rules("p99 < 200ms")}, run_result(p), min_requests=100)
    assert v.inconclusive and not v.passed
    assert "only 10 successful requests" in v.reason
    assert status_of([v], run_result(p)) == "inconclusive"


@pytest.mark.parametrize("expr,expected", [
    ("p50 < 11ms", True), ("p90 < 9ms", False), ("p95 <= 10.1ms", True),
    ("p999 < 40ms", False), ("max >= 40ms", True), ("mean < 10ms", False),
    ("error_rate < 1%", False), ("error_rate <= 2%", True),
    ("throughput >= 98rps", True), ("throughput > 98rps", False),
    ("rows_per_s >= 392", True), ("rows_per_s > 392", False),
], ids=lambda v: str(v))
def test_every_metric_is_read_from_the_summary(expr, expected):
    # 1000 requests in 10 s, 2% errors (the first 20), batch of 4: the 980 successes
    # make 98 rps and 392 rows/s, with p50 10 ms and p99 40 ms.
    s = stage(0, latencies(10, 40), concurrency=4, errors=20, batch_size=4)
    (v,) = evaluate({"t": rules(expr)}, run_result(profile("t", "throughput", [s])))
    assert v.passed is expected


def test_stage_scoped_rule_judges_only_that_stage():
    s0 = stage(0, latencies(10), concurrency=1)
    s1 = stage(1, latencies(300), concurrency=1)
    p = profile("x", "throughput", [s0, s1])
    scoped = [parse_rule("p50 < 100ms", stage=0), parse_rule("p50 < 100ms", stage=1)]
    v0, v1 = evaluate({"x": scoped}, run_result(p))
    assert v0.passed and (v0.scope, v0.judged_stage) == ("stage", 0)
    assert not v1.passed and (v1.scope, v1.judged_stage) == ("stage", 1)


def test_stage_scoped_rule_on_a_warmup_stage_has_no_data():
    p = profile("x", "throughput", [stage(0, latencies(10), concurrency=1, warmup=True)])
    (v,) = evaluate({"x": [parse_rule("p50 < 100ms", stage=0)]}, run_result(p))
    assert not v.passed and "warm-up" in v.reason


def _ramp():
    curve = [(1, 10, 12), (2, 10, 14), (4, 11, 40), (8, 20, 250), (16, 40, 500)]
    return profile("ramp", "ramp", [stage(0, latencies(10), concurrency=1, warmup=True)] + [
        stage(i + 1, latencies(p50, p99), concurrency=c) for i, (c, p50, p99) in enumerate(curve)])


def test_ramp_verdict_names_the_first_step_that_broke_the_rule():
    (v,) = evaluate({"ramp": rules("p99 < 200ms")}, run_result(_ramp()))
    assert v.passed  # met at the lightest step: how far it reaches is the analysis' job
    assert (v.scope, v.judged_stage) == ("steps", 1)
    assert v.first_broken_stage == 4  # concurrency 8 is the first step over 200 ms
    assert v.broken_observed == pytest.approx(250, rel=0.01)


def test_ramp_rule_broken_already_at_the_first_step_fails():
    (v,) = evaluate({"ramp": rules("p99 < 5ms")}, run_result(_ramp()))
    assert not v.passed and v.judged_stage == v.first_broken_stage == 1


def test_ramp_rule_that_always_holds_has_no_breaking_step():
    (v,) = evaluate({"ramp": rules("p99 < 1s")}, run_result(_ramp()))
    assert v.passed and v.first_broken_stage is None and v.judged_stage == 1


def test_stress_throughput_rule_is_judged_at_the_operating_point():
    steps = [stage(i, latencies(10, p99), rate=r, throughput_rps=r)
             for i, (r, p99) in enumerate([(100, 20), (200, 30), (400, 900)])]
    p = profile("stress", "stress", steps)
    lat, thr = evaluate({"stress": rules("p99 < 100ms", "throughput >= 150rps")}, run_result(p))
    assert lat.passed and lat.first_broken_stage == 2
    assert (thr.scope, thr.judged_stage) == ("operating_point", 1)
    assert thr.passed and thr.observed == 200  # at 200 rps, the heaviest step under the SLA


def test_stress_recovery_stage_is_not_a_step():
    steps = [stage(0, latencies(10, 20), rate=100),
             stage(1, latencies(10, 900), rate=1000),
             stage(2, latencies(10, 20), rate=50, label="recovery", role="recovery")]
    (v,) = evaluate({"s": rules("p99 < 100ms")}, run_result(profile("s", "stress", steps)))
    assert v.first_broken_stage == 1


def test_status_is_fail_when_a_rule_failed_on_enough_data_even_if_another_is_inconclusive():
    good = profile("a", "latency", [stage(0, latencies(10, 500), concurrency=1)])
    thin = profile("b", "latency", [stage(0, latencies(10, n=5), concurrency=1)])
    result = run_result(good, thin)
    verdicts = evaluate({"a": rules("p99 < 200ms"), "b": rules("p99 < 200ms")}, result,
                        min_requests=50)
    assert [v.inconclusive for v in verdicts] == [False, True]
    assert status_of(verdicts, result) == "fail"


def test_status_is_inconclusive_when_the_generator_fell_behind():
    p = profile("a", "latency", [stage(0, latencies(10), concurrency=1)])
    result = run_result(p, fell_behind=True)
    verdicts = evaluate({"a": rules("p99 < 200ms")}, result)
    assert all(v.passed for v in verdicts)
    assert status_of(verdicts, result) == "inconclusive"


def test_status_is_inconclusive_when_a_measured_stage_never_stabilised():
    p = profile("a", "throughput", [stage(0, latencies(10), concurrency=8, stable=False)])
    result = run_result(p)
    assert status_of(evaluate({"a": rules("p99 < 200ms")}, result), result) == "inconclusive"


def test_unstable_warmup_stage_does_not_make_the_run_inconclusive():
    p = profile("a", "throughput", [stage(0, latencies(10), concurrency=8, stable=False,
                                          warmup=True),
                                    stage(1, latencies(10), concurrency=8, stable=True)])
    result = run_result(p)
    assert status_of(evaluate({"a": rules("p99 < 200ms")}, result), result) == "pass"


def test_observe_reads_nothing_from_an_empty_stage():
    assert observe(parse_rule("p99 < 1s"), stage(0, [], concurrency=1)) is None


@pytest.mark.parametrize("expr,expected", [
    ("p99 < 1s", 80.0), ("p50 < 1s", 40.0), ("error_rate < 1%", 0.05),
    ("throughput > 1rps", 100.0), ("mean < 1s", None), ("p999 < 1s", None),
    ("rows_per_s > 1", None),
], ids=lambda v: str(v))
def test_observe_interval_reads_what_a_second_keeps(expr, expected):
    iv = interval(10, 0, 80.0, requests=100, errors=5, p50_ms=40.0)
    assert observe_interval(parse_rule(expr), iv) == expected


def test_observe_interval_has_no_latency_for_an_empty_second():
    assert observe_interval(parse_rule("p99 < 1s"), interval(1, 0, 0.0, requests=0)) is None


def test_one_request_is_data_and_decides_by_default():
    one = stage(0, [12.0], concurrency=1)
    assert observe(parse_rule("p99 < 1s"), one) == pytest.approx(12.0, rel=1e-3)
    (v,) = evaluate({"x": rules("p99 < 1s")}, run_result(profile("x", "latency", [one])))
    assert v.passed and not v.inconclusive and v.reason == "over 1 successful request"


def test_an_empty_stage_has_no_data_even_for_a_server_rule():
    from dataclasses import replace

    from loadkit.results.server import ServerSeries

    empty = replace(stage(0, [], concurrency=1),
                    server_metrics={"q": ServerSeries(kind="gauge", scrapes=3, max=2.0)})
    assert observe(parse_rule("server:q.max < 5"), empty) is None


def test_a_second_without_requests_has_throughput_zero_and_no_other_figure():
    idle = interval(3, 0, 0.0, requests=0, rps=0.0)
    assert observe_interval(parse_rule("throughput > 10rps"), idle) == 0.0
    assert observe_interval(parse_rule("error_rate < 1%"), idle) is None
    one = interval(4, 0, 30.0, requests=1, errors=1)
    assert observe_interval(parse_rule("error_rate < 1%"), one) == 1.0
    assert observe_interval(parse_rule("p99 < 1s"), interval(5, 0, 30.0, requests=1)) == 30.0


def test_a_stage_marked_warmup_by_flag_or_by_role_is_never_judged_alone():
    from dataclasses import replace

    by_role = stage(0, latencies(10), concurrency=1, role="warmup")
    by_flag = replace(stage(1, latencies(10), concurrency=1, warmup=True), role="measured")
    p = profile("x", "throughput", [by_role, by_flag, stage(2, latencies(10), concurrency=1)])
    scoped = [parse_rule("p50 < 100ms", stage=0), parse_rule("p50 < 100ms", stage=1)]
    for v in evaluate({"x": scoped}, run_result(p)):
        assert not v.passed and v.reason == (
            f"no data: no successful requests to judge (stage {v.judged_stage} is a warm-up stage)")


def test_inconclusive_reasons_name_every_cause_in_words():
    thin = profile("a", "latency", [stage(0, latencies(10, n=5), concurrency=1,
                                          stable=False, label="steady")])
    result = run_result(thin, fell_behind=True)
    verdicts = evaluate({"a": rules("p99 < 200ms")}, result, min_requests=10)
    assert inconclusive_reasons(verdicts, result) == [
        "a: p99 < 200ms: only 5 successful requests (need 10)",
        "the generator fell behind its schedule (schedule lag p99 250 ms)",
        "a: stage 0 (steady) never stabilised",
    ]
    from loadkit.results.model import GeneratorHealth

    quiet = run_result(profile("a", "latency", [stage(0, latencies(10), concurrency=1)]),
                       health=GeneratorHealth(fell_behind=True, reasons=()))
    assert inconclusive_reasons([], quiet) == ["the generator fell behind its schedule"]
    two = run_result(profile("a", "latency", [stage(0, latencies(10), concurrency=1)]),
                     health=GeneratorHealth(fell_behind=True, reasons=("lag", "cpu")))
    assert inconclusive_reasons([], two) == ["the generator fell behind its schedule (lag; cpu)"]


def test_a_scoped_rule_with_nothing_to_judge_says_where_it_looked():
    dead = stage(1, [5.0] * 10, concurrency=1, errors=10)
    p = profile("x", "throughput", [stage(0, latencies(10), concurrency=1), dead])
    (v,) = evaluate({"x": [parse_rule("p99 < 1s", stage=1)]}, run_result(p))
    assert (v.passed, v.observed, v.judged_stage) == (False, None, 1)
    assert v.reason == "no data: no successful requests to judge in stage 1"


def test_a_figure_the_stage_does_not_have_is_no_data_whatever_the_request_count():
    from dataclasses import replace

    from loadkit.results.server import ServerSeries

    # a streamed stage without an slo: block measured no goodput
    streamed = replace(stage(0, latencies(10, n=20), concurrency=1), output_tokens=400)
    (v,) = evaluate({"x": rules("goodput >= 1rps")},
                    run_result(profile("x", "throughput", [streamed])))
    assert (v.passed, v.inconclusive, v.observed) == (False, False, None)
    assert v.reason == "no data: no requests to judge"
    # a server figure no scrape stands behind is no data either, not "only 0 scrapes"
    unscraped = replace(stage(0, latencies(10), concurrency=1),
                        server_metrics={"q": ServerSeries(kind="gauge", max=2.0)})
    p = profile("x", "throughput", [unscraped])
    p = replace(p, summary=replace(p.summary, server_metrics=unscraped.server_metrics))
    (v,) = evaluate({"x": rules("server:q.max < 5")}, run_result(p))
    assert (v.passed, v.inconclusive, v.observed) == (False, False, None)
    assert v.reason == "no data: no scrapes of the server to judge"


def test_every_profile_named_gets_its_verdicts_even_after_one_that_never_ran():
    p = profile("present", "latency", [stage(0, latencies(10), concurrency=1)])
    missing, present = evaluate({"missing": rules("p50 < 1s"), "present": rules("p50 < 1s")},
                                run_result(p))
    assert missing.reason == "no data: no successful requests to judge (profile did not run)"
    assert (missing.profile, missing.passed, missing.scope) == ("missing", False, "profile")
    assert (present.profile, present.passed) == ("present", True)
