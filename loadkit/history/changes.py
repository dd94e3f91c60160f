"""Change points per scenario, profile and metric: Apache Otava's E-Divisive, not our own.

Third step of the history flow (store -> change points -> show / check / report).
``otava.analysis.compute_change_points`` is Hunter's variant of E-Divisive means
(Fleming et al., ICPE 2023): sliding windows of E-Divisive on the series, each
candidate split kept when a two-sample t-test on the segments beside it has a
p-value at or below ``significance``, then weak points merged away. It was chosen
over MongoDB's ``signal-processing-algorithms`` because it is maintained (Apache
incubator), pure Python over numpy/scipy, deterministic (a t-test, not random
permutations) and reports each point's segment means and p-value, which is what
``history show`` prints. Its module imports numpy and scipy only.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from loadkit.results.history import (
    GATE_METRICS,
    ChangePoint,
    History,
    Regime,
    StoredRun,
    direction_of,
)

DEFAULT_SIGNIFICANCE = 0.0002  # Otava defaults to 0.001 for one series; a profile has six:
                               # benchmarks/history_changepoints.py measures both
DEFAULT_MIN_MAGNITUDE = 0.05   # a split moving the mean by less than 5% is noise between runners,
                               # however significant a t-test on near-constant figures finds it
WINDOW = 50                    # Otava's default window; a change needs no more than this either side
MIN_SERIES = 4                 # fewer runs than this: no split is meaningful
MIN_SEGMENT = 2                # runs a change point leaves on each side, at least


@dataclass(frozen=True)
class Series:
    """One metric of one profile over the runs that have it: ``at[i]`` is the index in the
    history's runs of ``values[i]``."""

    profile: str
    metric: str
    at: tuple[int, ...]
    values: tuple[float, ...]


def series_of(runs: Sequence[StoredRun], metrics: Sequence[str] = tuple(GATE_METRICS)) -> list[Series]:
    """Every (profile, gate metric) series in ``runs``, profiles in order of first appearance."""
    profiles: dict[str, None] = {}
    for run in runs:
        profiles.update(dict.fromkeys(run.profiles))
    out = []
    for profile in profiles:
        for metric in metrics:
            pairs = [(i, run.profiles[profile][metric]) for i, run in enumerate(runs)
                     if metric in run.profiles.get(profile, {})]
            if pairs:
                out.append(Series(profile, metric, tuple(i for i, _ in pairs),
                                  tuple(float(v) for _, v in pairs)))
    return out


@dataclass(frozen=True)
class Split:
    """A change point inside one series (``position`` in the series, not in the runs)."""

    position: int
    before: float
    after: float
    p_value: float


def splits(values: Sequence[float], significance: float = DEFAULT_SIGNIFICANCE,
           min_magnitude: float = DEFAULT_MIN_MAGNITUDE) -> list[Split]:
    """Otava's change points of ``values``, oldest first, each leaving at least MIN_SEGMENT
    runs on either side (one run is an outlier, not a regime: a single busy-machine run
    at either end would otherwise be split off)."""
    if len(values) < MIN_SERIES or max(values) == min(values):
        return []
    from otava.analysis import TTestSignificanceTester, compute_change_points

    series = np.asarray(values, dtype=float)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # a segment with no spread makes scipy's t-test warn about precision; its p-value
        # is then nan (equal means) or 0 (different means), both handled by Otava
        warnings.simplefilter("ignore", RuntimeWarning)
        points, _weak = compute_change_points(list(values), window_len=WINDOW,
                                              max_pvalue=significance,
                                              min_magnitude=min_magnitude)
        kept = [cp for cp in points if MIN_SEGMENT <= cp.index <= len(values) - MIN_SEGMENT]
        if len(kept) < len(points):
            # the segments beside each kept point changed: Otava's tester recomputes its
            # stats (as its own merge step does), and a point no longer significant goes
            tester = TTestSignificanceTester(significance)
            intervals = tester.get_intervals(kept)
            kept = [cp for cp in (tester.change_point(c.to_candidate(), series, intervals)
                                  for c in kept) if tester.is_significant(cp)]
    return [Split(int(cp.index), float(cp.stats.mean_1), float(cp.stats.mean_2),
                  float(cp.stats.pvalue)) for cp in kept]


def regime_of(s: Series, cuts: Sequence[Split]) -> Regime:
    """The runs since the last change point of ``s``, with mean and 2-sigma band."""
    start = cuts[-1].position if cuts else 0
    tail = np.asarray(s.values[start:], dtype=float)
    mean = float(tail.mean())
    stdev = float(tail.std(ddof=1)) if len(tail) > 1 else 0.0
    return Regime(s.profile, s.metric, s.at[start], len(tail), mean, stdev,
                  mean - 2 * stdev, mean + 2 * stdev)


def relative(before: float, after: float) -> float:
    return after / before - 1.0 if before else 0.0


def analyse(scenario: str, runs: Sequence[StoredRun], *, significance: float = DEFAULT_SIGNIFICANCE,
            min_magnitude: float = DEFAULT_MIN_MAGNITUDE, branch: str | None = None) -> History:
    """The scenario's History: runs oldest first (partial runs left out), change points of
    every gate metric, and each metric's current regime."""
    whole = [r for r in runs if not r.partial]
    points: list[ChangePoint] = []
    regimes: list[Regime] = []
    for s in series_of(whole):
        cuts = splits(s.values, significance, min_magnitude)
        for c in cuts:
            run = whole[s.at[c.position]]
            points.append(ChangePoint(
                profile=s.profile, metric=s.metric, index=s.at[c.position], before=c.before,
                after=c.after, change=relative(c.before, c.after),
                direction=direction_of(s.metric, c.before, c.after),
                p_value=c.p_value if math.isfinite(c.p_value) else 0.0,
                commit=run.commit, started_at=run.started_at))
        regimes.append(regime_of(s, cuts))
    points.sort(key=lambda p: (p.index, p.profile, p.metric))
    return History(scenario=scenario, runs=tuple(whole), change_points=tuple(points),
                   regimes=tuple(regimes), significance=significance,
                   min_magnitude=min_magnitude, branch=branch,
                   skipped_partial=len(runs) - len(whole))
