"""Recovery, the end of overload and the stress fallback threshold, at their boundaries.

Each case sits exactly on an edge: the second straddling the end of overload, a
p99 equal to its threshold, an error share equal to its limit, a streak one second
short of ``hold_s``, the stress fallback of twice the first step's p99 (inclusive).
"""

from __future__ import annotations

from dataclasses import replace

from loadkit.analysis.recovery import (
    Recovery,
    error_rate_limit,
    overload_end_t,
    p99_threshold_ms,
    recovery_time,
    stage_start_t,
)
from loadkit.analysis.stress import parse_stop_when, stress_recovery, stress_steps
from loadkit.sla import parse_rule
from loadkit.testing import interval, latencies, profile, stage

T0 = 1_700_000_000.0


def series(p99s, start=T0, stage_index=0, **kw):
    return [interval(start + i, stage_index, p, **kw) for i, p in enumerate(p99s)]


def test_recovery_words_and_dict_say_what_was_found():
    r = Recovery("recovered", 2.5, 200.12345, "why")
    assert r.recovered and r.words() == "recovered in 2.5 s"
    assert r.threshold_ms == 200.123                 # kept to the microsecond
    assert Recovery("recovered", 12.3456, 1.0, "").words() == "recovered in 12.3 s"
    assert not Recovery("did not recover", None, 1.0, "").recovered
    assert Recovery("did not recover", None, 1.0, "").words() == "did not recover"
    assert Recovery("unknown", None, 1.0, "").words() == "recovery unknown"


def test_the_second_straddling_the_end_of_overload_counts_and_the_one_before_does_not():
    slow_before = interval(T0 - 1, 0, 900.0)             # ends exactly at the end: ignored
    straddling = interval(T0 - 0.5, 0, 50.0)             # ends after it: counted
    r = recovery_time([slow_before, straddling] + series([50, 50], start=T0 + 0.5),
                      overload_end_t=T0, threshold_ms=200)
    assert (r.status, r.seconds) == ("recovered", 0.0)
    assert r.reason == "p99 < 200 ms from 0 s after the overload to the end (3 s)"
    r = recovery_time([interval(T0 - 0.5, 0, 900.0)] + series([50, 50, 50], start=T0 + 0.5),
                      overload_end_t=T0, threshold_ms=200)
    assert (r.status, r.seconds) == ("recovered", 0.5)


def test_a_p99_equal_to_the_threshold_is_good_only_under_an_inclusive_operator():
    ts = series([200, 200, 200])
    assert recovery_time(ts, overload_end_t=T0, threshold_ms=200).status == "did not recover"
    r = recovery_time(ts, overload_end_t=T0, threshold_ms=200, op="<=")
    assert (r.status, r.seconds) == ("recovered", 0.0)
    assert r.reason == "p99 <= 200 ms from 0 s after the overload to the end (3 s)"


def test_a_streak_must_last_hold_s_seconds_exactly():
    ts = series([900, 50, 50, 50])
    r = recovery_time(ts, overload_end_t=T0, threshold_ms=200, hold_s=3)
    assert (r.status, r.seconds, r.threshold_ms) == ("recovered", 1.0, 200)
    r = recovery_time(ts, overload_end_t=T0, threshold_ms=200, hold_s=4)
    assert (r.status, r.seconds) == ("did not recover", None)
    assert r.reason == "only the last 3 s met p99 < 200 ms; need 4 s to say it stays"
    # never bad but too short to say: unknown, not "did not recover"
    r = recovery_time(series([50, 50]), overload_end_t=T0, threshold_ms=200, hold_s=3)
    assert (r.status, r.seconds) == ("unknown", None)
    assert r.reason == "only the last 2 s met p99 < 200 ms; need 3 s to say it stays"


def test_no_good_second_at_the_end_names_the_last_p99():
    r = recovery_time(series([50, 50, 50, 321.5]), overload_end_t=T0, threshold_ms=200)
    assert (r.status, r.seconds) == ("did not recover", None)
    assert r.reason == "1-second p99 still 321.5 ms at the end (need p99 < 200 ms)"


def test_no_second_after_the_overload_or_within_the_window_is_unknown():
    r = recovery_time(series([50, 50, 50], start=T0 - 10), overload_end_t=T0, threshold_ms=200)
    assert (r.status, r.seconds, r.threshold_ms) == ("unknown", None, 200)
    assert r.reason == "no measurements after the overload"
    ts = series([50, 50, 50, 50, 900, 900])
    r = recovery_time(ts, overload_end_t=T0, threshold_ms=200, window_end_t=T0 + 4)
    assert (r.status, r.seconds) == ("recovered", 0.0)               # T0+4 on: outside
    r = recovery_time(ts, overload_end_t=T0, threshold_ms=200, window_end_t=T0 + 5)
    assert r.status == "did not recover"


def test_a_second_at_exactly_the_error_limit_is_recovered_and_one_more_error_is_not():
    ts = series([50, 50, 50, 50], requests=100, errors=1)
    assert recovery_time(ts, overload_end_t=T0, threshold_ms=200,
                         max_error_rate=0.01).seconds == 0.0
    worse = [replace(ts[0], ok=98, errors=2)] + ts[1:]
    r = recovery_time(worse, overload_end_t=T0, threshold_ms=200, max_error_rate=0.01)
    assert (r.status, r.seconds) == ("recovered", 1.0)


def test_the_tightest_profile_wide_upper_bounds_set_the_recovery_limits():
    rules = [parse_rule("p99 < 300ms"), parse_rule("p99 < 250ms"), parse_rule("p99 > 1ms"),
             parse_rule("p99 < 100ms @ stage 1"), parse_rule("p50 < 10ms"),
             parse_rule("error_rate < 5%"), parse_rule("error_rate < 2%"),
             parse_rule("error_rate < 0.1% @ stage 0"), parse_rule("error_rate > 0%")]
    assert p99_threshold_ms(rules) == parse_rule("p99 < 250ms")
    assert error_rate_limit(rules) == 0.02
    assert p99_threshold_ms([parse_rule("p50 < 1ms")]) is None
    assert error_rate_limit([parse_rule("p99 < 1ms")]) is None


def test_a_stage_starts_at_its_own_start_or_its_first_second():
    ts = series([1, 1], stage_index=0) + series([1, 1], start=T0 + 2, stage_index=2)
    p = profile("s", "stress", [stage(0, [1.0]), stage(1, [1.0])], ts)
    assert stage_start_t(p, stage(1, [1.0], started_at=T0 + 7)) == T0 + 7
    assert stage_start_t(p, stage(1, [1.0])) == T0 + 2                # first second of >= 1
    assert stage_start_t(p, stage(2, [1.0])) == T0 + 2
    assert stage_start_t(p, stage(3, [1.0])) is None


def test_overload_ends_with_its_schedule_when_the_stages_hand_over_late():
    # 200 rps offered, 380 issued + 20 in flight -> 2 s of schedule inside a 2.5 s stage
    over = replace(stage(0, [1.0] * 380, rate=200.0, started_at=T0), duration_s=2.5,
                   in_flight_at_end=20)
    nxt = stage(1, [1.0], started_at=T0 + 3.5)
    p = profile("s", "stress", [over, nxt])
    assert overload_end_t(p, over, nxt) == T0 + 2.0
    # the recorded span does not reach the next stage (more than 1 s apart): its start
    assert overload_end_t(p, over, replace(nxt, started_at=T0 + 3.6)) == T0 + 3.6
    # the schedule is no shorter than the stage: the next stage's start
    assert overload_end_t(p, replace(over, duration_s=2.0), nxt) == T0 + 3.5
    # the next stage starts before the schedule ends: the earlier of the two
    assert overload_end_t(p, replace(over, duration_s=3.0), replace(nxt, started_at=T0 + 1.5)
                          ) == T0 + 1.5
    # no rate (closed model), no start, or no next start: the next stage's start
    assert overload_end_t(p, replace(over, rate=None), nxt) == T0 + 3.5
    assert overload_end_t(p, replace(over, started_at=0.0), nxt) == T0 + 3.5
    assert overload_end_t(p, over, replace(nxt, started_at=0.0)) is None


def _stress(first_p99, recovery_p99s, rules=(), stop_when=None):
    steps = [stage(0, latencies(10, first_p99), rate=100, throughput_rps=100, started_at=T0),
             stage(1, latencies(10, 900), rate=200, throughput_rps=200, started_at=T0 + 10)]
    rec = stage(2, latencies(10, 20), rate=50, role="recovery", started_at=T0 + 20,
                duration_s=len(recovery_p99s))
    ts = series([first_p99] * 10) + series([900] * 10, start=T0 + 10, stage_index=1) + series(
        recovery_p99s, start=T0 + 20, stage_index=2)
    p = profile("stress", "stress", [*steps, rec], ts)
    return p, stress_recovery(p, list(rules), stress_steps(p, list(rules), stop_when),
                              stop_when)


def test_without_rules_recovery_is_back_to_twice_the_first_steps_p99_inclusive():
    probe, _ = _stress(40, [])
    first = stress_steps(probe)[0].p99_ms
    assert first == 40.031                           # HDR precision
    p, r = _stress(40, [2 * first] * 3)              # exactly twice: recovered (<=)
    assert r.threshold_ms == 2 * first
    assert r.status == "recovered" and r.seconds == 0.0
    assert r.reason == "p99 <= 80.06 ms from 0 s after the overload to the end (3 s)"
    _, r = _stress(40, [2 * first + 0.001] * 3)
    assert r.status == "did not recover"


def test_stop_when_p99_comes_before_the_fallback_and_a_rule_before_stop_when():
    _, r = _stress(40, [100, 100, 100], stop_when={"p99": "100ms"})
    assert (r.threshold_ms, r.status) == (100.0, "did not recover")    # strictly under
    _, r = _stress(40, [100, 100, 100], stop_when={"p99": "101ms"})
    assert (r.threshold_ms, r.status) == (101.0, "recovered")
    _, r = _stress(40, [100, 100, 100], rules=[parse_rule("p99 <= 100ms")],
                   stop_when={"p99": "50ms"})
    assert (r.threshold_ms, r.status) == (100.0, "recovered")


def test_recovery_needs_a_recovery_stage_a_threshold_and_a_start():
    p, _ = _stress(40, [50, 50, 50])
    no_recovery = replace(p, stages=p.stages[:2])
    assert stress_recovery(no_recovery, [], stress_steps(no_recovery)) is None
    zero = stress_recovery(p, [], [])
    assert zero == Recovery("unknown", None, 0.0, "no p99 threshold to recover under")
    unstarted = replace(p, stages=tuple(replace(s, started_at=0.0) for s in p.stages),
                        timeseries=())
    r = stress_recovery(unstarted, [], stress_steps(unstarted))
    assert r.status == "unknown" and r.reason == "no timeseries for the recovery stage"
    assert r.threshold_ms == 2 * stress_steps(unstarted)[0].p99_ms
    only_recovery = replace(p, stages=(p.stages[2],))
    r = stress_recovery(only_recovery, [parse_rule("p99 < 200ms")], [])
    assert r.status == "recovered" and r.seconds == 0.0                # from its own start


def test_stop_when_is_read_from_the_scenarios_spellings():
    assert parse_stop_when(None) == (None, None) and parse_stop_when({}) == (None, None)
    assert parse_stop_when({"error_rate": "10%", "p99": "2s"}) == (0.1, 2000.0)
    assert parse_stop_when({"error_rate": 0.05, "p99_ms": 250}) == (0.05, 250.0)
    assert parse_stop_when({"p99_s": 1.5}) == (None, 1500.0)
    assert parse_stop_when({"p99_ms": 7, "p99_s": 1, "p99": "9ms"}) == (None, 7.0)
    assert parse_stop_when({"p99_s": 1, "p99": "9ms"}) == (None, 1000.0)
    assert parse_stop_when({"p99": 300}) == (None, 300.0)

    class StopWhen:
        error_rate = 0.2
        p99_ms = 150

    assert parse_stop_when(StopWhen()) == (0.2, 150.0)
    StopWhen.error_rate = None
    assert parse_stop_when(StopWhen()) == (None, 150.0)
    StopWhen.p99_ms = None
    StopWhen.error_rate = 0.3
    assert parse_stop_when(StopWhen()) == (0.3, None)


def test_a_second_that_ended_before_the_overload_ended_is_not_evidence():
    ts = [interval(T0 - 1.5, 0, 50.0), interval(T0 - 0.5, 0, 50.0), interval(T0 + 0.5, 0, 50.0)]
    r = recovery_time(ts, overload_end_t=T0, threshold_ms=200)
    assert (r.status, r.reason) == ("unknown", "only the last 2 s met p99 < 200 ms; need 3 s "
                                               "to say it stays")


def test_an_empty_second_does_not_lengthen_a_streak():
    ts = series([900, 80]) + [interval(T0 + 2, 0, 0.0, requests=0)] + series([80], T0 + 3)
    r = recovery_time(ts, overload_end_t=T0, threshold_ms=200, hold_s=3)
    assert r.status == "did not recover"
