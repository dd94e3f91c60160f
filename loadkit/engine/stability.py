"""Stability windows: has a stage's throughput and p99 settled?

Used by the stage conductor for a stage with ``Stage.stability``: after each
per-second tick it asks whether the last ``windows`` windows of ``window_s``
seconds agree within ``tolerance``; if so the stage ends early as ``stable``.
Pure functions of the per-second Intervals, so they are tested without a network.
"""

from __future__ import annotations

from collections.abc import Sequence

from loadkit.results.model import Interval
from loadkit.scenario.plan import Stability


def spread(values: Sequence[float]) -> float:
    """(max - min) / mean: 0 when they agree exactly (or are all zero)."""
    if not values:
        return 0.0
    mean = sum(values) / len(values)
    if mean <= 0:
        return 0.0
    return (max(values) - min(values)) / mean


def window_figures(intervals: Sequence[Interval]) -> tuple[float, float]:
    """(throughput rps, p99 ms) of one window of per-second intervals.

    The window's p99 is the request-weighted mean of its seconds' p99s: the
    per-second summaries carry no histogram, and weighting keeps an almost empty
    second from swinging the figure.
    """
    requests = sum(iv.requests for iv in intervals)
    rps = sum(iv.rps for iv in intervals) / len(intervals)
    if requests == 0:
        return rps, 0.0
    p99 = sum(iv.p99_ms * iv.requests for iv in intervals) / requests
    return rps, p99


def is_stable(intervals: Sequence[Interval], rule: Stability) -> bool:
    """True when the last ``rule.windows`` windows agree on throughput and p99."""
    per = max(1, round(rule.window_s))
    windows = max(2, rule.windows)
    need = per * windows
    if len(intervals) < need:
        return False
    recent = list(intervals)[-need:]
    figures = [window_figures(recent[k * per:(k + 1) * per]) for k in range(windows)]
    return (spread([f[0] for f in figures]) <= rule.tolerance
            and spread([f[1] for f in figures]) <= rule.tolerance)


def min_duration_s(rule: Stability) -> float:
    """The shortest time a stability stage can take: all its windows, once."""
    return max(1, round(rule.window_s)) * max(2, rule.windows)
