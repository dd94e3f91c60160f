"""compare's and canary's statistics on samples whose answer is known exactly.

The direction of every one-sided test is pinned: a candidate that is *better* must
never look significant, and a p-value for "greater" and for "less" must add to 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from loadkit.analysis import stats
from loadkit.analysis.stats import Interval95
from loadkit.analysis.stats import TestResult as Outcome


def test_mann_whitney_is_one_sided_toward_the_candidate_being_larger():
    slower, faster = [4.0, 5.0, 6.0], [1.0, 2.0, 3.0]
    assert stats.mann_whitney(slower, faster) == Outcome("mann-whitney-u", 9.0, 0.05)
    assert stats.mann_whitney(slower, faster, "less") == Outcome("mann-whitney-u", 9.0, 1.0)
    assert stats.mann_whitney(slower, faster, "two-sided").p_value == pytest.approx(0.1)
    assert stats.mann_whitney(faster, slower) == Outcome("mann-whitney-u", 0.0, 1.0)
    assert stats.mann_whitney(faster, slower, "less").p_value == pytest.approx(0.05)


def test_mann_whitney_without_data_or_with_only_ties_carries_no_evidence():
    empty = stats.mann_whitney([], [1.0, 2.0])
    assert empty.test == "mann-whitney-u" and math.isnan(empty.statistic) and empty.p_value == 1.0
    assert math.isnan(stats.mann_whitney([1.0], []).statistic)
    assert stats.mann_whitney([3.0, 3.0], [3.0, 3.0, 3.0]) == Outcome("mann-whitney-u", 3.0,
                                                                         1.0)


def test_two_proportion_z_is_pooled_and_one_sided_toward_more_candidate_events():
    z = (0.10 - 0.05) / math.sqrt(0.075 * 0.925 * (1 / 100 + 1 / 100))
    more = stats.two_proportion_z(10, 100, 5, 100)
    assert more.test == "two-proportion-z" and more.statistic == pytest.approx(z)
    assert z == pytest.approx(1.3423121)
    assert more.p_value == pytest.approx(0.0897474, rel=1e-5)
    less = stats.two_proportion_z(10, 100, 5, 100, "less")
    assert less.p_value == pytest.approx(1 - more.p_value)
    both = stats.two_proportion_z(10, 100, 5, 100, "two-sided")
    assert both.p_value == pytest.approx(2 * more.p_value)
    fewer = stats.two_proportion_z(5, 100, 10, 100)
    assert fewer.statistic == pytest.approx(-z) and fewer.p_value == pytest.approx(less.p_value)
    assert stats.two_proportion_z(5, 100, 10, 100, "two-sided").p_value == pytest.approx(
        both.p_value)
    # unequal sizes weigh each side by its own n
    assert stats.two_proportion_z(3, 10, 10, 200).statistic == pytest.approx(
        (0.3 - 0.05) / math.sqrt((13 / 210) * (197 / 210) * (1 / 10 + 1 / 200)))


def test_two_proportion_z_without_requests_or_without_variance_is_no_evidence():
    for args in ((1, 0, 1, 10), (1, 10, 1, 0), (0, -1, 0, 5)):
        r = stats.two_proportion_z(*args)
        assert r.test == "two-proportion-z" and math.isnan(r.statistic) and r.p_value == 1.0
    assert stats.two_proportion_z(0, 10, 0, 20) == Outcome("two-proportion-z", 0.0, 1.0)
    assert stats.two_proportion_z(10, 10, 20, 20) == Outcome("two-proportion-z", 0.0, 1.0)


def test_binomial_below_is_the_exact_lower_tail():
    r = stats.binomial_below(9, 10, 0.95)
    assert (r.test, r.statistic) == ("binomial", 0.9)
    assert r.p_value == pytest.approx(1 - 0.95 ** 10)          # P(X <= 9)
    assert stats.binomial_below(10, 10, 0.95).p_value == pytest.approx(1.0)
    none = stats.binomial_below(0, 0, 0.95)
    assert none.test == "binomial" and math.isnan(none.statistic) and none.p_value == 1.0


def test_ratio_of_means_ci_needs_two_windows_a_side_and_a_positive_baseline():
    assert stats.ratio_of_means_ci([1.0], [1.0, 2.0]) is None
    assert stats.ratio_of_means_ci([1.0, 2.0], [1.0]) is None
    assert stats.ratio_of_means_ci([1.0, 2.0], [0.0, 0.0]) is None
    assert stats.ratio_of_means_ci([1.0, 2.0], [-1.0, -2.0]) is None
    assert stats.ratio_of_means_ci([2.0, 2.0], [1.0, 1.0]) == Interval95(2.0, 2.0)


def test_ratio_of_means_ci_is_a_seeded_percentile_bootstrap_at_the_asked_level():
    c, b = [2.0, 4.0, 6.0, 8.0], [1.0, 2.0, 3.0, 4.0]
    wide = stats.ratio_of_means_ci(c, b)
    assert wide == Interval95(pytest.approx(1.0769231), 4.0)
    narrow = stats.ratio_of_means_ci(c, b, confidence=0.5)
    assert narrow == Interval95(1.6, pytest.approx(2.4444444))
    assert wide.low < narrow.low < 2.0 < narrow.high < wide.high
    assert stats.ratio_of_means_ci(c, b, seed=0) == wide
    assert stats.ratio_of_means_ci(c, b, n_resamples=50, seed=1) != wide


def test_a_bootstrap_that_cannot_be_computed_falls_back_to_the_point_ratio():
    # one baseline window of zero: some resamples divide by zero -> the point ratio
    got = stats.ratio_of_means_ci([3.0, 3.0, 3.0], [0.0, 3.0, 3.0], n_resamples=200)
    assert got is not None and got.low <= 1.5 <= got.high or got == Interval95(1.5, 1.5)


def test_weighted_percentiles_follow_hdr_semantics():
    values, counts = np.array([1.0, 2.0, 3.0]), np.array([1, 1, 2])
    assert stats._weighted_percentiles(values, counts, 0) == 1.0       # at least one request
    assert stats._weighted_percentiles(values, counts, 25) == 1.0
    assert stats._weighted_percentiles(values, counts, 26) == 2.0
    assert stats._weighted_percentiles(values, counts, 50) == 2.0
    assert stats._weighted_percentiles(values, counts, 51) == 3.0
    assert stats._weighted_percentiles(values, counts, 100) == 3.0
    rows = stats._weighted_percentiles(values, np.array([[4, 0, 0], [0, 0, 4]]), 50)
    assert list(rows) == [1.0, 3.0]


def test_a_histogram_percentile_ratio_has_its_point_and_a_bootstrap_interval():
    assert stats.hist_percentile_ratio_ci([(100, 10)], [(50, 10)], 99) == (
        2.0, Interval95(2.0, 2.0))
    point, ci = stats.hist_percentile_ratio_ci([(100, 5), (200, 5)], [(50, 10)], 50)
    assert point == 2.0 and ci == Interval95(2.0, 4.0)
    _, narrow = stats.hist_percentile_ratio_ci([(100, 5), (200, 5)], [(50, 10)], 50,
                                               confidence=0.01)
    assert ci.low <= narrow.low <= narrow.high <= ci.high
    assert stats.hist_percentile_ratio_ci([], [(50, 10)], 50) is None
    assert stats.hist_percentile_ratio_ci([(50, 10)], [], 50) is None
    assert stats.hist_percentile_ratio_ci([(50, 10)], [(0, 10)], 50) is None
    again = stats.hist_percentile_ratio_ci([(100, 5), (200, 5)], [(50, 10)], 50)
    assert again == (point, ci)


def test_a_histogram_ratio_interval_is_seeded_and_its_tails_split_the_confidence_evenly():
    c = [(v, 3) for v in range(100, 140, 2)]
    b = [(v, 3) for v in range(90, 120, 2)]
    point, ci = stats.hist_percentile_ratio_ci(c, b, 50)
    assert point == pytest.approx(1.1346154)
    assert ci == Interval95(pytest.approx(1.0740741), pytest.approx(1.22))
    assert stats.hist_percentile_ratio_ci(c, b, 50, seed=0) == (point, ci)
    assert stats.hist_percentile_ratio_ci(c, b, 50, seed=1)[1].high == pytest.approx(1.2156863)
    assert stats.hist_percentile_ratio_ci(c, b, 50, confidence=0.5)[1] == Interval95(
        pytest.approx(1.1153846), pytest.approx(1.1568627))
    assert stats.hist_percentile_ratio_ci(c, b, 50, confidence=0.9)[1] == Interval95(
        pytest.approx(1.0925926), pytest.approx(1.1960784))


def test_one_baseline_request_or_a_1_us_baseline_is_still_data():
    assert not math.isnan(stats.two_proportion_z(1, 10, 0, 1).statistic)
    point, ci = stats.hist_percentile_ratio_ci([(3, 10)], [(1, 10)], 50)
    assert point == 3.0 and ci == Interval95(3.0, 3.0)


def test_one_candidate_request_is_still_data():
    assert not math.isnan(stats.two_proportion_z(0, 1, 1, 10).statistic)
