"""compare(): the regression gate on synthetic RunResults (no network)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from loadkit.analysis.compare import compare
from loadkit.results.compare import CompareThresholds
from loadkit.errors import ScenarioError
from loadkit.results import GeneratorHealth, Interval, LatencyHistogram, RunResult
from loadkit.testing import profile, run_result, stage

T0 = 1_700_000_000.0


def synthetic_run(*, seed: int, windows: int = 10, per_window: int = 200, median_ms: float = 10.0,
                  error_rate: float = 0.0, rps_scale: float = 1.0, name: str = "throughput"
                  ) -> RunResult:
    """A one-stage run whose latencies are lognormal around ``median_ms``, window by window.

    Each window gets its own small random level shift, as real seconds do.
    """
    rng = np.random.default_rng(seed)
    all_us: list[int] = []
    ivs: list[Interval] = []
    errors = 0
    for w in range(windows):
        shift = rng.normal(1.0, 0.03)
        lat_us = (rng.lognormal(np.log(median_ms * 1000 * shift), 0.25, per_window)).astype(int)
        n_err = int(rng.binomial(per_window, error_rate))
        errors += n_err
        all_us.extend(lat_us.tolist())
        h = LatencyHistogram()
        h.record_many(lat_us)
        rps = per_window * rps_scale * rng.normal(1.0, 0.02)
        ivs.append(Interval(t=T0 + w, elapsed_s=float(w), stage=0, requests=per_window,
                            ok=per_window - n_err, errors=n_err, rps=rps,
                            p50_ms=h.percentile_us(50) / 1000, p90_ms=h.percentile_us(90) / 1000,
                            p95_ms=h.percentile_us(95) / 1000, p99_ms=h.percentile_us(99) / 1000,
                            max_ms=h.max_us / 1000))
    measured = stage(latencies_us=all_us, errors=errors, duration_s=windows / rps_scale,
                     concurrency=8)
    return run_result(profile(name, "throughput", [measured], ivs))


def test_identical_configurations_pass():
    result = compare(synthetic_run(seed=1), synthetic_run(seed=2))
    assert result.verdict == "pass"
    assert result.exit_code == 0
    (stage,) = result.stages
    assert abs(stage.metric("p99").change) < 0.10


def test_a_and_a_passes_in_most_of_many_random_pairs():
    verdicts = [compare(synthetic_run(seed=2 * i), synthetic_run(seed=2 * i + 1)).verdict
                for i in range(20)]
    assert verdicts.count("regression") <= 2


def test_thirty_percent_slower_tail_is_a_regression():
    result = compare(synthetic_run(seed=1), synthetic_run(seed=2, median_ms=13.0))
    assert result.verdict == "regression"
    assert result.exit_code == 1
    p99 = result.stages[0].metric("p99")
    assert p99.significant and p99.practical
    assert 0.2 < p99.change < 0.4
    assert p99.ci_low is not None and p99.ci_low > 1.0
    assert any("p99" in r for r in result.reasons)


def test_a_faster_candidate_is_not_a_regression():
    result = compare(synthetic_run(seed=1), synthetic_run(seed=2, median_ms=7.0))
    assert result.verdict == "pass"


def test_small_significant_slowdown_under_the_practical_threshold_passes():
    result = compare(synthetic_run(seed=1, windows=30), synthetic_run(seed=2, windows=30,
                                                                      median_ms=10.5))
    p50 = result.stages[0].metric("p50")
    assert p50.significant and not p50.practical
    assert result.verdict == "pass"


def test_large_slowdown_is_not_called_significant_on_too_few_windows():
    result = compare(synthetic_run(seed=1, windows=3), synthetic_run(seed=2, windows=3,
                                                                     median_ms=13.0))
    assert result.verdict == "inconclusive"
    assert result.exit_code == 4
    assert any("windows" in r for r in result.reasons)


def test_error_rate_jump_is_a_regression():
    result = compare(synthetic_run(seed=1), synthetic_run(seed=2, error_rate=0.03))
    err = result.stages[0].metric("error_rate")
    assert err.change > 0.5 and err.significant
    assert result.verdict == "regression"


def test_throughput_drop_is_a_regression():
    result = compare(synthetic_run(seed=1), synthetic_run(seed=2, rps_scale=0.8))
    assert result.stages[0].metric("throughput").regression
    assert result.verdict == "regression"


def test_disabled_gate_reports_but_does_not_fail():
    thresholds = CompareThresholds(p50_increase=None, p95_increase=None, p99_increase=None)
    result = compare(synthetic_run(seed=1), synthetic_run(seed=2, median_ms=13.0), thresholds)
    assert result.stages[0].metric("p99").significant
    assert result.verdict == "pass"


def test_profiles_present_on_one_side_only_are_listed_not_compared():
    result = compare(synthetic_run(seed=1, name="a"), synthetic_run(seed=2, name="b"))
    assert result.verdict == "inconclusive"
    assert len(result.skipped) == 2


def test_a_generator_that_fell_behind_makes_a_pass_inconclusive():
    lagging = replace(synthetic_run(seed=2), health=GeneratorHealth(fell_behind=True))
    result = compare(synthetic_run(seed=1), lagging)
    assert result.verdict == "inconclusive"
    assert any("fell behind" in r for r in result.reasons)


def test_bad_alpha_is_a_usage_error():
    with pytest.raises(ScenarioError):
        compare(synthetic_run(seed=1), synthetic_run(seed=2), alpha=1.5)


@pytest.mark.parametrize("worse, better, metric", [
    ({"median_ms": 13.0}, {"median_ms": 7.0}, "p99"),
    ({"median_ms": 13.0}, {"median_ms": 7.0}, "p50"),
    ({"error_rate": 0.05}, {}, "error_rate"),
    ({"rps_scale": 0.7}, {"rps_scale": 1.4}, "throughput"),
], ids=["p99", "p50", "error_rate", "throughput"])
def test_each_test_is_one_sided_a_change_for_the_better_is_never_significant(worse, better,
                                                                             metric):
    # error rate: a 5% baseline against 0% is the better side; the other way the worse
    base_errors = {"error_rate": 0.05} if metric == "error_rate" else {}
    bad = compare(synthetic_run(seed=1), synthetic_run(seed=2, **worse)).stages[0].metric(metric)
    good = compare(synthetic_run(seed=1, **base_errors),
                   synthetic_run(seed=2, **better)).stages[0].metric(metric)
    assert bad.p_value < 0.01 and bad.significant
    assert bad.regression is (bad.threshold is not None)      # p50 is reported, not gated
    assert good.p_value > 0.5 and not good.significant and not good.regression


def test_merging_two_processes_adds_errors_kinds_and_status_codes_exactly():
    from loadkit.results.aggregate import merge_stages
    from loadkit.testing import stage

    a = stage(1, latencies_us=[1000] * 10, errors={"http_5xx": 2, "timeout": 1}, concurrency=2)
    b = stage(1, latencies_us=[2000] * 6, errors={"http_5xx": 1, "reset": 2}, concurrency=2)
    m = merge_stages([a, b])
    assert (m.requests, m.ok, m.errors) == (16, 10, 6)
    assert m.error_kinds == {"http_5xx": 3, "reset": 2, "timeout": 1}
    assert m.status_codes == {"200": 10, "503": 3}
    assert m.concurrency == 4


def _two_profiles(seed: int, short_windows: int) -> RunResult:
    """A 150-request-like short profile beside a long one (the quickstart's shape)."""
    short = synthetic_run(seed=seed, windows=short_windows, name="latency").profiles[0]
    long = synthetic_run(seed=seed + 10, name="throughput").profiles[0]
    return run_result(short, long)


def test_an_inconclusive_compare_says_what_would_make_it_decidable():
    result = compare(_two_profiles(1, 1), _two_profiles(2, 1))
    assert result.verdict == "inconclusive"
    advice = [r for r in result.reasons if r.startswith("to decide:")]
    assert any("latency stage 0 needs 5 one-second windows" in r and "has 1 windows" in r
               for r in advice), result.reasons
    assert any(r.endswith("--profile throughput") for r in advice), result.reasons


def test_compare_profile_gates_only_the_profiles_named():
    result = compare(_two_profiles(1, 1), _two_profiles(2, 1), profiles=["throughput"])
    assert [s.profile for s in result.stages] == ["throughput"]
    assert result.verdict == "pass" and result.exit_code == 0
    with pytest.raises(ScenarioError, match="--profile: no profile named 'nope' in both runs"):
        compare(_two_profiles(1, 1), _two_profiles(2, 1), profiles=["nope"])


def test_compare_command_takes_profile_and_exits_by_the_chosen_profiles(tmp_path):
    from loadkit.cli import _run
    from loadkit.results import dumps

    files = []
    for i, name in enumerate(("base", "cand")):
        path = tmp_path / f"{name}.json"
        path.write_text(dumps(_two_profiles(1 + i, 1)))
        files.append(str(path))
    assert _run(["compare", *files]) == 4
    assert _run(["compare", *files, "--profile", "throughput"]) == 0
