"""Change points over synthetic histories with known shifts and realistic noise (no store)."""

from __future__ import annotations

import warnings

import pytest

from loadkit.history.changes import analyse
from loadkit.results.history import StoredRun
from tests.history.conftest import T0, latency, noisy_levels


def runs_of(p50s: list[float], *, rps: list[float] | None = None,
            errors: list[float] | None = None) -> list[StoredRun]:
    out = []
    for i, v in enumerate(p50s):
        lat = latency(v)
        figures = {"p50": lat.p50, "p95": lat.p95, "p99": lat.p99, "mean": lat.mean,
                   "throughput": rps[i] if rps else 8000.0 / lat.mean,
                   "error_rate": errors[i] if errors else 0.0}
        out.append(StoredRun(id=i + 1, digest=f"d{i}", scenario="iris", started_at=T0 + i,
                             status="pass", commit=f"c{i:03d}", profiles={"latency": figures}))
    return out


@pytest.mark.parametrize("k,after,seed", [(10, 10, 1), (12, 18, 2), (20, 10, 3), (15, 15, 4),
                                          (25, 12, 5)], ids=lambda v: str(v))
def test_a_20_percent_slowdown_after_run_k_is_found_at_k_within_one(k: int, after: int, seed: int):
    history = analyse("iris", runs_of(noisy_levels([10.0] * k + [12.0] * after, seed)))
    p50 = [cp for cp in history.change_points if cp.metric == "p50"]
    assert len(p50) == 1, history.change_points
    cp = p50[0]
    assert abs(cp.index - k) <= 1
    assert cp.direction == "worse"
    assert cp.before == pytest.approx(10.0, rel=0.05) and cp.after == pytest.approx(12.0, rel=0.05)
    assert cp.p_value <= history.significance
    assert cp.commit == f"c{cp.index:03d}"       # the first run of the new regime


def test_thirty_runs_without_a_shift_have_no_change_point_in_at_least_19_of_20_histories():
    with_points = [seed for seed in range(100, 120)
                   if analyse("iris", runs_of(noisy_levels([10.0] * 30, seed))).change_points]
    assert len(with_points) <= 1, with_points


def test_a_throughput_drop_is_worse_and_a_latency_drop_is_better():
    p50s = noisy_levels([12.0] * 12 + [9.0] * 12, seed=7)
    rps = noisy_levels([800.0] * 12 + [600.0] * 12, seed=8)
    history = analyse("iris", runs_of(p50s, rps=rps))
    by_metric = {cp.metric: cp for cp in history.change_points}
    assert by_metric["p50"].direction == "better" and by_metric["p50"].change < 0
    assert by_metric["throughput"].direction == "worse"
    assert by_metric["throughput"].change == pytest.approx(-0.25, abs=0.05)


def test_an_error_rate_of_zero_throughout_has_no_change_point_and_raises_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = analyse("iris", runs_of([10.0] * 20))
    assert history.change_points == ()
    regime = next(g for g in history.regimes if g.metric == "error_rate")
    assert (regime.start, regime.runs, regime.mean, regime.stdev) == (0, 20, 0.0, 0.0)


def test_the_current_regime_starts_at_the_last_change_point():
    history = analyse("iris", runs_of(noisy_levels([10.0] * 12 + [13.0] * 14, seed=11)))
    regime = next(g for g in history.regimes if g.metric == "p99")
    cp = next(cp for cp in history.change_points if cp.metric == "p99")
    assert (regime.start, regime.runs) == (cp.index, 26 - cp.index)
    assert regime.low < regime.mean < regime.high
    assert regime.mean == pytest.approx(13.0 * 2.5, rel=0.05)


def test_a_lower_significance_finds_fewer_change_points():
    runs = runs_of(noisy_levels([10.0] * 10 + [10.6] * 10, seed=1, cv=0.03))
    loose = analyse("iris", runs, significance=0.05, min_magnitude=0.0).change_points
    strict = analyse("iris", runs, significance=1e-9, min_magnitude=0.0).change_points
    assert len(strict) < len(loose)
    assert all(cp.p_value <= 1e-9 for cp in strict)


def test_partial_runs_are_kept_out_of_the_analysis_and_counted():
    runs = runs_of([10.0] * 8)
    runs[3] = StoredRun(**{**runs[3].__dict__, "partial": True})
    history = analyse("iris", runs)
    assert len(history.runs) == 7 and history.skipped_partial == 1


def test_a_significant_but_tiny_move_of_near_constant_figures_is_not_a_change_point():
    # a fixed-latency server: figures vary by 0.3%, then the machine gets 3% busier
    runs = runs_of(noisy_levels([10.0] * 12 + [10.3] * 12, seed=12, cv=0.003, outliers=0))
    assert analyse("iris", runs).change_points == ()
    tiny = analyse("iris", runs, min_magnitude=0.0).change_points
    assert {cp.index for cp in tiny if cp.metric == "p50"} == {12}
