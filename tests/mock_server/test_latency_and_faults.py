"""Latency models, warm-up, fault draws and stall windows: pure, seeded, no network."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from mock_server.faults import FAULT_KINDS, FaultPicker, FaultRates, Stall, StallClock
from mock_server.latency import LatencyModel, ServiceTime


def _samples(spec: str, n: int = 20000, seed: int = 1, **kw: float) -> np.ndarray:
    service = ServiceTime(LatencyModel.parse(spec), seed=seed, **kw)  # type: ignore[arg-type]
    return np.array([service.sample_s(1) for _ in range(n)])


def test_fixed_latency_is_exactly_the_value() -> None:
    assert set(_samples("fixed:20ms", n=100)) == {0.020}


def test_uniform_latency_stays_within_its_bounds_and_covers_them() -> None:
    s = _samples("uniform:5ms:15ms")
    assert s.min() >= 0.005 and s.max() <= 0.015
    assert np.mean(s) == pytest.approx(0.010, rel=0.02)


def test_lognormal_latency_hits_its_p50_and_p99() -> None:
    s = _samples("lognormal:p50=10ms,p99=80ms", n=50000)
    assert np.percentile(s, 50) == pytest.approx(0.010, rel=0.03)
    assert np.percentile(s, 99) == pytest.approx(0.080, rel=0.08)


def test_the_same_seed_gives_the_same_latencies_and_another_seed_does_not() -> None:
    a = _samples("lognormal:p50=10ms,p99=80ms", n=50, seed=5)
    b = _samples("lognormal:p50=10ms,p99=80ms", n=50, seed=5)
    c = _samples("lognormal:p50=10ms,p99=80ms", n=50, seed=6)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_per_row_cost_adds_to_the_base_for_each_row() -> None:
    service = ServiceTime(LatencyModel.parse("fixed:10ms"), per_row_s=0.001)
    assert service.sample_s(1) == pytest.approx(0.011)
    assert service.sample_s(32) == pytest.approx(0.042)


def test_warm_up_extra_decays_linearly_to_zero_over_the_first_requests() -> None:
    service = ServiceTime(LatencyModel.parse("fixed:10ms"), warmup_requests=4, warmup_extra_s=0.2)
    got = [service.sample_s(1) for _ in range(6)]
    assert got == pytest.approx([0.21, 0.16, 0.11, 0.06, 0.01, 0.01])


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_rate_is_hit_on_its_own(kind: str) -> None:
    rates = FaultRates(**{k: 0.1 for k in FAULT_KINDS})  # 70% faults in all, 10% each
    picker = FaultPicker(rates, seed=3)
    counts = Counter(picker.pick() for _ in range(100_000))
    assert counts[kind] / 100_000 == pytest.approx(0.1, abs=0.005)
    assert counts[None] / 100_000 == pytest.approx(0.3, abs=0.005)


def test_fault_draws_are_reproducible_by_seed() -> None:
    rates = FaultRates(error=0.2, reset=0.1)
    p1, p2, p3 = FaultPicker(rates, 9), FaultPicker(rates, 9), FaultPicker(rates, 10)
    a, b, c = ([p.pick() for _ in range(500)] for p in (p1, p2, p3))
    assert a == b
    assert a != c


def test_no_faults_configured_means_no_faults() -> None:
    picker = FaultPicker(FaultRates(), seed=0)
    assert {picker.pick() for _ in range(1000)} == {None}


def test_a_periodic_stall_covers_its_windows_only() -> None:
    clock = StallClock(Stall(1.0, "every", 5.0))
    assert clock.remaining_s(100.0) == 0.0  # before the first request, no schedule
    clock.start(100.0)
    clock.start(101.0)  # the first request anchors the schedule; later ones don't move it
    assert clock.remaining_s(104.9) == 0.0
    assert clock.remaining_s(105.0) == pytest.approx(1.0)
    assert clock.remaining_s(105.75) == pytest.approx(0.25)
    assert clock.remaining_s(106.0) == 0.0
    assert clock.remaining_s(110.5) == pytest.approx(0.5)


def test_a_one_off_stall_happens_once_at_its_offset() -> None:
    clock = StallClock(Stall(1.0, "at", 3.0))
    clock.start(0.0)
    assert [clock.remaining_s(t) for t in (2.9, 3.0, 3.5, 4.0, 8.5)] == pytest.approx(
        [0.0, 1.0, 0.5, 0.0, 0.0]
    )
