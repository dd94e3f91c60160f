"""Statistical building blocks for ``compare`` and ``canary``: pure numpy/scipy functions.

They sit under ``loadkit.analysis`` and read plain numbers (per-second window values,
histogram buckets, counts), never a RunResult, so each one is testable on its own.

Why per-second windows: requests within one run are correlated (GC pauses, noisy
neighbours, queueing), so a test on raw samples calls every tiny difference
significant. One window is one observation; tests and bootstraps resample windows.
The exception is ``hist_percentile_ratio_ci``, used by the canary, where baseline and
candidate are measured *at the same time* under the same interleaved load, so the
time correlation is shared by both sides and the request is a fair unit.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

Alternative = Literal["greater", "less", "two-sided"]


@dataclass(frozen=True)
class TestResult:
    """One hypothesis test: its name, statistic and p-value (1.0 when it cannot run)."""

    test: str
    statistic: float
    p_value: float


@dataclass(frozen=True)
class Interval95:
    """A confidence interval (the level is whatever was asked, despite the short name)."""

    low: float
    high: float


def mann_whitney(candidate: Sequence[float], baseline: Sequence[float],
                 alternative: Alternative = "greater") -> TestResult:
    """Mann-Whitney U of candidate vs baseline windows; ``greater``: candidate is larger.

    Identical constant samples (all ties) carry no evidence of a shift: p = 1.
    """
    c = np.asarray(candidate, dtype=float)
    b = np.asarray(baseline, dtype=float)
    if c.size == 0 or b.size == 0:
        return TestResult("mann-whitney-u", math.nan, 1.0)
    if np.ptp(np.concatenate([c, b])) == 0:
        return TestResult("mann-whitney-u", float(c.size * b.size / 2), 1.0)
    res = stats.mannwhitneyu(c, b, alternative=alternative, method="auto")
    p = float(res.pvalue)
    return TestResult("mann-whitney-u", float(res.statistic), 1.0 if math.isnan(p) else p)


def two_proportion_z(candidate_events: int, candidate_n: int, baseline_events: int,
                     baseline_n: int, alternative: Alternative = "greater") -> TestResult:
    """Pooled two-proportion z test (``greater``: candidate proportion is higher).

    Written on ``scipy.stats.norm`` because statsmodels is not a dependency.
    """
    if candidate_n <= 0 or baseline_n <= 0:
        return TestResult("two-proportion-z", math.nan, 1.0)
    p1 = candidate_events / candidate_n
    p2 = baseline_events / baseline_n
    pooled = (candidate_events + baseline_events) / (candidate_n + baseline_n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / candidate_n + 1 / baseline_n))
    if se == 0:
        return TestResult("two-proportion-z", 0.0, 1.0)
    z = (p1 - p2) / se
    if alternative == "greater":
        p = float(stats.norm.sf(z))
    elif alternative == "less":
        p = float(stats.norm.cdf(z))
    else:
        p = float(2 * stats.norm.sf(abs(z)))
    return TestResult("two-proportion-z", z, p)


def binomial_below(successes: int, trials: int, threshold: float) -> TestResult:
    """Exact binomial test that the success share is below ``threshold``."""
    if trials <= 0:
        return TestResult("binomial", math.nan, 1.0)
    res = stats.binomtest(successes, trials, threshold, alternative="less")
    return TestResult("binomial", successes / trials, float(res.pvalue))


def ratio_of_means_ci(candidate: Sequence[float], baseline: Sequence[float], *,
                      confidence: float = 0.95, n_resamples: int = 2000,
                      seed: int = 0) -> Interval95 | None:
    """Bootstrap CI of mean(candidate) / mean(baseline), resampling windows independently.

    None when either side has fewer than two windows or the baseline mean is zero.
    """
    c = np.asarray(candidate, dtype=float)
    b = np.asarray(baseline, dtype=float)
    if c.size < 2 or b.size < 2 or float(b.mean()) <= 0:
        return None

    def ratio(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], axis: int = -1) -> np.ndarray[Any, Any]:
        den = np.mean(y, axis=axis)
        return np.asarray(np.mean(x, axis=axis) / np.where(den > 0, den, np.nan))

    with warnings.catch_warnings():
        # Degenerate (all-equal) resamples make scipy warn; the interval is still right.
        warnings.simplefilter("ignore")
        res = stats.bootstrap((c, b), ratio, vectorized=True, paired=False,
                              confidence_level=confidence, n_resamples=n_resamples,
                              method="percentile", random_state=np.random.default_rng(seed))
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if math.isnan(lo) or math.isnan(hi):
        point = float(ratio(c, b))
        return Interval95(point, point)
    return Interval95(lo, hi)


def _weighted_percentiles(values: np.ndarray[Any, Any], counts: np.ndarray[Any, Any], percentile: float) -> np.ndarray[Any, Any]:
    """Percentile of each row of ``counts`` over bucket ``values`` (HDR semantics: the
    smallest value whose cumulative count reaches ``percentile`` % of the total)."""
    cum = np.cumsum(counts, axis=-1)
    total = cum[..., -1:]
    target = np.maximum(np.ceil(total * percentile / 100.0), 1)
    idx = np.argmax(cum >= target, axis=-1)
    return np.asarray(values[idx])


def hist_percentile_ratio_ci(candidate: Sequence[tuple[int, int]],
                             baseline: Sequence[tuple[int, int]], percentile: float, *,
                             confidence: float = 0.95, n_resamples: int = 1000,
                             seed: int = 0) -> tuple[float, Interval95] | None:
    """Point ratio and bootstrap CI of a percentile ratio, resampling from histograms.

    Takes ``LatencyHistogram.recorded_values()`` of each side. Each resample draws
    the same number of requests from the bucket distribution (a multinomial over
    buckets), so memory is buckets x resamples, not requests x resamples.
    """
    if not candidate or not baseline:
        return None
    rng = np.random.default_rng(seed)
    out = []
    for side in (candidate, baseline):
        values = np.array([v for v, _ in side], dtype=float)
        counts = np.array([n for _, n in side], dtype=np.int64)
        n = int(counts.sum())
        point = float(_weighted_percentiles(values, counts, percentile))
        draws = rng.multinomial(n, counts / n, size=n_resamples)
        out.append((point, _weighted_percentiles(values, draws, percentile)))
    (c_point, c_boot), (b_point, b_boot) = out
    if b_point <= 0:
        return None
    ratios = c_boot / np.where(b_boot > 0, b_boot, np.nan)
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.nanpercentile(ratios, [tail, 100 - tail])
    return c_point / b_point, Interval95(float(lo), float(hi))

