"""compare's and canary's result values: lookups by name and the one status map."""

from __future__ import annotations

import pytest

from loadkit.results.canary import (
    AgreementSample,
    criterion_of_status,
    decision_of_status,
    CanaryConfig,
    CanaryResult,
    Criterion,
    StageOutcome,
    status_of_decision,
)
from loadkit.results.compare import Comparison, MetricComparison, RunRef, StageComparison
from loadkit.results.status import Status


def _metric(name):
    return MetricComparison(name, "ms", 1.0, 2.0, 1.0, None, None, "t", 0.5, 0.1, False, True,
                            False)


def _comparison(verdict):
    ref = RunRef("s", "http://t", 0.0, "pass")
    return Comparison(ref, ref, (), verdict, (), 0.05)


def test_a_comparison_maps_its_verdict_to_one_status_and_exit_code():
    assert [(_comparison(v).status, _comparison(v).exit_code)
            for v in ("pass", "regression", "inconclusive")] == [
        (Status.PASS, 0), (Status.FAIL, 1), (Status.INCONCLUSIVE, 4)]


def test_a_stage_comparison_finds_its_metrics_by_name():
    p50, p99 = _metric("p50"), _metric("p99")
    s = StageComparison("p", 0, "c=1", 10, 10, 5, 5, (p50, p99), "pass")
    assert s.metric("p99") is p99 and s.metric("p50") is p50
    with pytest.raises(KeyError, match="p95"):
        s.metric("p95")


def test_a_canary_decision_maps_to_one_status_and_an_interruption_wins():
    assert [status_of_decision(d) for d in ("promote", "rollback", "hold")] == [
        Status.PASS, Status.FAIL, Status.INCONCLUSIVE]

    def result(decision, interrupted=False):
        return CanaryResult("s", "b", "c", CanaryConfig(), "rate 10 rps", (), decision, "why",
                            0.0, 1.0, interrupted=interrupted)

    assert [(result(d).status, result(d).exit_code) for d in ("promote", "rollback", "hold")] == [
        (Status.PASS, 0), (Status.FAIL, 1), (Status.INCONCLUSIVE, 4)]
    assert (result("promote", True).status, result("promote", True).exit_code) == (
        Status.INTERRUPTED, 130)


def test_a_canary_stage_finds_its_criteria_by_name_and_agreement_is_a_share():
    a = Criterion("p99_ratio", 1.1, 1.2, 2.0, "pass", "")
    b = Criterion("error_rate", 0.0, 1.0, 5.0, "pass", "")
    stage = StageOutcome(0, 0.05, 30.0, "promote", "", (a, b), 10, 10, 1.0, 1.0, 1.0, 1.0, 0.0,
                         0.0)
    assert stage.criterion("error_rate") is b and stage.criterion("p99_ratio") is a
    with pytest.raises(KeyError, match="agreement"):
        stage.criterion("agreement")
    assert AgreementSample(compared=8, matched=6).share == 0.75
    assert AgreementSample().share is None


def test_a_status_maps_back_to_a_decision_and_a_criterions_word_never_promoting_the_undecided():
    assert [decision_of_status(s) for s in Status] == [
        "promote", "rollback", "hold", "hold", "hold"]
    assert [criterion_of_status(s) for s in Status] == [
        "pass", "rollback", "hold", "hold", "hold"]
