"""What a verdict was judged on, read back from real ``evaluate`` output (what reports show)."""

from __future__ import annotations

from loadkit.testing import latencies, profile, run_result, stage
from loadkit.sla import evaluate, parse_rule
from loadkit.sla.scope import VerdictScope, scope_of


def _ramp():
    curve = [(1, 10, 12), (2, 10, 14), (4, 11, 40), (8, 20, 250), (16, 40, 500)]
    return profile("ramp", "ramp", [stage(0, latencies(10), concurrency=1, warmup=True)] + [
        stage(i + 1, latencies(p50, p99), concurrency=c, throughput_rps=100.0 * c)
        for i, (c, p50, p99) in enumerate(curve)])


def _scopes(p, *rules):
    return [scope_of(p, v) for v in evaluate({p.name: list(rules)}, run_result(p))]


def test_a_ramp_latency_rule_is_judged_on_the_first_step_and_names_where_it_broke():
    (scope,) = _scopes(_ramp(), parse_rule("p99 < 200ms"))
    assert scope == VerdictScope("steps", judged=1, broken=4)


def test_a_ramp_rule_broken_at_the_first_step_is_judged_and_broken_there():
    p = _ramp()
    (v,) = evaluate({"ramp": [parse_rule("p99 < 5ms")]}, run_result(p))
    assert scope_of(p, v) == VerdictScope("steps", judged=1, broken=1)
    assert "first broken" not in v.reason      # the observed value already is that step's


def test_a_ramp_rule_that_always_held_has_no_broken_step():
    assert _scopes(_ramp(), parse_rule("p99 < 1s")) == [VerdictScope("steps", judged=1)]


def test_a_rule_scoped_to_a_stage_is_judged_on_that_stage_even_in_a_ramp():
    scopes = _scopes(_ramp(), parse_rule("p99 < 200ms", stage=4), parse_rule("p99 < 1s", stage=9))
    assert scopes == [VerdictScope("stage", judged=4), VerdictScope("stage", judged=9)]


def test_a_ramp_throughput_rule_is_judged_at_the_operating_point_pass_or_fail():
    p = _ramp()
    ok, low = _scopes(p, parse_rule("p99 < 200ms"), parse_rule("throughput >= 100rps")), \
        _scopes(p, parse_rule("p99 < 200ms"), parse_rule("throughput >= 5000rps"))
    assert ok[1] == VerdictScope("operating_point", judged=3)    # c=4, the last step under 200 ms
    assert low[1] == VerdictScope("operating_point", judged=3)


def test_a_single_stage_profile_and_a_profile_that_never_ran_are_judged_whole():
    p = profile("lat", "latency", [stage(0, latencies(10), concurrency=1)])
    assert _scopes(p, parse_rule("p99 < 1s")) == [VerdictScope("profile")]
    (v,) = evaluate({"gone": [parse_rule("p99 < 1s")]}, run_result(p))
    assert scope_of(None, v) == VerdictScope("profile")
