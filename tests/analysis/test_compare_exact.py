"""compare's figures, reasons and gates, exactly, on hand-built stages and seconds.

Thresholds are strict (a change equal to its threshold is not beyond it), too little
data is named side by side, and every reason and "to decide" line is pinned word for
word, so a report never says something the gate did not decide.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadkit.analysis.compare import compare, compare_stage
from loadkit.errors import ScenarioError
from loadkit.results.compare import CompareThresholds, RunRef
from loadkit.results.model import GeneratorHealth
from loadkit.results.status import Status
from loadkit.testing import interval, latencies, profile, run_result, stage

T0 = 1_700_000_000.0


def windows(p99, n=6, rps=100.0, errors=0, step=0.1, stage_index=0):
    return [interval(T0 + i, stage_index, p99 + i * step, requests=100, errors=errors,
                     p50_ms=p99 + i * step, rps=rps + i) for i in range(n)]


def test_a_slower_failing_slower_serving_candidate_regresses_on_every_gated_metric():
    b = stage(0, latencies(10, n=100), throughput_rps=100, label="steady")
    c = stage(0, latencies(20, n=100), errors={"http_5xx": 10}, throughput_rps=80)
    s = compare_stage("p", b, c, windows(10.0), windows(20.0, errors=10, rps=80.0))
    p50, p95, p99, err, thr = s.metrics
    assert [m.metric for m in s.metrics] == ["p50", "p95", "p99", "error_rate", "throughput"]
    assert (p99.unit, p99.baseline, p99.candidate) == ("ms", 10.007, 20.015)
    assert p99.change == pytest.approx(20.015 / 10.007 - 1)
    assert p99.test == "mann-whitney-u on per-second p99" and p50.test.endswith("p50")
    assert p99.p_value == pytest.approx(1 / 924)                     # 6 vs 6, all above
    assert (p99.significant, p99.practical, p99.regression, p99.threshold) == (
        True, True, True, 0.1)
    assert (p50.threshold, p50.significant, p50.practical, p50.regression) == (
        None, True, False, False)                                    # reported, never gating
    assert p99.ci_low == pytest.approx(1.9469453) and p99.ci_high == pytest.approx(2.0065789)
    assert (err.unit, err.baseline, err.candidate, err.change) == ("%", 0.0, 10.0, 10.0)
    assert err.test == "two-proportion-z" and err.p_value == pytest.approx(0.000588433, rel=1e-4)
    assert err.ci_low == pytest.approx(10 - 1.959964 * 3.0) and err.ci_high == pytest.approx(
        10 + 1.959964 * 3.0)                                         # Wald: se 3 pp
    assert (thr.unit, thr.baseline, thr.candidate, thr.change) == ("rps", 100.0, 72.0,
                                                                    pytest.approx(-0.28))
    assert thr.test == "mann-whitney-u on per-second rps" and thr.regression
    assert thr.p_value == pytest.approx(1 / 924)
    assert s.verdict == "regression"
    assert s.reasons == (
        "regression: p95 10.007 -> 20.015 ms (+100.0%, p=0.00108)",
        "regression: p99 10.007 -> 20.015 ms (+100.0%, p=0.00108)",
        "regression: error_rate 0.00% -> 10.00% (+10.00 pp, p=0.000588)",
        "regression: throughput 100.000 -> 72.000 rps (-28.0%, p=0.00108)")
    assert (s.profile, s.stage, s.label) == ("p", 0, "steady")
    assert (s.baseline_requests, s.candidate_requests, s.baseline_windows,
            s.candidate_windows) == (100, 100, 6, 6)
    assert s.spectrum[:3] == ((0.0, 10.0, 20.0), (10.0, 10.007, 20.015), (25.0, 10.007, 20.015))
    assert [p for p, _, _ in s.spectrum] == [0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0,
                                             99.5, 99.9, 99.99, 100.0]
    assert s.baseline_window_p99_ms == pytest.approx((10.0, 10.1, 10.2, 10.3, 10.4, 10.5))
    assert s.candidate_window_p99_ms[0] == 20.0
    assert (s.baseline_histogram, s.candidate_histogram) == (b.histogram, c.histogram)


def test_a_change_equal_to_its_threshold_is_not_beyond_it():
    b = stage(0, latencies_us=[1_000] * 100, throughput_rps=100)
    c = replace(stage(0, latencies_us=[1_000] + [1_250] * 99, errors={"http_5xx": 1}),
                throughput_rps=75.0)
    bw = windows(1.0, step=0.0)
    cw = windows(1.25, step=0.0, rps=75.0, errors=1)
    exact = CompareThresholds(p95_increase=0.25, p99_increase=0.25, error_rate_increase_pp=1.0,
                              throughput_decrease=0.25)
    s = compare_stage("p", b, c, bw, cw, exact)
    p99, err, thr = s.metric("p99"), s.metric("error_rate"), s.metric("throughput")
    assert (p99.change, err.change, thr.change) == (0.25, 1.0, -0.25)
    assert p99.significant and not p99.practical and not p99.regression
    assert not err.practical and not thr.practical
    assert s.verdict == "pass" and s.reasons == ()
    tighter = CompareThresholds(p95_increase=0.2499, p99_increase=0.2499,
                                error_rate_increase_pp=0.999, throughput_decrease=0.2499)
    s = compare_stage("p", b, c, bw, cw, tighter)
    assert [m.metric for m in s.metrics if m.practical] == ["p95", "p99", "error_rate",
                                                            "throughput"]


def test_too_little_data_is_named_side_by_side_and_gates_nothing():
    b = replace(stage(0, latencies(10, n=19)), label="")
    c = stage(0, latencies(30, n=100), label="cand")
    s = compare_stage("p", b, c, windows(10.0, n=4), windows(30.0, n=5))
    assert s.verdict == "inconclusive" and s.label == "cand"
    assert s.reasons == ("too little data: baseline has 4 one-second windows (< 5)",
                         "too little data: baseline has 19 requests (< 20)")
    assert all(m.significant is False and m.regression is False for m in s.metrics)
    assert s.metric("p99").practical                    # still reported as beyond it
    # exactly the minimum on both sides is enough
    s = compare_stage("p", stage(0, latencies(10, n=20)), stage(0, latencies(10, n=20)),
                      windows(10.0, n=5), windows(10.0, n=5))
    assert s.verdict == "pass"


def test_an_improvement_is_never_significant_whatever_its_size():
    b = stage(0, latencies(20, n=100), errors={"http_5xx": 10}, throughput_rps=80)
    c = stage(0, latencies(10, n=100), throughput_rps=100)
    s = compare_stage("p", b, c, windows(20.0, errors=10, rps=80.0), windows(10.0))
    for m in s.metrics:
        assert m.p_value > 0.99 and not m.significant and not m.regression, m.metric


def _run(*profiles, fell_behind=False, status=None, partial=False, name="s"):
    r = run_result(*profiles, name=name, fell_behind=fell_behind, status=status, partial=partial)
    return r


def _prof(name, *stage_specs, p99=10.0, n=6):
    stages, ts = [], []
    for index, (count, ms) in stage_specs:
        stages.append(stage(index, latencies(ms, n=count), throughput_rps=100))
        ts += windows(ms, n=n, stage_index=index)
    return profile(name, "throughput", stages, ts)


def test_a_comparison_lists_what_was_only_on_one_side_and_passes_what_matched():
    base = _run(_prof("a", (0, (100, 10)), (2, (100, 10))), _prof("only_b", (0, (100, 10))))
    cand = _run(_prof("a", (0, (100, 10)), (3, (100, 10))), _prof("only_c", (0, (100, 10))))
    c = compare(base, cand)
    assert c.verdict == "pass" and c.status is Status.PASS and c.exit_code == 0
    assert c.reasons == ("no significant regression beyond the thresholds in 1 stage(s)",)
    assert c.skipped == ("a stage 2 is only in the baseline", "a stage 3 is only in the candidate",
                         "profile 'only_b' is only in the baseline",
                         "profile 'only_c' is only in the candidate")
    assert (c.alpha, c.thresholds) == (0.05, CompareThresholds())
    assert [(s.profile, s.stage) for s in c.stages] == [("a", 0)]
    named = compare(base, cand, profiles=["a"])
    assert named.skipped == ("a stage 2 is only in the baseline",
                             "a stage 3 is only in the candidate")


def test_nothing_in_common_is_inconclusive_and_a_fallen_behind_generator_is_named():
    c = compare(_run(_prof("a", (0, (100, 10)))), _run(_prof("b", (0, (100, 10)))))
    assert c.verdict == "inconclusive" and c.exit_code == 4
    assert c.reasons == ("no measured stage is present in both runs",)
    behind = compare(_run(_prof("a", (0, (100, 10)))),
                     _run(_prof("a", (0, (100, 10))), fell_behind=True))
    assert behind.verdict == "inconclusive"
    assert behind.reasons == ("the candidate generator fell behind its schedule",)
    both = compare(_run(_prof("a", (0, (100, 10))), fell_behind=True),
                   _run(_prof("a", (0, (100, 20))), fell_behind=True))
    assert both.verdict == "regression"                   # a regression still wins
    assert both.reasons[-2:] == ("the baseline generator fell behind its schedule",
                                 "the candidate generator fell behind its schedule")
    assert all("regression:" in r for r in both.reasons[:-2])


def test_an_inconclusive_comparison_says_exactly_what_would_decide_it():
    base = _run(_prof("short", (0, (10, 10)), n=3), _prof("fine", (0, (100, 10))))
    cand = _run(_prof("short", (0, (12, 10)), n=4), _prof("fine", (0, (100, 10))))
    c = compare(base, cand)
    assert c.verdict == "inconclusive"
    assert c.reasons == (
        "short stage 0: too little data: baseline has 3 one-second windows (< 5)",
        "short stage 0: too little data: baseline has 10 requests (< 20)",
        "short stage 0: too little data: candidate has 4 one-second windows (< 5)",
        "short stage 0: too little data: candidate has 12 requests (< 20)",
        "to decide: short stage 0 needs 5 one-second windows and 20 requests per side (has 3 "
        "windows, 10 requests): run it for at least 5 s",
        "to decide: or compare only the profiles with enough data: --profile fine")
    only_short = compare(base, cand, profiles=["short"])
    assert only_short.reasons[-1].startswith("to decide: short stage 0 needs")


def test_a_regression_reason_names_only_the_regressions():
    base = _run(_prof("slow", (0, (100, 10))), _prof("short", (0, (10, 10)), n=3))
    cand = _run(_prof("slow", (0, (100, 20))), _prof("short", (0, (10, 10)), n=3))
    c = compare(base, cand)
    assert c.verdict == "regression" and c.exit_code == 1
    assert c.reasons == ("slow stage 0: regression: p95 10.007 -> 20.015 ms (+100.0%, p=0.00108)",
                         "slow stage 0: regression: p99 10.007 -> 20.015 ms (+100.0%, p=0.00108)")


def test_profiles_to_compare_must_be_in_both_runs_and_alpha_strictly_between_0_and_1():
    base = _run(_prof("a", (0, (100, 10))), _prof("b", (0, (100, 10))))
    cand = _run(_prof("b", (0, (100, 10))), _prof("c", (0, (100, 10))))
    with pytest.raises(ScenarioError) as err:
        compare(base, cand, profiles=["a"])
    assert str(err.value).endswith("no profile named 'a' in both runs (in both: b)")
    with pytest.raises(ScenarioError) as err:
        compare(_run(_prof("x", (0, (100, 10)))), cand, profiles=["c"])
    assert str(err.value).endswith("no profile named 'c' in both runs (in both: none)")
    assert [s.profile for s in compare(base, cand, profiles=["b", "b"]).stages] == ["b"]
    for alpha in (0.0, 1.0, 1.5):
        with pytest.raises(ScenarioError, match=rf"^alpha: must be between 0 and 1 \(got {alpha}\)"):
            compare(base, cand, alpha=alpha)
    assert compare(base, cand, alpha=0.2, profiles=["b"]).alpha == 0.2


def test_each_side_is_referred_to_by_scenario_target_start_and_status():
    base = replace(_run(_prof("a", (0, (100, 10))), status=Status.PASS, partial=True,
                        name="base"), started_at=5.0)
    cand = _run(_prof("a", (0, (100, 10))))
    c = compare(base, cand)
    assert c.baseline == RunRef("base", "http://127.0.0.1:1", 5.0, "pass", True)
    assert c.candidate == RunRef("s", "http://127.0.0.1:1", 0.0, "unjudged", False)
    assert replace(base, health=GeneratorHealth()).health.fell_behind is False


def test_the_seed_reaches_every_stages_bootstrap():
    base = _run(_prof("a", (0, (100, 10))))
    cand = _run(_prof("a", (0, (100, 12))))
    seeded = compare(base, cand, seed=3).stages[0].metric("p99")
    assert (seeded.ci_low, seeded.ci_high) != (
        compare(base, cand).stages[0].metric("p99").ci_low,
        compare(base, cand).stages[0].metric("p99").ci_high)
    direct = compare_stage("a", base.profiles[0].stages[0], cand.profiles[0].stages[0],
                           list(base.profiles[0].timeseries), list(cand.profiles[0].timeseries),
                           seed=3).metric("p99")
    assert (seeded.ci_low, seeded.ci_high) == (direct.ci_low, direct.ci_high)


def test_a_baseline_without_successes_has_no_latency_change():
    b = stage(0, latencies(10, n=30), errors=30)
    c = stage(0, latencies(10, n=30))
    s = compare_stage("p", b, c, windows(10.0), windows(10.0))
    assert s.metric("p99").baseline == 0.0 and s.metric("p99").change == 0.0


def test_streaming_stages_are_also_compared_on_ttft_and_itl_by_the_p99_limit():
    from loadkit.results.recorder import StageMeta, StageRecording

    def streamed(ttft_us, gap_ns, n=40):
        rec = StageRecording(StageMeta(0, "s"), 0.0)
        stream = rec.begin_streams(False)
        for _ in range(n):
            rec.ok(ttft_us * 3, 200)
            stream.add(ttft_us, [gap_ns, gap_ns], None, 3, 1, "usage", False)
        rec.flush()
        stream.flush()
        return rec.result(10.0)

    def seconds(ttft_ms, itl_ms):
        return [replace(iv, ttft_p99_ms=ttft_ms + i / 10, itl_p99_ms=itl_ms + i / 10)
                for i, iv in enumerate(windows(10.0))]

    b, c = streamed(1_000, 1_000_000), streamed(2_000, 1_500_000)
    s = compare_stage("p", b, c, seconds(1.0, 1.0), seconds(2.0, 1.5))
    ttft, itl = s.metric("ttft_p99"), s.metric("itl_p99")
    assert (ttft.baseline, ttft.candidate, itl.baseline, itl.candidate) == (1.0, 2.0, 1.0, 1.5)
    assert ttft.test == "mann-whitney-u on per-second ttft_p99" and ttft.threshold == 0.1
    assert ttft.regression and itl.regression
    assert "regression: ttft_p99 1.000 -> 2.000 ms (+100.0%, p=0.00108)" in s.reasons
    classic = compare_stage("p", stage(0, latencies(10, n=40)), c, windows(10.0), windows(10.0))
    assert [m.metric for m in classic.metrics] == ["p50", "p95", "p99", "error_rate",
                                                   "throughput"]


def test_error_rates_are_percentages_with_a_wald_interval_from_both_sides():
    b = stage(0, latencies(10, n=100), errors={"http_5xx": 5}, throughput_rps=100)
    c = stage(0, latencies(10, n=100), errors={"http_5xx": 15}, throughput_rps=100)
    s = compare_stage("p", b, c, windows(10.0, errors=5), windows(10.0, errors=15))
    err = s.metric("error_rate")
    assert (err.baseline, err.candidate, err.change) == (5.0, 15.0, pytest.approx(10.0))
    se = ((0.05 * 0.95 / 100) + (0.15 * 0.85 / 100)) ** 0.5 * 100
    assert err.ci_low == pytest.approx(10.0 - 1.959964 * se)
    assert err.ci_high == pytest.approx(10.0 + 1.959964 * se)
    thr = compare_stage("p", stage(0, latencies(10, n=100), throughput_rps=100),
                        stage(0, latencies(10, n=100), throughput_rps=80),
                        windows(10.0, rps=100.0), windows(10.0, rps=80.0)).metric("throughput")
    assert thr.ci_low == pytest.approx(0.7884592) and thr.ci_high == pytest.approx(0.8213115)


def test_percentile_metrics_read_their_own_percentile_and_alpha_is_strict():
    b = stage(0, latencies(10, 40, n=200), throughput_rps=100)
    c = stage(0, latencies(10, 40, n=200), throughput_rps=100)
    s = compare_stage("p", b, c, windows(10.0), windows(20.0))
    assert (s.metric("p50").baseline, s.metric("p99").baseline) == (10.007, 40.031)
    p = s.metric("p99").p_value
    at_p = compare_stage("p", b, c, windows(10.0), windows(20.0), alpha=p)
    assert not at_p.metric("p99").significant                         # p == alpha: not below it
    assert compare_stage("p", b, c, windows(10.0), windows(20.0), alpha=p * 1.0001
                         ).metric("p99").significant


def test_a_baseline_without_throughput_has_no_throughput_change():
    b = replace(stage(0, latencies(10, n=100)), throughput_rps=0.0)
    s = compare_stage("p", b, stage(0, latencies(10, n=100), throughput_rps=100),
                      windows(10.0), windows(10.0))
    assert s.metric("throughput").change == 0.0


def test_empty_seconds_are_not_windows_and_streaming_keeps_the_classic_metrics():
    b = stage(0, latencies(10, n=100), throughput_rps=100)
    c = stage(0, latencies(20, n=100), throughput_rps=100)
    empty = interval(T0 + 9, 0, 999.0, requests=0, p50_ms=999.0)
    with_empty = compare_stage("p", b, c, windows(10.0) + [empty], windows(20.0))
    without = compare_stage("p", b, c, windows(10.0), windows(20.0))
    assert with_empty.metric("p99").p_value == without.metric("p99").p_value
