"""Every field of a verdict, exactly: what was judged, where, on how many requests, and why.

Reports, JUnit, merge and history read these fields; a wrong scope or stage in
one of them is a wrong report even when ``passed`` is right.
"""

from __future__ import annotations

from loadkit.results.model import Verdict
from loadkit.sla import parse_rule
from loadkit.sla.evaluate import evaluate_profile
from loadkit.testing import latencies, profile, stage

STEADY = profile("steady", "throughput", [
    stage(0, latencies(5, 50), warmup=True, concurrency=4),
    stage(1, latencies(10, 40), errors=20, concurrency=4)])
RAMP = profile("ramp", "ramp", [
    stage(0, latencies(10, 20), concurrency=1), stage(1, latencies(10, 30), concurrency=2),
    stage(2, latencies(20, 60), concurrency=4, throughput_rps=150)])


def v(profile: str, expr: str, metric: str, observed: float | None, threshold: float,
      passed: bool, unit: str, reason: str, **scope: object) -> Verdict:
    return Verdict(profile=profile, expr=expr, metric=metric, observed=observed,
                   threshold=threshold, passed=passed, unit=unit, reason=reason,
                   **scope)  # type: ignore[arg-type]


def test_profile_and_stage_scoped_rules():
    rules = [parse_rule("p99 < 50ms"), parse_rule("p50 < 5ms"),
             parse_rule("p99 < 100ms", stage=0), parse_rule("p99 < 100ms", stage=7),
             parse_rule("p99 < 45ms", stage=1)]
    assert list(evaluate_profile(STEADY, rules)) == [
        v("steady", "p99 < 50ms", "p99", 40.031, 50.0, True, "ms",
          "over 980 successful requests"),
        v("steady", "p50 < 5ms", "p50", 10.007, 5.0, False, "ms",
          "over 980 successful requests"),
        v("steady", "p99 < 100ms", "p99", None, 100.0, False, "ms",
          "no data: no successful requests to judge (stage 0 is a warm-up stage)",
          judged_stage=0, scope="stage"),
        v("steady", "p99 < 100ms", "p99", None, 100.0, False, "ms",
          "no data: no successful requests to judge (stage 7 did not run)",
          judged_stage=7, scope="stage"),
        v("steady", "p99 < 45ms", "p99", 40.031, 45.0, True, "ms",
          "over 980 successful requests in stage 1", judged_stage=1, scope="stage"),
    ]


def test_too_few_requests_keep_the_observed_value_but_decide_nothing():
    (verdict,) = evaluate_profile(STEADY, [parse_rule("p99 < 50ms")], min_requests=981)
    assert verdict == v("steady", "p99 < 50ms", "p99", 40.031, 50.0, False, "ms",
                        "only 980 successful requests (need 981)", inconclusive=True)
    (enough,) = evaluate_profile(STEADY, [parse_rule("p99 < 50ms")], min_requests=980)
    assert enough.passed and not enough.inconclusive


def test_ramp_rules_are_judged_on_the_lightest_step_or_at_the_operating_point():
    rules = [parse_rule("p99 < 50ms"), parse_rule("throughput >= 120rps")]
    assert list(evaluate_profile(RAMP, rules)) == [
        v("ramp", "p99 < 50ms", "p99", 20.015, 50.0, True, "ms",
          "over 1,000 successful requests at step 0 (concurrency 1)",
          judged_stage=0, first_broken_stage=2, broken_observed=60.031, scope="steps"),
        # the operating point: the heaviest step that meets the latency rule (c=2)
        v("ramp", "throughput >= 120rps", "throughput", 100.0, 120.0, False, "rps",
          "over 1,000 requests at the operating point, step 1 (concurrency 2)",
          judged_stage=1, scope="operating_point"),
    ]


def test_a_profile_that_never_ran_fails_every_rule_for_lack_of_data():
    (verdict,) = evaluate_profile(profile("never", "throughput", []), [parse_rule("p99 < 50ms")])
    assert verdict == v("never", "p99 < 50ms", "p99", None, 50.0, False, "ms",
                        "no data: no successful requests to judge")
