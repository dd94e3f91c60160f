"""Ramp and stress verdicts: which steps count, which one is judged, and how it is named."""

from __future__ import annotations

from loadkit.results.model import Verdict
from loadkit.sla import parse_rule
from loadkit.sla.evaluate import evaluate_profile, load_steps, operating_point
from loadkit.sla.steps import load_of, split_steps
from loadkit.testing import latencies, profile, stage


def step(index: int, p99: float, *, rate: float | None = None, concurrency: int | None = None,
         n: int = 200, **kw: object):
    return stage(index, latencies(10, p99, n=n), rate=rate, concurrency=concurrency,
                 **kw)  # type: ignore[arg-type]


# four open-model steps: the first three meet p99 < 50ms, the fourth does not
STRESS = profile("s", "stress", [
    step(0, 20, rate=100, throughput_rps=100), step(1, 30, rate=200, throughput_rps=200),
    step(2, 40, rate=300, throughput_rps=290), step(3, 90, rate=400, throughput_rps=310),
    step(4, 20, rate=50, throughput_rps=50, role="recovery", label="recovery")])


def test_steps_and_recovery_stages_are_told_apart_by_role_in_run_order():
    warm = step(9, 20, rate=10, warmup=True)
    p = profile("s", "stress", [STRESS.stages[4], *STRESS.stages[:4], warm])
    steps, recovery = split_steps(p)
    assert [s.index for s in steps] == [0, 1, 2, 3]
    assert [s.index for s in recovery] == [4]


def test_a_step_is_its_rate_else_its_concurrency():
    assert load_of(step(0, 20, rate=12.5)) == 12.5
    assert load_of(step(0, 20, concurrency=3)) == 3.0
    assert load_of(step(0, 20)) == 0.0


def test_steps_without_requests_are_not_steps_but_one_request_is():
    p = profile("r", "ramp", [step(0, 20, concurrency=1, n=1), stage(1, [], concurrency=2),
                              step(2, 90, concurrency=4)])
    assert [s.index for s in load_steps(p)] == [0, 2]
    (v,) = evaluate_profile(p, [parse_rule("p99 < 50ms")])
    # judged on the 1-request step, and broken at step 2: the empty step 1 broke nothing
    assert (v.judged_stage, v.first_broken_stage, v.passed) == (0, 2, True)
    assert v.reason == "over 1 successful request at step 0 (concurrency 1)"


def test_a_ramp_keeps_its_run_order_even_when_loads_go_down():
    p = profile("r", "ramp", [step(0, 20, concurrency=4), step(1, 20, concurrency=2)])
    assert [s.index for s in load_steps(p)] == [0, 1]


def test_the_operating_point_is_the_heaviest_step_that_holds_every_bounded_rule():
    steps = load_steps(STRESS)
    rules = [parse_rule("p99 < 50ms"), parse_rule("throughput > 1rps"),
             parse_rule("p99 < 1ms", stage=0)]        # a scoped rule does not bound it
    assert operating_point(steps, rules).index == 2
    assert operating_point(steps, [parse_rule("p99 < 5ms")]) is None


def test_stress_throughput_is_judged_at_the_operating_point_named_by_its_rate():
    rules = [parse_rule("p99 < 50ms"), parse_rule("throughput >= 280rps")]
    _, thr = evaluate_profile(STRESS, rules)
    assert thr == Verdict(
        profile="s", expr="throughput >= 280rps", metric="throughput", observed=290.0,
        threshold=280.0, passed=True, unit="rps", scope="operating_point", judged_stage=2,
        reason="over 200 requests at the operating point, step 2 (300 rps offered)")


def test_when_no_step_holds_throughput_is_judged_at_the_first_step():
    rules = [parse_rule("p99 < 5ms"), parse_rule("throughput >= 280rps")]
    lat, thr = evaluate_profile(STRESS, rules)
    assert (lat.judged_stage, lat.first_broken_stage, lat.passed) == (0, 0, False)
    assert (thr.judged_stage, thr.observed, thr.passed) == (0, 100.0, False)
    assert thr.reason == "over 200 requests at the operating point, step 0 (100 rps offered)"


def test_a_closed_stress_step_is_named_by_index_and_a_ramp_rate_step_by_its_rate():
    closed = profile("s", "stress", [step(0, 20, concurrency=4)])
    (v,) = evaluate_profile(closed, [parse_rule("p99 < 50ms")])
    assert v.reason == "over 200 successful requests at step 0"
    open_ramp = profile("r", "ramp", [step(0, 20, rate=100)])
    (v,) = evaluate_profile(open_ramp, [parse_rule("p99 < 50ms")])
    assert v.reason == "over 200 successful requests at step 0 (100 rps offered)"


def test_a_stepped_profile_with_no_step_that_ran_fails_for_lack_of_data():
    p = profile("r", "ramp", [stage(0, [], concurrency=1)])
    (v,) = evaluate_profile(p, [parse_rule("p99 < 50ms")], min_requests=5)
    assert v == Verdict(profile="r", expr="p99 < 50ms", metric="p99", observed=None,
                        threshold=50.0, passed=False, unit="ms", scope="steps",
                        reason="no data: no successful requests to judge")
