"""Soak drift and spike recovery on hand-built seconds: windows, trends, thresholds, words."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadkit.analysis.soak import analyze_soak
from loadkit.analysis.spike import analyze_spike
from loadkit.results.analysis import SoakWindow
from loadkit.sla import parse_rule
from loadkit.testing import interval, profile, stage

T0 = 1_700_000_000.0


def secs(p99s, errors=None, start=0, stage_index=1, requests=100):
    errors = errors or [0] * len(p99s)
    return [interval(T0 + start + i, stage_index, p, requests=requests, errors=e, t0=T0)
            for i, (p, e) in enumerate(zip(p99s, errors, strict=True))]


def soak(ivs, warm=()):
    stages = [stage(0, [1.0], warmup=True), stage(1, [2.0] * 50, rate=10.0, throughput_rps=10)]
    return profile("soak", "soak", stages, [*warm, *ivs])


def test_soak_compares_the_first_and_last_fifth_weighted_by_requests():
    ivs = secs([10, 12, 11, 11, 11, 11, 11, 11, 20, 30], errors=[0] * 8 + [1, 3])
    ivs[1] = replace(ivs[1], requests=300, ok=300)
    warm = [interval(T0 - 1, 0, 999.0, t0=T0)]
    a = analyze_soak(soak(ivs, warm))
    assert a.window_s == 2
    assert a.first == SoakWindow(start_s=None, seconds=2, requests=400, errors=0, error_rate=0.0,
                                 p99_ms=11.5, rps=200.0)
    assert a.last == SoakWindow(start_s=None, seconds=2, requests=200, errors=4, error_rate=0.02,
                                p99_ms=25.0, rps=100.0)
    assert (a.p99_drift_ms, a.p99_drift) == (13.5, 1.1739)
    assert a.error_rate == round(4 / 1200, 6) and a.error_trend == "rising"
    assert a.headline == ("p99 11.5ms -> 25ms from first to last 2 s (+117%); error rate "
                          "0.333% rising")
    assert [w.start_s for w in a.windows] == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert a.windows[-1] == replace(a.last, start_s=8.0)
    assert a.error_rate_slope_per_min == pytest.approx(0.17 / 82.5 * 60)   # least squares
    assert a.steady.offered_rps == 10.0


def test_the_error_trend_is_flat_within_half_a_point_either_way():
    def trend(first_errors, last_errors):
        ivs = secs([10] * 4, errors=[first_errors, 0, 0, last_errors])
        return analyze_soak(soak(ivs), window_s=1).error_trend

    assert trend(0, 1) == "rising" and trend(1, 0) == "falling"
    ivs = secs([10] * 4, errors=[0, 0, 0, 1], requests=200)                 # +0.5 pp exactly
    assert analyze_soak(soak(ivs), window_s=1).error_trend == "flat"
    ivs = secs([10] * 4, errors=[1, 0, 0, 0], requests=200)
    assert analyze_soak(soak(ivs), window_s=1).error_trend == "flat"
    assert analyze_soak(soak(ivs), window_s=1, flat_pp=0.4).error_trend == "falling"


def test_a_soak_window_is_chosen_then_kept_within_half_the_seconds():
    ivs = secs([10] * 10)
    assert analyze_soak(soak(ivs), window_s=3).window_s == 3
    assert analyze_soak(soak(ivs), window_s=8).window_s == 5
    assert analyze_soak(soak(ivs), fraction=0.5).window_s == 5
    assert analyze_soak(soak(ivs), fraction=0.01).window_s == 1
    assert analyze_soak(soak(ivs), fraction=0.26).window_s == 3                # round(2.6)
    a = analyze_soak(soak(ivs), window_s=3)
    assert [w.seconds for w in a.windows] == [3, 3, 3, 1]


def test_a_soak_too_short_or_starting_at_zero_still_answers():
    a = analyze_soak(soak(secs([10])))
    assert a.headline == "too short to judge drift (1 s measured)" and a.first is None
    assert a.steady.kind == "soak"
    empty_first = secs([0, 5, 5, 5])
    a = analyze_soak(soak(empty_first), window_s=1)
    assert (a.p99_drift_ms, a.p99_drift) == (5.0, None)
    assert a.headline == "p99 0ms -> 5ms from first to last 1 s; error rate 0% flat"
    same = secs([7.5] * 4)
    a = analyze_soak(same and soak(same), window_s=1)
    assert a.error_rate_slope_per_min == 0.0 and a.headline.startswith("p99 7.5ms -> 7.5ms")
    assert "(+0%)" in a.headline


def spike_profile(before_p99=10.0, spike_p99=200.0, after=(200, 50, 20, 20, 20),
                  rate=True, errors=0):
    kw = (lambda r: {"rate": r}) if rate else (lambda r: {"concurrency": int(r)})
    stages = [stage(0, [before_p99] * 100, started_at=T0, duration_s=10.0, **kw(10.0)),
              stage(1, [spike_p99] * 500, errors={"http_5xx": errors} if errors else 0,
                    started_at=T0 + 10, duration_s=10.0, **kw(50.0)),
              stage(2, [before_p99] * 100, started_at=T0 + 20, duration_s=len(after),
                    **kw(10.0))]
    ts = (secs([before_p99] * 10, stage_index=0) + secs([spike_p99, 300.0] * 5, start=10)
          + secs(list(after), start=20, stage_index=2))
    return profile("spike", "spike", stages, ts)


def test_a_spike_recovers_under_twice_the_baseline_p99_inclusive():
    a = analyze_spike(spike_profile(after=(200, 30, 20.014, 20, 20)))
    assert (a.spike_stage, a.spike_load, a.baseline_p99_ms) == (1, 50.0, 10.007)
    assert (a.peak_p99_ms, a.peak_1s_p99_ms, a.spike_requests, a.spike_errors) == (
        200.063, 300.0, 500, 0)
    assert a.recovery.threshold_ms == 20.014 and a.recovery.seconds == 2.0
    assert a.recovery_s == 2.0
    assert a.headline == ("spike to 50 rps: p99 200ms (baseline 10ms), 0 errors; "
                          "recovered in 2 s")


def test_a_fast_services_recovery_threshold_is_never_tighter_than_baseline_plus_5ms():
    a = analyze_spike(spike_profile(before_p99=1.0, after=(100, 6.0, 6.0, 6.0)))
    assert a.recovery.threshold_ms == 6.0 and a.recovery.seconds == 1.0
    a = analyze_spike(spike_profile(before_p99=1.0, after=(100, 6.01, 6.01, 6.01)))
    assert a.recovery.status == "did not recover"


def test_a_p99_rule_sets_the_spike_recovery_threshold_and_errors_gate_it():
    rules = [parse_rule("p99 < 100ms"), parse_rule("error_rate < 1%")]
    a = analyze_spike(spike_profile(after=(200, 99, 99, 99)), rules)
    assert (a.recovery.threshold_ms, a.recovery.seconds) == (100.0, 1.0)
    bad = spike_profile(after=(200, 99, 99, 99))
    bad = replace(bad, timeseries=bad.timeseries[:-3] + tuple(
        replace(iv, ok=98, errors=2) for iv in bad.timeseries[-3:]))
    assert analyze_spike(bad, rules).recovery.status == "did not recover"


def test_a_closed_model_spike_and_one_without_a_before_or_after():
    a = analyze_spike(spike_profile(rate=False, errors=7))
    assert (a.spike_load, a.spike_errors, a.spike_error_rate) == (50, 7, 0.014)
    assert a.spike_error_kinds == {"http_5xx": 7}
    assert a.headline.startswith("spike to concurrency 50: p99 ")
    assert ", 7 errors; " in a.headline
    p = spike_profile()
    last = analyze_spike(replace(p, stages=p.stages[:2]))
    assert last.recovery is None and last.recovery_s is None
    assert last.headline == "spike to 50 rps: p99 200ms (baseline 10ms), 0 errors"
    first = analyze_spike(replace(p, stages=p.stages[1:]))
    assert first.baseline_p99_ms is None
    assert first.recovery.status == "unknown" and first.recovery.threshold_ms == 0.0
    assert first.recovery.reason == "no p99 threshold to recover under"
    assert first.headline == "spike to 50 rps: p99 200ms, 0 errors; recovery unknown"
    no_start = replace(p, stages=tuple(replace(s, started_at=0.0) for s in p.stages),
                       timeseries=())
    r = analyze_spike(no_start).recovery
    assert (r.status, r.reason, r.threshold_ms) == ("unknown", "no timeseries after the spike",
                                                    20.014)
    assert analyze_spike(profile("spike", "spike", [])).headline == "no measured stages"


def test_the_earliest_of_equally_heavy_stages_is_the_spike():
    p = spike_profile()
    twin = replace(p, stages=(p.stages[0], p.stages[1], replace(p.stages[1], index=2)))
    assert analyze_spike(twin).spike_stage == 1


def test_seconds_without_requests_are_not_soak_seconds():
    ivs = secs([10, 10, 20, 20])
    ivs.insert(2, interval(T0 + 9, 1, 0.0, requests=0, t0=T0))
    a = analyze_soak(soak(ivs))
    assert a.window_s == 1 and len(a.windows) == 4 and a.p99_drift_ms == 10.0


def test_two_seconds_are_enough_to_judge_drift_and_a_spike_keeps_its_max():
    a = analyze_soak(soak(secs([10, 30])))
    assert (a.window_s, a.p99_drift_ms) == (1, 20.0)
    s = analyze_spike(spike_profile())
    assert s.peak_max_ms == s.peak_p99_ms == 200.063
