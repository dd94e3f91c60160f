"""Ramp analysis on known curves: knee, no knee, efficiency, SLA reach."""

from __future__ import annotations

import pytest

from loadkit.analysis import analyze, find_knee, ramp_steps
from loadkit.testing import latencies, profile, stage
from loadkit.sla import parse_rule
from tests.results.records import round_trip


def ramp(curve, warmup=True):
    """curve: (concurrency, rps, p50_ms, p99_ms) per step."""
    stages = [stage(0, latencies(10), concurrency=1, warmup=True)] if warmup else []
    for c, rps, p50, p99 in curve:
        stages.append(stage(len(stages), latencies(p50, p99, n=200), concurrency=c,
                            throughput_rps=rps, label=f"concurrency {c}"))
    return profile("ramp", "ramp", stages)


# 8 slots x 10 ms: linear to 8, flat after, latency grows with the queue.
SATURATING = [(1, 100, 10, 12), (2, 200, 10, 12), (4, 400, 10, 13), (8, 790, 10.1, 31),
              (16, 800, 20, 45), (32, 800, 40, 90), (64, 795, 80, 170)]
SCALING = [(1, 100, 10, 12), (2, 198, 10, 12), (4, 390, 10.2, 13), (8, 770, 10.3, 14),
           (16, 1500, 10.6, 16), (32, 2900, 11, 18)]


def test_knee_is_found_at_the_step_where_throughput_stops_growing():
    a = analyze(ramp(SATURATING), [])
    assert a.knee.concurrency == 8
    assert a.no_knee is False
    assert a.headline == "saturates at concurrency 8: 790 rps, p99 31ms"


def test_no_knee_when_throughput_keeps_scaling():
    a = analyze(ramp(SCALING), [])
    assert a.knee is None and a.no_knee is True
    assert a.headline.startswith("no knee: throughput still scaling at concurrency 32")


def test_one_flat_noisy_step_followed_by_growth_is_not_a_knee():
    noisy = [(1, 100, 10, 12), (2, 200, 10, 12), (4, 205, 19, 25), (8, 800, 10, 14),
             (16, 1600, 10, 14)]
    assert analyze(ramp(noisy), []).knee is None


def test_flat_throughput_without_rising_latency_is_not_called_saturation():
    flat_fast = [(1, 100, 10, 12), (2, 200, 10, 12), (4, 205, 10, 12)]
    assert find_knee(ramp_steps(ramp(flat_fast))) is None


def test_knee_is_found_on_uneven_steps_by_gain_per_doubling():
    uneven = [(1, 100, 10, 12), (3, 300, 10, 12), (6, 600, 10, 12), (8, 790, 10, 14),
              (10, 800, 12.5, 20), (12, 800, 15, 25)]
    assert analyze(ramp(uneven), []).knee.concurrency == 8


def test_scaling_efficiency_is_normalised_by_the_first_step():
    starts_at_2 = [(2, 200, 10, 12), (4, 400, 10, 12), (8, 600, 13, 20)]
    effs = [s.efficiency for s in ramp_steps(ramp(starts_at_2))]
    assert effs == pytest.approx([1.0, 1.0, 0.75])


def test_warmup_stage_is_not_a_ramp_step():
    steps = ramp_steps(ramp(SATURATING))
    assert [s.concurrency for s in steps] == [1, 2, 4, 8, 16, 32, 64]


def test_highest_concurrency_meeting_the_sla_is_reported():
    a = analyze(ramp(SATURATING), [parse_rule("p99 < 50ms")])
    assert a.max_concurrency_under_sla == 16
    assert a.first_breaking_step.concurrency == 32
    assert a.headline.endswith("SLA met up to concurrency 16")


def test_sla_met_at_no_step_is_said_plainly():
    a = analyze(ramp(SATURATING), [parse_rule("p99 < 1ms")])
    assert a.max_concurrency_under_sla is None
    assert a.headline.endswith("SLA not met at any step")


def test_ramp_analysis_round_trips_through_result_json():
    a = analyze(ramp(SATURATING), [parse_rule("p99 < 50ms")])
    assert round_trip(a) == a
