"""The target's own metrics as a RunResult keeps them (``server_metrics`` of a stage).

Where it sits: ``loadkit.telemetry`` scrapes the target's Prometheus endpoint during
a run and summarises each stage into these values; the runner attaches them to the
stages, and everything after (SLA rules, analysis, reporters, merge) reads only
these. Figures are in the metric's own unit (seconds for ``*_seconds``).

A series is keyed as Prometheus writes it: ``name`` or ``name{label="v",...}``
(labels sorted). Which figures a series carries depends on its ``kind``; the
others stay None and are left out of result.json (``_omit_when_empty``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

GAUGE, COUNTER, HISTOGRAM = "gauge", "counter", "histogram"
SERVER_KINDS = (GAUGE, COUNTER, HISTOGRAM)
# Which figures each kind carries (what an SLA rule on a server series may name).
STATS_BY_KIND: dict[str, tuple[str, ...]] = {
    GAUGE: ("mean", "min", "max", "last"),
    COUNTER: ("increase", "rate_per_s"),
    HISTOGRAM: ("count", "rate_per_s", "mean", "p50", "p90", "p99"),
}


@dataclass(frozen=True)
class ServerSeries:
    """One series over one stage.

    gauge: ``mean min max last`` over the scrapes within the stage; counter:
    ``increase`` (reset-safe, as Prometheus' ``increase``) and ``rate_per_s`` over
    the time between the stage's first and last scrape; histogram: ``count`` and
    ``rate_per_s`` of observations, their ``mean`` and ``p50 p90 p99`` from the
    bucket deltas within the stage (``histogram_quantile``'s linear interpolation).
    ``scrapes`` is how many scrapes within the stage saw the series.
    """

    _omit_when_empty: ClassVar[frozenset[str]] = frozenset(
        {"mean", "min", "max", "last", "increase", "rate_per_s", "count", "p50", "p90", "p99",
         "window_s", "buckets"})

    kind: str
    scrapes: int = 0
    mean: float | None = None
    min: float | None = None
    max: float | None = None
    last: float | None = None
    increase: float | None = None
    rate_per_s: float | None = None
    count: float | None = None
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None
    window_s: float | None = None    # counter, histogram: seconds between the first and last scrape
    # histogram: the stage's bucket deltas, cumulative, as (upper bound, count) for every
    # finite bound (``count`` is the +Inf bucket): what lets stages and results combine.
    buckets: tuple[tuple[float, float], ...] = ()

    def stat(self, name: str) -> float | None:
        """A figure by name (``rate`` is ``rate_per_s``); None when the kind has none."""
        name = "rate_per_s" if name == "rate" else name
        if name not in STATS_BY_KIND.get(self.kind, ()):
            return None
        value = getattr(self, name)
        return None if value is None else float(value)


@dataclass(frozen=True)
class ScrapeStats:
    """How one source's scrapes went during one stage (failures never fail a run)."""

    source: str                                  # the URL, credentials and query values masked
    ok: int = 0
    failed: int = 0
    failures: dict[str, int] = field(default_factory=dict)   # timeout, connect, http_503, ...
    lost: tuple[str, ...] = ()                   # series seen earlier that stopped appearing
    dropped: int = 0                             # series beyond the source's max_series
    slowest_ms: float = 0.0                      # the slowest successful scrape
    uncharted: int = 0                           # series left out of the time series (bound)


@dataclass(frozen=True)
class ServerPoint:
    """One scrape in a profile's server time series.

    ``values``: a gauge's value; a counter's rate per second since the previous
    scrape; a histogram's mean observation since the previous scrape. A source's
    points keep its first ``POINT_SERIES`` (24) series, so a long run's memory grows
    with its number of scrapes only, never with a server's series count.
    """

    t: float                                     # unix seconds
    elapsed_s: float                             # since the profile started
    stage: int
    values: dict[str, float] = field(default_factory=dict)



_LABEL_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n"})


def series_key(name: str, labels: Mapping[str, str]) -> str:
    """``name{a="x",b="y"}`` (labels sorted; values escaped as in the text format)."""
    if not labels:
        return name
    inner = ",".join(f'{k}="{v.translate(_LABEL_ESCAPES)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def histogram_quantile(q: float, bounds: Sequence[float], cumulative: Sequence[float]
                       ) -> float | None:
    """Prometheus' ``histogram_quantile(q, ...)`` over cumulative bucket counts.

    The quantile's rank is found in its bucket and interpolated linearly between
    the bucket's bounds (the lowest bucket starts at 0 when its bound is positive);
    a rank in the ``+Inf`` bucket gives the highest finite bound. None: no counts.
    """
    if not bounds or len(bounds) != len(cumulative):
        return None
    total = cumulative[-1]
    if not total > 0:
        return None
    rank = q * total
    b = next(i for i, c in enumerate(cumulative) if c >= rank)
    if math.isinf(bounds[b]):
        return bounds[-2] if len(bounds) > 1 else None
    upper = bounds[b]
    if b == 0:
        if upper <= 0:
            return upper
        lower, below = 0.0, 0.0
    else:
        lower, below = bounds[b - 1], cumulative[b - 1]
    in_bucket = cumulative[b] - below
    if in_bucket <= 0:
        return upper
    return lower + (upper - lower) * (rank - below) / in_bucket


def round6(x: float) -> float:
    """Six significant digits: what result.json keeps of a server figure."""
    return float(f"{x:.6g}")


def histogram_series(count: float, total: float, window_s: float, scrapes: int,
                     buckets: Sequence[tuple[float, float]]) -> ServerSeries:
    """A histogram's figures from its bucket deltas over ``window_s`` seconds."""
    bounds = [b for b, _ in buckets] + [math.inf]
    cumulative = [c for _, c in buckets] + [count]

    def q(p: float) -> float | None:
        v = histogram_quantile(p, bounds, cumulative)
        return None if v is None else round6(v)

    return ServerSeries(
        kind=HISTOGRAM, scrapes=scrapes, count=round6(count),
        rate_per_s=round6(count / window_s) if window_s > 0 else None,
        mean=round6(total / count) if count > 0 else None,
        p50=q(0.5), p90=q(0.9), p99=q(0.99), window_s=round6(window_s),
        buckets=tuple((b, round6(c)) for b, c in buckets))


def combine_series(per_stage: Iterable[Mapping[str, ServerSeries]]) -> dict[str, ServerSeries]:
    """Several consecutive stages' figures as one span (a profile's summary).

    A gauge's mean is weighted by scrapes, its min/max the extremes, its last the
    last stage's; counters and histograms add their increases, counts, buckets and
    windows (stage windows meet at a shared boundary scrape, never overlap), so
    rates and quantiles are those of the whole span.
    """
    groups: dict[str, list[ServerSeries]] = {}
    for stage in per_stage:
        for key, s in stage.items():
            groups.setdefault(key, []).append(s)
    return {key: _combine(parts) for key, parts in groups.items()}


def _combine(parts: list[ServerSeries]) -> ServerSeries:
    kind = parts[0].kind
    parts = [p for p in parts if p.kind == kind]
    scrapes = sum(p.scrapes for p in parts)
    if len(parts) == 1:
        return parts[0]
    if kind == GAUGE:
        seen = [p for p in parts if p.mean is not None and p.scrapes > 0]
        if not seen:
            return ServerSeries(kind=GAUGE, scrapes=scrapes)
        n = sum(p.scrapes for p in seen)
        weighted = sum((p.mean or 0.0) * p.scrapes for p in seen)
        return ServerSeries(kind=GAUGE, scrapes=scrapes, mean=round6(weighted / n),
                            min=min(p.min for p in seen if p.min is not None),
                            max=max(p.max for p in seen if p.max is not None),
                            last=seen[-1].last)
    windowed = [p for p in parts if p.window_s]
    window = sum(p.window_s or 0.0 for p in windowed)
    if kind == COUNTER:
        inc = sum(p.increase or 0.0 for p in windowed)
        return ServerSeries(kind=COUNTER, scrapes=scrapes, increase=round6(inc) if windowed else None,
                            rate_per_s=round6(inc / window) if window > 0 else None,
                            window_s=round6(window) if windowed else None)
    layouts = {tuple(b for b, _ in p.buckets) for p in windowed}
    if len(layouts) != 1:                       # re-bucketed mid-profile: no common buckets
        return ServerSeries(kind=HISTOGRAM, scrapes=scrapes)
    count = sum(p.count or 0.0 for p in windowed)
    total = sum((p.mean or 0.0) * (p.count or 0.0) for p in windowed)
    buckets = [(b, sum(p.buckets[i][1] for p in windowed))
               for i, (b, _) in enumerate(windowed[0].buckets)]
    return histogram_series(count, total, window, scrapes, buckets)
