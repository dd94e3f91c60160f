"""Canary stage decisions on synthetic stages (no network)."""

from __future__ import annotations

import numpy as np
import pytest

from loadkit.analysis.canary import (
    decide_stage,
    exit_code_of,
    overall,
    predictions_match,
)
from loadkit.results.canary import AgreementSample, CanaryStage
from loadkit import testing

SPEC = CanaryStage(share=0.05, duration_s=2.0, min_requests=50)
AGREE = AgreementSample(compared=50, matched=50)


def stage(n: int, median_ms: float = 10.0, errors: int = 0, seed: int = 0):
    rng = np.random.default_rng(seed)
    lat = rng.lognormal(np.log(median_ms * 1000), 0.1, n).astype(int)
    return testing.stage(latencies_us=lat, errors=errors, duration_s=2.0)


def test_identical_candidate_is_promoted():
    out = decide_stage(0, SPEC, stage(2000, seed=1), stage(100, seed=2), AGREE)
    assert out.decision == "promote"
    assert all(c.status == "pass" for c in out.criteria)


def test_three_times_slower_candidate_is_rolled_back():
    out = decide_stage(0, SPEC, stage(2000, seed=1), stage(100, 30.0, seed=2), AGREE)
    assert out.decision == "rollback"
    assert out.criterion("p99_ratio").status == "rollback"
    assert "p99" in out.reason


def test_slow_candidate_on_a_handful_of_requests_holds_instead_of_rolling_back():
    # Three requests cannot show significance: not enough evidence either way.
    out = decide_stage(0, SPEC, stage(2000, seed=1), stage(3, 21.0, seed=2), AGREE)
    assert out.decision == "hold"


def test_slightly_slower_candidate_holds():
    out = decide_stage(0, SPEC, stage(2000, seed=1), stage(100, 13.5, seed=2), AGREE)
    assert out.criterion("p99_ratio").status == "hold"
    assert out.decision == "hold"


def test_too_few_requests_hold_even_when_everything_else_passes():
    out = decide_stage(0, SPEC, stage(2000, seed=1), stage(20, seed=2), AGREE)
    assert out.criterion("requests").status == "hold"
    assert out.decision == "hold"
    assert "< 50" in out.reason


def test_error_rate_jump_rolls_back():
    out = decide_stage(0, SPEC, stage(2000, seed=1), stage(200, errors=30, seed=2), AGREE)
    assert out.criterion("error_rate").status == "rollback"
    assert out.decision == "rollback"


def test_small_error_rate_rise_holds():
    out = decide_stage(0, SPEC, stage(2000, seed=1), stage(200, errors=6, seed=2), AGREE)
    assert out.criterion("error_rate").status == "hold"
    assert out.decision == "hold"


def test_low_agreement_rolls_back():
    out = decide_stage(0, SPEC, stage(2000, seed=1), stage(100, seed=2),
                       AgreementSample(compared=50, matched=40))
    assert out.criterion("agreement").status == "rollback"
    assert out.decision == "rollback"


def test_agreement_just_below_threshold_on_few_inputs_holds():
    out = decide_stage(0, SPEC, stage(2000, seed=1), stage(100, seed=2),
                       AgreementSample(compared=20, matched=18))
    assert out.criterion("agreement").status == "hold"


def test_rollback_wins_over_hold():
    out = decide_stage(0, SPEC, stage(2000, seed=1), stage(20, seed=2),
                       AgreementSample(compared=50, matched=30))
    assert out.decision == "rollback"


def test_overall_decision_and_exit_codes():
    p = decide_stage(0, SPEC, stage(2000, seed=1), stage(100, seed=2), AGREE)
    r = decide_stage(1, SPEC, stage(2000, seed=1), stage(100, 30.0, seed=2), AGREE)
    assert overall([p, p], planned=2)[0] == "promote"
    assert overall([p], planned=2)[0] == "hold"
    assert overall([p, r], planned=4)[0] == "rollback"
    assert [exit_code_of(d) for d in ("promote", "rollback", "hold")] == [0, 1, 4]


@pytest.mark.parametrize("a, b, mode, expected", [
    (["setosa"], ["setosa"], "auto", True),
    (["setosa"], ["virginica"], "auto", False),
    ([0.1000001], [0.1], "auto", True),
    ([0.1000001], [0.1], "exact", False),
    ([[0.1, 0.7, 0.2]], [[0.2, 0.6, 0.2]], "top_label", True),
    ([[0.1, 0.7, 0.2]], [[0.6, 0.2, 0.2]], "top_label", False),
    ([{"label": "a", "score": 0.9}], [{"label": "a", "score": 0.5}], "top_label", True),
    ([1, 2], [1], "auto", False),
], ids=["same-label", "other-label", "float-noise", "float-exact", "same-argmax",
        "other-argmax", "label-key", "length-differs"])
def test_predictions_match(a, b, mode, expected):
    assert predictions_match(a, b, mode) is expected


