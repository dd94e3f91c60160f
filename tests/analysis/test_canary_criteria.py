"""Each canary criterion at its thresholds, word for word, and how a stage and a run decide."""

from __future__ import annotations

from dataclasses import replace

from loadkit.analysis.canary import (
    _agreement,
    _errors,
    _latency,
    _requests,
    _sla,
    decide_stage,
    overall,
    predictions_match,
    verdicts_status,
)
from loadkit.results.canary import AgreementSample, CanaryConfig, CanaryStage, Criterion
from loadkit.results.model import Verdict
from loadkit.results.status import Status
from loadkit.testing import interval, run_result, stage

CFG = CanaryConfig()


def flat(us, n=400, errors=0):
    return stage(0, latencies_us=[us] * n, errors=errors)


def test_a_p99_ratio_of_exactly_the_rollback_threshold_rolls_back():
    c = _latency(flat(1_000), flat(2_000), CFG)
    assert c == Criterion("p99_ratio", 2.0, 1.2, 2.0, "rollback",
                          "p99 2.00x baseline (interval 2.00-2.00) >= 2x", ci_low=2.0, ci_high=2.0)


def test_a_p99_ratio_of_exactly_the_promote_threshold_passes_and_beyond_it_holds():
    c = _latency(flat(1_000), flat(1_200), CFG)
    assert (c.value, c.status, c.detail) == (1.2, "pass", "p99 1.20x baseline (interval 1.20-1.20)")
    c = _latency(flat(1_000), flat(1_250), CFG)
    assert (c.status, c.detail) == ("hold", "p99 1.25x baseline (interval 1.25-1.25) > 1.2x")
    assert (c.ci_low, c.ci_high) == (1.25, 1.25)
    c = _latency(flat(1_000), flat(1_000), replace(CFG, rollback_p99_ratio=1.0))
    assert c.status == "pass"                         # not slower at all: never a rollback


def test_a_slower_tail_that_is_not_significantly_beyond_the_threshold_passes_and_says_so():
    c = _latency(flat(1_000), stage(0, latencies_us=[1_000] * 395 + [1_300] * 5), CFG)
    assert c.value == 1.3 and c.ci_low <= 1.2 and c.status == "pass"
    assert c.detail.endswith(", not significantly beyond 1.2x")
    assert _latency(flat(1_000), stage(0, []), CFG) == Criterion(
        "p99_ratio", None, 1.2, 2.0, "hold", "no latency measured on a side")


def test_an_error_rise_of_exactly_a_threshold_is_not_beyond_it():
    c = _errors(flat(1_000), flat(1_000, errors=20), CFG)             # +5.0 pp
    assert (c.name, c.value, c.promote_threshold, c.rollback_threshold, c.status) == (
        "error_rate", 5.0, 1.0, 5.0, "hold")
    assert c.detail == "error rate 5.0% vs 0.0% (+5.0 pp, p=3e-06)" and c.p_value < 1e-5
    assert _errors(flat(1_000), flat(1_000, errors=21), CFG).status == "rollback"
    assert _errors(flat(1_000), flat(1_000, errors=4), CFG).status == "pass"      # +1.0 pp
    assert _errors(flat(1_000), flat(1_000, errors=5), CFG).status == "hold"


def test_an_error_rise_that_is_not_significant_passes():
    c = _errors(flat(1_000, n=20), flat(1_000, n=20, errors=2), CFG)   # +10 pp on 20 each
    assert c.value == 10.0 and c.p_value > 0.05 and c.status == "pass"
    better = _errors(flat(1_000, errors=40), flat(1_000), CFG)
    assert better.value == -10.0 and better.p_value > 0.99 and better.status == "pass"


def test_agreement_at_its_minimum_passes_below_it_rolls_back_only_when_significant():
    assert _agreement(AgreementSample(20, 19), CFG) == Criterion(
        "agreement", 0.95, 0.95, 0.95, "pass", "19/20 predictions agree (95%, auto)",
        p_value=_agreement(AgreementSample(20, 19), CFG).p_value)
    low = _agreement(AgreementSample(100, 80, 0, "exact"), CFG)
    assert (low.status, low.detail) == ("rollback", "80/100 predictions agree (80%, exact) < 95%")
    unsure = _agreement(AgreementSample(10, 9), CFG)
    assert (unsure.status, unsure.detail) == (
        "hold", "9/10 predictions agree (90%, auto) < 95% but not significant (p=0.4)")
    assert _agreement(AgreementSample(0, 0, 3), CFG) == Criterion(
        "agreement", None, 0.95, 0.95, "hold", "no input answered by both (3 failed)")
    assert _agreement(AgreementSample(0, 0), replace(CFG, agreement_sample=0)) == Criterion(
        "agreement", None, None, None, "pass", "not checked (agreement_sample: 0)")


def test_requests_pass_at_exactly_the_minimum_on_the_smaller_side():
    assert _requests(flat(1_000, n=50), flat(1_000, n=60), 50) == Criterion(
        "requests", 50.0, 50.0, None, "pass", "candidate 60, baseline 50 requests")
    assert _requests(flat(1_000, n=70), flat(1_000, n=49), 50) == Criterion(
        "requests", 49.0, 50.0, None, "hold", "candidate 49, baseline 70 requests (< 50 on a side)")


def v(expr, passed, inconclusive=False, observed=1.5, unit="ms"):
    return Verdict("p", expr, "p99", observed, 1.0, passed, unit=unit, inconclusive=inconclusive)


def test_an_arms_verdicts_fail_before_they_are_inconclusive():
    assert verdicts_status([]) is Status.PASS
    assert verdicts_status([v("a", True)]) is Status.PASS
    assert verdicts_status([v("a", True), v("b", False, True)]) is Status.INCONCLUSIVE
    assert verdicts_status([v("b", False, True), v("c", False)]) is Status.FAIL
    assert verdicts_status([v("d", True, True)]) is Status.INCONCLUSIVE


def arm(*verdicts):
    return replace(run_result(), verdicts=tuple(verdicts))


def test_the_sla_criterion_rolls_back_a_candidate_breaking_what_the_baseline_holds():
    assert _sla(arm(), arm()) == Criterion("sla", None, None, None, "pass",
                                           "no per-request rule judges an arm")
    assert _sla(arm(), arm(v("p99 < 1ms", True), v("error_rate < 1%", True))) == Criterion(
        "sla", 2.0, None, None, "pass", "candidate holds p99 < 1ms, error_rate < 1%")
    broken = arm(v("p99 < 1ms", False), v("p50 < 1ms", False, observed=None), v("x", True))
    assert _sla(arm(v("p99 < 1ms", True)), broken) == Criterion(
        "sla", 2.0, None, None, "rollback",
        "candidate breaks p99 < 1ms (1.5ms); p50 < 1ms (no data)")
    assert _sla(arm(v("p99 < 1ms", False), v("y", False, True)), broken) == Criterion(
        "sla", 2.0, None, None, "hold", "candidate breaks p99 < 1ms (1.5ms); p50 < 1ms (no data); "
        "the baseline breaks p99 < 1ms too")
    assert _sla(arm(), arm(v("p99 < 1ms", False, True, observed=0.25))) == Criterion(
        "sla", 1.0, None, None, "hold", "candidate cannot decide p99 < 1ms (0.25ms)")


SPEC = CanaryStage(share=0.05, duration_s=2.0, min_requests=50)
AGREE = AgreementSample(compared=50, matched=50)


def test_a_stage_takes_its_worst_criterion_and_names_every_one_that_decided():
    ok = decide_stage(2, SPEC, flat(1_000), flat(1_000), AGREE,
                      baseline_windows=[interval(0.0, 0, 4.0)],
                      candidate_windows=[interval(0.0, 0, 5.0), interval(1.0, 0, 6.0)],
                      baseline_load="rate 95 rps", candidate_load="rate 5 rps")
    assert (ok.decision, ok.reason) == ("promote", "every criterion passed")
    assert (ok.index, ok.share, ok.duration_s) == (2, 0.05, 2.0)
    assert (ok.baseline_window_p99_ms, ok.candidate_window_p99_ms) == ((4.0,), (5.0, 6.0))
    assert (ok.baseline_load, ok.candidate_load) == ("rate 95 rps", "rate 5 rps")
    assert [c.name for c in ok.criteria] == ["requests", "p99_ratio", "error_rate", "agreement"]
    assert (ok.baseline_status, ok.candidate_status, ok.verdicts) == (None, None, ())
    held = decide_stage(0, SPEC, flat(1_000), flat(1_250, n=40), AGREE,
                        generator_issues=["loop lag 80 ms", "late 3"])
    assert held.decision == "hold"
    assert held.reason == ("candidate 40, baseline 400 requests (< 50 on a side); p99 1.25x "
                           "baseline (interval 1.25-1.25) > 1.2x; the load generator fell "
                           "behind: loop lag 80 ms; late 3")
    assert held.criteria[-1] == Criterion("generator", None, None, None, "hold",
                                          "the load generator fell behind: loop lag 80 ms; late 3")
    rolled = decide_stage(0, SPEC, flat(1_000), flat(3_000, errors=40), AGREE)
    assert rolled.decision == "rollback"
    assert rolled.reason.startswith("p99 3.00x baseline") and "error rate 10.0%" in rolled.reason
    assert (rolled.baseline_error_rate, rolled.candidate_error_rate) == (0.0, 0.1)
    assert (rolled.baseline_requests, rolled.candidate_p99_ms) == (400, 3.001)


def test_judged_arms_add_the_sla_criterion_and_their_statuses_and_verdicts():
    b = replace(arm(v("p99 < 1ms", True)), status=Status.PASS)
    c = replace(arm(v("p99 < 1ms", False)), status=Status.FAIL)
    out = decide_stage(0, SPEC, flat(1_000), flat(1_000), AGREE, baseline_arm=b, candidate_arm=c)
    assert out.criteria[-1].name == "sla" and out.decision == "rollback"
    assert out.reason == "candidate breaks p99 < 1ms (1.5ms)"
    assert (out.baseline_status, out.candidate_status) == (Status.PASS, Status.FAIL)
    assert out.verdicts == b.verdicts + c.verdicts
    only_one = decide_stage(0, SPEC, flat(1_000), flat(1_000), AGREE, baseline_arm=b)
    assert [c.name for c in only_one.criteria][-1] == "agreement"


def test_the_run_promotes_only_through_its_last_planned_stage():
    promote = decide_stage(3, replace(SPEC, share=1.0), flat(1_000), flat(1_000), AGREE)
    hold = decide_stage(1, replace(SPEC, share=0.25), flat(1_000), flat(1_000, n=10), AGREE)
    rollback = decide_stage(0, SPEC, flat(1_000), flat(3_000), AGREE)
    assert overall([], 4) == ("hold", "no stage ran")
    assert overall([promote], 5) == ("hold", "stopped after stage 4 of 5")
    assert overall([promote], 1) == ("promote", "promoted through 100%")
    assert overall([promote, hold], 2) == ("hold", f"stage 2 (25%): {hold.reason}")
    assert overall([promote, rollback], 2) == ("rollback", f"stage 1 (5%): {rollback.reason}")


def test_predictions_agree_by_mode():
    assert predictions_match([0.1, 0.9], [0.1, 0.9000001])                       # auto
    assert not predictions_match([0.1, 0.9], [0.1, 0.9000001], "exact")
    assert not predictions_match([0.1, 0.9], [0.1, 0.91])
    assert predictions_match([0.1, 0.9], [0.1, 0.91], "tolerance", tolerance=0.02)
    assert not predictions_match([1, 2], [1, 2, 3]) and not predictions_match({"a": 1}, {"b": 1})
    assert predictions_match({"a": 1.0, "b": [2.0]}, {"a": 1.0000001, "b": [2.0]})
    assert not predictions_match({"a": 1.0, "b": [2.0]}, {"a": 1.0, "b": [2.5]})
    assert not predictions_match({"a": 1.0}, {"a": 1.5})
    assert predictions_match("cat", "cat") and not predictions_match("cat", "dog")
    # top_label: a label key, the argmax of a probability dict or list, or the item itself
    assert predictions_match([{"label": "cat", "p": 0.9}], [{"label": "cat", "p": 0.6}],
                             "top_label")
    assert predictions_match([{"cat": 0.7, "dog": 0.3}], [{"cat": 0.51, "dog": 0.49}],
                             "top_label")
    assert not predictions_match([{"cat": 0.4, "dog": 0.6}], [{"cat": 0.6, "dog": 0.4}],
                                 "top_label")
    assert predictions_match([0.1, 0.7, 0.2], [0.2, 0.5, 0.3], "top_label")        # one item
    assert not predictions_match([0.1, 0.7, 0.2], [0.5, 0.3, 0.2], "top_label")
    assert predictions_match([[0.1, 0.9], [0.8, 0.2]], [[0.3, 0.7], [0.6, 0.4]], "top_label")
    assert not predictions_match([[0.1, 0.9], [0.8, 0.2]], [[0.3, 0.7], [0.4, 0.6]], "top_label")
    assert not predictions_match([["a"], ["b"]], [["a"]], "top_label")
    assert predictions_match({}, {}, "top_label") and predictions_match("x", "x", "top_label")


def test_exact_agreement_is_equality_and_every_criterion_keeps_its_figures():
    assert predictions_match(["cat", 1], ["cat", 1], "exact")
    assert not predictions_match(["cat", 1], ["cat", 2], "exact")
    spread = stage(0, latencies_us=[1_000 + 10 * i for i in range(200)])
    slower = stage(0, latencies_us=[1_300 + 10 * i for i in range(200)])
    one = _latency(spread, slower, CFG)
    assert _latency(spread, slower, CFG) == one                  # seeded: the same interval
    assert _latency(spread, slower, replace(CFG, seed=5)).ci_low != one.ci_low
    rolled = _errors(flat(1_000), flat(1_000, errors=40), CFG)
    assert rolled.status == "rollback" and rolled.p_value < 1e-9
    passed = _errors(flat(1_000), flat(1_000), CFG)
    assert (passed.status, passed.detail, passed.p_value) == (
        "pass", "error rate 0.0% vs 0.0% (+0.0 pp, p=1)", 1.0)


def test_unlike_predictions_never_match_and_a_stage_reports_both_sides():
    assert not predictions_match(1.0, "1") and not predictions_match("1", 1.0)
    assert not predictions_match({"a": 1}, [1]) and not predictions_match([1], {"a": 1})
    b = replace(arm(v("p99 < 1ms", True)), status=Status.PASS)
    out = decide_stage(0, SPEC, flat(1_000), stage(0, latencies_us=[1_000] * 400,
                                                     throughput_rps=40.0), AGREE,
                       baseline_arm=b, candidate_arm=b)
    assert [c.name for c in out.criteria] == ["requests", "p99_ratio", "error_rate",
                                              "agreement", "sla"]
    assert (out.baseline_rps, out.candidate_rps) == (40.0, 40.0)
    assert (out.baseline_load, out.candidate_load) == ("", "")
