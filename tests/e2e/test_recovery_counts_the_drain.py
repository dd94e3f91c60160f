"""Recovery is counted from the end of the overload's schedule, not from the next stage.

The engine drains a stage's in-flight requests before starting the next one, with
no new arrivals meanwhile. After an overload that drain IS the backlog: a spike at
1000 rps on an ~780 rps server (the timeline below is what a real run recorded)
took 2.68 s for its 2 s schedule, and the "after" stage began on an emptied queue.
Counted from the next stage's start, every overload "recovered in 0 s".
Pure: synthetic results, no network.
"""

from __future__ import annotations

from loadkit.analysis import analyze
from loadkit.testing import interval, latencies, profile, stage
from loadkit.sla.grammar import parse_rule

T0 = 1_800_000_000.0


def _overload_then(kind: str, next_label: str, rule: str = "p99 < 100ms",
                   next_role: str = "measured") -> dict:
    stages = [
        stage(0, latencies(11, 19), rate=100, started_at=T0, duration_s=2.0),
        # 2000 requests at 1000 rps: a 2 s schedule, recorded over 2.68 s (0.68 s of drain).
        stage(1, latencies(350, 590) * 2, rate=1000, started_at=T0 + 2.03, duration_s=2.68),
        stage(2, latencies(11, 17)[:500], rate=100, started_at=T0 + 4.71, duration_s=5.0,
              label=next_label, role=next_role),
    ]
    ts = [interval(T0, 0, 16), interval(T0 + 1, 0, 18),
          interval(T0 + 2.03, 1, 316, requests=684), interval(T0 + 3.03, 1, 537, requests=778),
          interval(T0 + 4.04, 1, 674, requests=538),       # the drain: 0.68 s past the schedule
          *(interval(T0 + 4.71 + i, 2, 15) for i in range(5))]
    return analyze(profile(kind, kind, stages, ts), [parse_rule(rule)])


def test_spike_recovery_counts_the_backlog_drained_after_the_schedule_ended() -> None:
    a = _overload_then("spike", "after 100 rps")
    # Schedule ended at +4.03 s; p99 back under 100 ms from the second starting +4.71 s.
    assert a.recovery.status == "recovered"
    assert a.recovery_s == 0.68


def test_stress_recovery_counts_the_backlog_drained_after_the_schedule_ended() -> None:
    a = _overload_then("stress", "recovery 100 rps", next_role="recovery")
    assert a.recovery.status == "recovered"
    assert a.recovery_s == 0.68


def test_an_overload_that_never_broke_the_bound_recovered_in_zero_seconds() -> None:
    # p99 < 1 s held in every second (the drain's 674 ms included): nothing to recover
    # from, so 0 s, not the ms between the end of the schedule and the next tick.
    a = _overload_then("spike", "after 100 rps", rule="p99 < 1s")
    assert a.recovery.status == "recovered"
    assert a.recovery_s == 0
