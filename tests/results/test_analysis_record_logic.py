"""The analysis records' own logic: turning points named from steps, recovery words."""

from __future__ import annotations

from loadkit.results.analysis.extras import Recovery
from loadkit.results.analysis.steps import RampPoint, RampStep, StressPoint, StressStep


def test_a_ramp_point_names_its_step():
    s = RampStep(index=3, concurrency=8, requests=100, throughput_rps=250.5, rows_per_s=501.0,
                 p50_ms=4.0, p95_ms=6.0, p99_ms=9.5, error_rate=0.0, efficiency=0.8,
                 meets_sla=True, broken_rules=(), stable=None)
    assert RampPoint.of(s) == RampPoint(step=3, concurrency=8, throughput_rps=250.5, p50_ms=4.0,
                                        p99_ms=9.5, efficiency=0.8)
    assert RampPoint.of(None) is None


def test_a_stress_point_names_its_step_and_why_it_broke():
    s = StressStep(index=2, rate=400.0, throughput_rps=380.0, goodput_rps=370.0, achieved=0.95,
                   p50_ms=10.0, p99_ms=120.0, max_ms=300.0, error_rate=0.025, rejected=8,
                   timed_out=2, other_errors=0, late=1, error_kinds={"http_5xx": 8},
                   broke=("SLA p99 < 100ms broken",))
    assert StressPoint.of(s) == StressPoint(step=2, rate=400.0, throughput_rps=380.0,
                                            p99_ms=120.0, error_rate=0.025,
                                            reasons=("SLA p99 < 100ms broken",))
    assert StressPoint.of(None) is None


def test_a_recovery_keeps_its_threshold_to_the_microsecond_and_says_what_it_found():
    r = Recovery("recovered", 2.5, 200.12345, "why")
    assert r.recovered and r.threshold_ms == 200.123
    assert r.words() == "recovered in 2.5 s"
    assert Recovery("recovered", 12.3456, 1.0, "").words() == "recovered in 12.3 s"
    assert not Recovery("did not recover", None, 1.0, "").recovered
    assert Recovery("did not recover", None, 1.0, "").words() == "did not recover"
    assert Recovery("unknown", None, 1.0, "").words() == "recovery unknown"
