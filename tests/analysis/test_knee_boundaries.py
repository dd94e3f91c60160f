"""The knee of a ramp at its boundaries: gain per doubling, the latency rise, a later climb."""

from __future__ import annotations

import math

import pytest

from loadkit.analysis.ramp import RampStep, find_knee, gain_per_doubling, meets, ramp_steps
from loadkit.sla import parse_rule
from loadkit.testing import latencies, profile, stage


def step(i, concurrency, rps, p50=10.0):
    return RampStep(index=i, concurrency=concurrency, requests=100, throughput_rps=rps,
                    rows_per_s=rps, p50_ms=p50, p95_ms=p50, p99_ms=p50, error_rate=0.0,
                    efficiency=None, meets_sla=None, broken_rules=(), stable=None)


def test_gain_per_doubling_normalises_uneven_steps():
    assert gain_per_doubling(step(0, 2, 100.0), step(1, 4, 150.0)) == pytest.approx(0.5)
    assert gain_per_doubling(step(0, 2, 100.0), step(1, 8, 400.0)) == pytest.approx(1.0)
    assert gain_per_doubling(step(0, 4, 100.0), step(1, 8, 81.0)) == pytest.approx(-0.19)
    assert gain_per_doubling(step(0, 1, 100.0), step(1, 3, 100.0)) == 0.0
    assert gain_per_doubling(step(0, 1, 100.0), step(1, 2, 0.0)) == -1.0
    assert gain_per_doubling(step(0, 4, 0.0), step(1, 8, 10.0)) is None
    assert gain_per_doubling(step(0, 1, 1.0), step(1, 2, 2.0)) == 1.0       # 1 rps is a rate
    assert gain_per_doubling(step(0, 4, 10.0), step(1, 4, 20.0)) is None
    assert gain_per_doubling(step(0, 4, 10.0), step(1, 2, 20.0)) is None
    gain = gain_per_doubling(step(0, 3, 90.0), step(1, 5, 100.0))
    assert gain == pytest.approx((100 / 90) ** (1 / math.log2(5 / 3)) - 1)


def test_a_gain_of_exactly_min_gain_is_still_scaling():
    steps = [step(0, 1, 100.0, 10.0), step(1, 2, 125.0, 20.0), step(2, 4, 125.0, 30.0)]
    assert gain_per_doubling(steps[0], steps[1]) == 0.25
    assert find_knee(steps, min_gain=0.25) is steps[1]     # 1 -> 2 scaled (25%), 2 -> 4 did not
    assert find_knee(steps[:2], min_gain=0.2499) is None
    assert find_knee(steps[:2], min_gain=0.2501, min_latency_rise=0.5) is steps[0]


def test_a_flat_step_is_a_knee_only_when_its_p50_rose_by_more_than_min_latency_rise():
    base = step(0, 4, 100.0, p50=10.0)
    assert find_knee([base, step(1, 8, 100.0, p50=10.999)]) is None
    assert find_knee([base, step(1, 8, 100.0, p50=11.0)]) is base      # exactly +10%: a rise
    assert find_knee([base, step(1, 8, 100.0, p50=11.0)], min_latency_rise=0.2) is None
    assert find_knee([step(0, 4, 100.0, p50=0.0), step(1, 8, 100.0, p50=0.0)]) is not None


def test_a_later_climb_beyond_min_gain_means_the_flat_step_was_noise():
    s = [step(0, 1, 100.0), step(1, 2, 200.0, 10), step(2, 4, 200.0, 30),
         step(3, 8, 220.0, 60)]
    assert find_knee(s) is s[1]                       # 220 is exactly +10%: no climb
    s[3] = step(3, 8, 220.1, 60)
    assert find_knee(s) is None
    assert find_knee(s, min_gain=0.2) is s[1]
    assert find_knee([]) is None and find_knee([s[0]]) is None


def test_ramp_steps_skip_empty_and_unloaded_stages_and_scale_by_the_first_step():
    p = profile("ramp", "ramp", [
        stage(0, latencies(5, n=100), concurrency=2, throughput_rps=100),
        stage(1, [], concurrency=4),
        stage(2, latencies(5, n=100), concurrency=None, throughput_rps=100),
        stage(3, latencies(6, 9, n=300), concurrency=8, throughput_rps=300, errors=3),
    ])
    rules = [parse_rule("p99 < 8ms"), parse_rule("error_rate < 5%"),
             parse_rule("p50 < 1ms @ stage 3")]
    a, b = ramp_steps(p, rules)
    assert (a.index, a.concurrency, a.efficiency, a.meets_sla, a.broken_rules) == (
        0, 2, 1.0, True, ())
    assert (b.index, b.concurrency, b.efficiency) == (3, 8, 0.743)     # 297 / (8 * 50)
    assert (b.requests, b.error_rate, b.meets_sla, b.broken_rules) == (
        300, 0.01, False, ("p99 < 8ms",))
    assert (b.throughput_rps, b.rows_per_s, b.p50_ms, b.p99_ms) == (297.0, 297.0, 6.003, 9.007)
    assert (b.p95_ms, b.p99_ms) == (p.stages[3].latency_ms.p95, p.stages[3].latency_ms.p99)
    assert ramp_steps(p)[0].meets_sla is None


def test_a_step_without_a_value_for_a_rule_does_not_meet_it():
    assert meets([], stage(0, [1.0])) == (None, ())
    assert meets([parse_rule("p50 < 1ms @ stage 0")], stage(0, [1.0])) == (None, ())
    assert meets([parse_rule("p99 < 1s")], stage(0, [])) == (False, ("p99 < 1s",))


def test_a_flat_step_without_a_latency_rise_does_not_hide_a_later_knee():
    s = [step(0, 1, 100.0, 10.0), step(1, 2, 105.0, 10.0), step(2, 4, 106.0, 30.0)]
    assert find_knee(s) is s[1]


def test_a_steps_error_rate_keeps_six_decimals():
    p = profile("ramp", "ramp", [stage(0, [5.0] * 3, concurrency=1, errors=1)])
    assert ramp_steps(p)[0].error_rate == 0.333333
