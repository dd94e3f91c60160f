"""Recovery time on known timeseries, and the stress / spike analyses that use it."""

from __future__ import annotations

import pytest

from loadkit.analysis import analyze, recovery_time
from loadkit.testing import interval, latencies, profile, stage
from loadkit.sla import parse_rule
from tests.results.records import round_trip

T0 = 1_700_000_000.0


def series(p99s, start=T0, stage_index=0):
    return [interval(start + i, stage_index, p) for i, p in enumerate(p99s)]


def test_recovery_time_counts_seconds_until_p99_is_back_and_stays():
    # overload ends at T0; seconds T0..T0+3 still slow, good from T0+4 on.
    ts = series([900, 700, 400, 250, 80, 60, 50, 50, 50, 50])
    r = recovery_time(ts, overload_end_t=T0, threshold_ms=200)
    assert r.status == "recovered" and r.seconds == 4


def test_a_relapse_resets_the_recovery():
    ts = series([900, 80, 80, 500, 80, 80, 80, 80])
    r = recovery_time(ts, overload_end_t=T0, threshold_ms=200)
    assert r.seconds == 4


def test_did_not_recover_when_p99_stays_high():
    ts = series([900, 800, 700, 600, 500, 400, 300, 250])
    r = recovery_time(ts, overload_end_t=T0, threshold_ms=200)
    assert r.status == "did not recover" and r.seconds is None
    assert r.words() == "did not recover"


def test_a_good_last_second_alone_is_not_recovery():
    ts = series([900, 800, 700, 600, 500, 80])
    r = recovery_time(ts, overload_end_t=T0, threshold_ms=200, hold_s=3)
    assert r.status == "did not recover"


def test_seconds_before_the_overload_ended_are_ignored():
    before = series([2000, 2000, 2000], start=T0 - 3)
    after = series([50, 50, 50, 50], start=T0)
    r = recovery_time(before + after, overload_end_t=T0, threshold_ms=200)
    assert r.seconds == 0


def test_empty_seconds_are_no_evidence():
    ts = series([900, 80]) + [interval(T0 + 2, 0, 0.0, requests=0)] + series([80, 80], T0 + 3)
    r = recovery_time(ts, overload_end_t=T0, threshold_ms=200)
    assert r.seconds == 1


def test_seconds_full_of_errors_are_not_recovered_when_an_error_limit_is_given():
    ts = [interval(T0 + i, 0, 5, errors=e) for i, e in enumerate([90, 90, 0, 0, 0])]
    assert recovery_time(ts, overload_end_t=T0, threshold_ms=200).seconds == 0
    assert recovery_time(ts, overload_end_t=T0, threshold_ms=200, max_error_rate=0.01).seconds == 2


def _stress(recovery_p99s, steps=((100, 100, 20, 0), (200, 200, 30, 0), (400, 395, 60, 0),
                                   (800, 610, 2100, 40))):
    """steps: (offered rps, achieved rps, p99 ms, errors out of 1000)."""
    stages, ts, t = [], [], T0
    for i, (rate, rps, p99, errs) in enumerate(steps):
        stages.append(stage(i, latencies(10, p99), rate=rate, throughput_rps=rps,
                            errors={"http_5xx": errs // 2, "timeout": errs - errs // 2},
                            started_at=t))
        ts += series([p99] * 10, start=t, stage_index=i)
        t += 10
    n = len(steps)
    stages.append(stage(n, latencies(10, 20), rate=50, label="recovery", role="recovery", started_at=t,
                        duration_s=len(recovery_p99s)))
    ts += series(recovery_p99s, start=t, stage_index=n)
    return profile("stress", "stress", stages, ts)


def test_stress_finds_breaking_point_max_sustained_rate_and_recovery():
    a = analyze(_stress([1500, 900, 300, 90, 40, 40, 40, 40]), [parse_rule("p99 < 200ms")])
    assert a.breaking_point.rate == 800
    assert a.max_rate_under_sla == 400 and a.max_sustained_rps == 395
    assert a.recovery_s == 3
    assert a.headline == ("max sustained 395 rps under SLA; breaks at 800 rps "
                             "(p99 2.1s, errors 4%); peak goodput 586 rps at 800 offered; "
                             "recovered in 3 s")
    assert round_trip(a) == a


def test_stress_breaks_when_achieved_throughput_falls_below_90_percent_of_offered():
    steps = ((100, 100, 20, 0), (200, 170, 30, 0))
    a = analyze(_stress([40] * 5, steps), [])
    assert a.breaking_point.rate == 200
    assert any("achieved" in r for r in a.breaking_point.reasons)


def test_stress_stop_when_sets_the_breaking_point_without_an_sla():
    a = analyze(_stress([40] * 5), [], stop_when={"error_rate": "10%", "p99": "2s"})
    assert a.breaking_point.rate == 800
    assert "p99 2.1s >= stop_when 2s" in a.breaking_point.reasons


def test_stress_degradation_separates_rejected_from_timed_out():
    a = analyze(_stress([40] * 5), [])
    last = a.steps[-1]
    assert (last.rejected, last.timed_out, last.other_errors) == (20, 20, 0)


def test_stress_reports_did_not_recover():
    a = analyze(_stress([1500, 900, 800, 700, 600, 500]), [parse_rule("p99 < 200ms")])
    assert a.recovery.status == "did not recover" and a.recovery_s is None
    assert a.headline.endswith("did not recover")


def test_stress_without_a_breaking_point_says_so():
    a = analyze(_stress([40] * 5, ((100, 100, 20, 0), (200, 200, 30, 0))),
                [parse_rule("p99 < 200ms")])
    assert a.breaking_point is None
    assert "no breaking point up to 200 rps" in a.headline


def test_spike_reports_peak_errors_and_recovery_against_the_baseline():
    stages = [stage(0, latencies(10, 20), rate=100, started_at=T0),
              stage(1, latencies(200, 900), rate=1000, errors=30, started_at=T0 + 10),
              stage(2, latencies(10, 20), rate=100, started_at=T0 + 15)]
    ts = (series([20] * 10, T0, 0) + series([900] * 5, T0 + 10, 1)
          + series([600, 100, 30, 20, 20, 20, 20], T0 + 15, 2))
    a = analyze(profile("spike", "spike", stages, ts), [])
    assert a.peak_p99_ms > 890 and a.spike_errors == 30
    assert a.recovery.threshold_ms == pytest.approx(40.0, rel=0.01)  # 2 x baseline p99
    assert a.recovery_s == 2
    assert a.headline.startswith("spike to 1000 rps: p99 ") and "recovered in 2 s" in a.headline


def test_stress_accepts_the_scenarios_parsed_stop_when():
    from loadkit.scenario.model import StopWhen

    a = analyze(_stress([40] * 5), [], stop_when=StopWhen(error_rate=0.5, p99_ms=2000.0))
    assert a.breaking_point.rate == 800


def test_stress_reports_peak_goodput_as_the_ceiling_between_steps():
    steps = ((400, 400, 20, 0), (800, 800, 150, 100))  # 800 offered, 10% shed -> 720 ok/s
    a = analyze(_stress([40] * 5, steps), [parse_rule("error_rate < 1%")])
    assert a.max_sustained_rps == 400
    assert a.peak_goodput_rps == 720
    assert "peak goodput 720 rps at 800 offered" in a.headline


def test_without_a_p99_rule_or_stop_when_recovery_is_back_to_twice_the_first_step():
    # first step p99 20 ms: recovered once a second's p99 is at most 40 ms (and stays)
    a = analyze(_stress([100, 45, 40, 40, 40, 40]), [])
    assert a.recovery.threshold_ms == pytest.approx(40.0, rel=0.01)
    assert a.recovery_s == 2                  # 40 ms itself counts as recovered


def test_a_p99_rule_sets_the_recovery_threshold_and_its_operator():
    a = analyze(_stress([100, 45, 40, 30, 30, 30]), [parse_rule("p99 < 40ms")])
    assert a.recovery.threshold_ms == 40.0
    assert a.recovery_s == 3                  # p99 < 40 ms: 40 ms is not yet recovered
