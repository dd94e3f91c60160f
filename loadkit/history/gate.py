"""The trend gate: does a candidate run belong to its metrics' current regimes?

Last step of the history flow (store -> change points -> gate). For each gate
metric of each of the candidate's profiles, the regime is the stored runs since
the metric's last established change point (Otava's, as ``history show`` finds
them; one with fewer than ``min_regime`` runs after it is not a regime yet). The
candidate is a regression when it lies on the worse side of that regime both
significantly (a one-sided prediction t-test: Otava's two-sample t-test with the
candidate as a sample of one, which is Student's prediction interval; on the
logarithms of latencies and rates; at ``alpha`` divided among the figures gated,
so the whole check holds ``alpha``) and by more than a practical margin
(``min_change``; for the error rate, percentage points). Too few runs in a
regime to say is inconclusive, never a pass.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from loadkit.history.changes import (
    DEFAULT_MIN_MAGNITUDE,
    DEFAULT_SIGNIFICANCE,
    series_of,
    splits,
)
from loadkit.history.figures import profile_figures
from loadkit.results.history import (
    GATE_METRICS,
    Finding,
    FindingState,
    StoredRun,
    TrendCheck,
    direction_of,
)
from loadkit.results.model import RunResult
from loadkit.results.status import Status

DEFAULT_ALPHA = 0.01
DEFAULT_MIN_CHANGE = 0.10       # a move smaller than 10% is not a regression, however significant
DEFAULT_ERROR_RATE_POINTS = 0.005   # ... and an error rate rising by less than 0.5 points
MIN_REGIME = 5                  # "at least a handful" of runs in the current regime
RECENT = 400                    # the gate reads the newest runs only: a regime longer than this
                                # is represented by its newest RECENT runs (keeps a check fast)


def one_sided_p(regime: Sequence[float], observed: float) -> float:
    """P-value of a run at least as far from the regime as ``observed``, on its side
    (Student's prediction t-test: Otava's two-sample t-test, the candidate a sample of one)."""
    from otava.analysis import TTestSignificanceTester

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        stats = TTestSignificanceTester(1.0).compare(list(regime), [observed])
    p = float(stats.pvalue)
    return p / 2 if math.isfinite(p) else 1.0     # nan: no spread and no difference


def _finding(profile: str, metric: str, observed: float, history: Sequence[StoredRun],
             *, significance: float, min_magnitude: float, alpha: float, min_change: float,
             error_points: float, min_regime: int, offset: int) -> Finding:
    found = [s for s in series_of(history, (metric,)) if s.profile == profile]
    if not found:
        return Finding(profile, metric, "no_history", observed)
    s = found[0]
    cuts = splits(s.values, significance, min_magnitude)
    # A change point with fewer than min_regime runs after it is not a regime yet: the
    # candidate is judged against the established regime before it (a persisting
    # regression keeps failing until it has become the regime; a blip is not a regime).
    established = [c for c in cuts if len(s.values) - c.position >= min_regime]
    young = [c for c in cuts if len(s.values) - c.position < min_regime]
    start = established[-1].position if established else 0
    stop = young[0].position if young else len(s.values)
    values = s.values[start:stop]
    mean = float(np.mean(values))
    stdev = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    first = s.at[start]
    base = Finding(profile, metric, "too_short", observed, mean, stdev, len(values),
                   first + offset, history[first].commit,
                   young_change=s.at[young[0].position] + offset if young else None)
    if len(values) < min_regime:
        return base
    if metric == "error_rate":
        change, margin = observed - mean, error_points
    else:
        change = observed / mean - 1.0 if mean else 0.0
        margin = min_change
    if observed == mean:
        p = 1.0
    elif metric != "error_rate" and observed > 0 and min(values) > 0:
        # latencies and rates vary by ratios (a slow runner is 10% slower, not 2 ms): the
        # test runs on their logarithms, where that noise is closer to the normal it assumes
        p = one_sided_p([math.log(v) for v in values], math.log(observed))
    else:
        p = one_sided_p(values, observed)
    state: FindingState = "same"
    if p < alpha and abs(change) > margin:
        state = "regression" if direction_of(metric, mean, observed) == "worse" else "better"
    return replace(base, state=state, change=change, p_value=p)


def check(candidate: RunResult, runs: Sequence[StoredRun], *, candidate_digest: str = "",
          significance: float = DEFAULT_SIGNIFICANCE,
          min_magnitude: float = DEFAULT_MIN_MAGNITUDE, alpha: float = DEFAULT_ALPHA,
          min_change: float = DEFAULT_MIN_CHANGE, error_points: float = DEFAULT_ERROR_RATE_POINTS,
          min_regime: int = MIN_REGIME, branch: str | None = None) -> TrendCheck:
    """Gate ``candidate`` against the stored ``runs`` (oldest first) of its scenario.

    The candidate itself, if already stored, and partial runs are left out of its history."""
    whole = [r for r in runs if not r.partial and r.digest != candidate_digest]
    history = whole[-RECENT:]
    gated = [(p.name, metric, value) for p in candidate.profiles
             for metric, value in profile_figures(p).items()
             if metric in GATE_METRICS and math.isfinite(value)]
    each = alpha / max(1, len(gated))    # Bonferroni: alpha holds for the whole family of figures
    findings: list[Finding] = []
    for profile, metric, value in gated:
        findings.append(_finding(profile, metric, value, history, significance=significance,
                                 min_magnitude=min_magnitude, alpha=each, min_change=min_change,
                                 error_points=error_points, min_regime=min_regime,
                                 offset=len(whole) - len(history)))
    status, message = _verdict(findings, candidate.partial, min_regime)
    return TrendCheck(candidate.scenario.name, status, message, tuple(findings), len(history),
                      alpha, min_change, branch)


def _pct(f: Finding) -> str:
    if f.change is None:
        return "-"
    if f.metric == "error_rate":
        return f"{f.change * 100:+.2f} points"
    return f"{f.change * 100:+.1f}%"


def _value(metric: str, v: float | None) -> str:
    if v is None:
        return "-"
    if metric == "error_rate":
        return f"{v * 100:.2f}%"
    return f"{v:.4g} {GATE_METRICS[metric].unit}"


def describe(f: Finding) -> str:
    """One finding as a sentence: which metric, how much, against what."""
    against = (f"the current regime (mean {_value(f.metric, f.regime_mean)}, sd "
               f"{_value(f.metric, f.regime_stdev)}, over {f.regime_runs} runs from run "
               f"{f.regime_start}" + (f", commit {f.regime_commit[:12]}" if f.regime_commit else "")
               + ")")
    if f.young_change is not None:
        against += (f"; a change at run {f.young_change} is too recent to be a regime yet")
    if f.state == "no_history":
        return f"{f.profile} {f.metric}: no stored run has it"
    if f.state == "too_short":
        return (f"{f.profile} {f.metric}: its current regime has {f.regime_runs} run(s) "
                f"(from run {f.regime_start}), too few to judge")
    p = f"p = {f.p_value:.2g}" if f.p_value is not None else ""
    return (f"{f.profile} {f.metric} {_value(f.metric, f.observed)} is {_pct(f)} against "
            f"{against}; {p}")


def _verdict(findings: Sequence[Finding], partial: bool, min_regime: int) -> tuple[Status, str]:
    """Fail on any regression; inconclusive when the history is too short: a profile none of
    whose latency figures has a regime long enough to judge (or nothing judged at all); else
    pass, naming the figures that could not be judged (a noisy tail percentile whose change
    points came too close together does not hold up a gate that its p50 and mean can make)."""
    if partial:
        return Status.INCONCLUSIVE, "the candidate is a partial (interrupted) run: nothing to gate"
    if not findings:
        return Status.INCONCLUSIVE, "the candidate has no figures to gate"
    bad = sorted((f for f in findings if f.state == "regression"),
                 key=lambda f: -abs(f.change or 0.0))
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        return Status.FAIL, f"regression: {describe(bad[0])}{more}"
    short = [f for f in findings if f.state in ("too_short", "no_history")]
    judged = len(findings) - len(short)
    blind = [f for f in short if GATE_METRICS[f.metric].unit == "ms" and not any(
        g.profile == f.profile and GATE_METRICS[g.metric].unit == "ms" and g not in short
        for g in findings)]
    if not judged or blind:
        return Status.INCONCLUSIVE, (f"history too short to judge (a regime needs {min_regime} runs): "
                                + describe((blind or short)[0]))
    unjudged = (f"; not judged: {', '.join(f'{f.profile} {f.metric}' for f in short)} "
                f"(regime too short)") if short else ""
    better = [f for f in findings if f.state == "better"]
    if better:
        return Status.PASS, f"better than the current regime: {describe(better[0])}{unjudged}"
    return Status.PASS, f"belongs to the current regime ({judged} figures within it){unjudged}"
