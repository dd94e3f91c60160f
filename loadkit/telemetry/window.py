"""Per-stage summaries of scraped series, streamed scrape by scrape (pure, no I/O).

Where it sits: the scraper (``scraper.py``) hands every scrape of a source to its
``SourceLog``; the log feeds the scrape to each stage window it falls in and adds
one point to the profile's server time series. Memory is flat: a window keeps a
few numbers per series (never the scrapes), and a point keeps at most
``POINT_SERIES`` values.

The figures follow Prometheus' own functions so they read the same as a
dashboard: a counter's increase is reset-safe (a drop means the process
restarted and counted the new value from zero, as ``increase()`` assumes), a
histogram's quantiles come from the bucket deltas within the stage with
``histogram_quantile``'s linear interpolation inside a bucket.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from loadkit.results.server import (
    COUNTER,
    GAUGE,
    HISTOGRAM,
    ScrapeStats,
    ServerPoint,
    ServerSeries,
    histogram_quantile,
    histogram_series,
    round6,
)
from loadkit.telemetry.parse import Buckets, Snapshot

POINT_SERIES = 24          # series kept in each time-series point (the first ones seen)
_r = round6
__all__ = ["POINT_SERIES", "SourceLog", "StageWindow", "histogram_quantile"]


def _empty(like: Buckets) -> Buckets:
    return Buckets(bounds=like.bounds, cumulative=(0.0,) * len(like.bounds), sum=0.0, count=0.0)


def counter_delta(prev: float, now: float) -> float:
    """What a counter counted between two scrapes; a drop is a restart from zero."""
    return now - prev if now >= prev else now


def bucket_delta(prev: Buckets, now: Buckets) -> Buckets | None:
    """What a histogram observed between two scrapes (reset-safe); None: its buckets changed."""
    if prev.bounds != now.bounds:
        return None
    if now.count < prev.count or any(n < p for n, p in zip(now.cumulative, prev.cumulative,
                                                            strict=True)):
        return now                         # restarted: everything it holds is new
    return Buckets(bounds=now.bounds,
                   cumulative=tuple(n - p for n, p in zip(now.cumulative, prev.cumulative,
                                                          strict=True)),
                   sum=now.sum - prev.sum, count=now.count - prev.count)


@dataclass
class _Gauge:
    n: int = 0
    total: float = 0.0
    lo: float = math.inf
    hi: float = -math.inf
    last: float = 0.0

    def add(self, v: float) -> None:
        self.n += 1
        self.total += v
        self.lo = min(self.lo, v)
        self.hi = max(self.hi, v)
        self.last = v


def overlap(t0: float, t1: float, start: float, end: float) -> float:
    """Seconds of [t0, t1] that lie within [start, end]."""
    return max(0.0, min(t1, end) - max(t0, start))


@dataclass
class _Counter:
    """A counter's increase within [start, end]: each delta between two scrapes counts
    for the share of its interval inside the stage (Prometheus extrapolates the same
    way to a window's edges), so the figures cover the stage exactly, not the
    slightly shifted span between its first and last scrape."""

    prev_t: float
    prev: float
    n: int = 0
    increase: float = 0.0
    window: float = 0.0

    def add(self, t: float, v: float, start: float, end: float) -> None:
        share = overlap(self.prev_t, t, start, end)
        if t > self.prev_t:
            self.increase += counter_delta(self.prev, v) * share / (t - self.prev_t)
        self.window += share
        self.prev_t, self.prev = t, v
        self.n += 1


@dataclass
class _Histogram:
    """A histogram's bucket deltas within [start, end], shared out as ``_Counter``'s."""

    prev_t: float
    prev: Buckets
    n: int = 0
    delta: list[float] = field(default_factory=list)
    sum: float = 0.0
    count: float = 0.0
    window: float = 0.0

    def add(self, t: float, now: Buckets, start: float, end: float) -> None:
        d = bucket_delta(self.prev, now)
        share = overlap(self.prev_t, t, start, end)
        if d is None:                       # re-bucketed: start again from this scrape
            self.delta, self.sum, self.count, self.window = [], 0.0, 0.0, 0.0
        elif t > self.prev_t:
            f = share / (t - self.prev_t)
            if not self.delta:
                self.delta = [0.0] * len(d.cumulative)
            self.delta = [a + b * f for a, b in zip(self.delta, d.cumulative, strict=True)]
            self.sum += d.sum * f
            self.count += d.count * f
            self.window += share
        self.prev_t, self.prev = t, now
        self.n += 1


class StageWindow:
    """One source's series over one stage: every scrape from the stage's start until the
    first scrape at or after its end (that scrape closes it)."""

    def __init__(self, index: int, start_t: float, source: str,
                 pre: Snapshot | None = None) -> None:
        self.index = index
        self.start_t = start_t
        self.end_t: float | None = None
        self.closed = False
        self.kinds: dict[str, str] = {}
        self.gauges: dict[str, _Gauge] = {}
        self.edge: dict[str, _Gauge] = {}        # gauges at the stage's first scrape
        self.counters: dict[str, _Counter] = {}
        self.histograms: dict[str, _Histogram] = {}
        self.stats = ScrapeStats(source=source)
        self._pre = pre                  # the last scrape before the start: the baseline
        self._failures: dict[str, int] = {}
        self._lost: dict[str, None] = {}
        self._ok = 0
        self._slowest_ms = 0.0
        self._dropped = 0
        self._last_t: float | None = None

    def add(self, snap: Snapshot, took_ms: float) -> None:
        """Fold one scrape in.

        A counter or histogram starts from its value at the last scrape before the
        stage. One that first appears later was created since the previous scrape
        (client libraries create a labelled series at its first increment), so it
        counts from zero there rather than losing what it counted before it was seen.
        """
        pre = self._pre
        born_at = self._last_t if self._last_t is not None else (pre.t if pre else None)
        self._ok += 1
        self._last_t = snap.t
        self._slowest_ms = max(self._slowest_ms, took_ms)
        self._dropped = max(self._dropped, snap.dropped)
        start = self.start_t
        end = self.end_t if self.end_t is not None else math.inf
        for key, kind in snap.kinds.items():
            self.kinds.setdefault(key, kind)
            if kind == GAUGE:
                # A gauge is sampled inside the stage: not by its closing scrape (after
                # the stage: the next one's) nor, when later scrapes come, by the one
                # its start triggered (the handover itself: the last stage's requests
                # draining, this one's workers not yet sending).
                if snap.t > end:
                    pass
                elif self._ok == 1:
                    self.edge.setdefault(key, _Gauge()).add(snap.values[key])
                else:
                    self.gauges.setdefault(key, _Gauge()).add(snap.values[key])
            elif kind == COUNTER:
                c = self.counters.get(key)
                if c is None:
                    if pre is not None and self._ok == 1 and key in pre.values:
                        c = _Counter(prev_t=pre.t, prev=pre.values[key])
                    elif born_at is not None:
                        c = _Counter(prev_t=born_at, prev=0.0)
                    else:
                        c = _Counter(prev_t=snap.t, prev=snap.values[key])
                    self.counters[key] = c
                c.add(snap.t, snap.values[key], start, end)
            else:
                h = self.histograms.get(key)
                now = snap.histograms[key]
                if h is None:
                    if pre is not None and self._ok == 1 and key in pre.histograms:
                        h = _Histogram(prev_t=pre.t, prev=pre.histograms[key])
                    elif born_at is not None:
                        h = _Histogram(prev_t=born_at, prev=_empty(now))
                    else:
                        h = _Histogram(prev_t=snap.t, prev=now)
                    self.histograms[key] = h
                h.add(snap.t, now, start, end)

    def failed(self, kind: str) -> None:
        self._failures[kind] = self._failures.get(kind, 0) + 1

    def lost(self, keys: Sequence[str]) -> None:
        for k in keys:
            self._lost[k] = None

    def scrape_stats(self, uncharted: int = 0) -> ScrapeStats:
        return ScrapeStats(source=self.stats.source, ok=self._ok, uncharted=uncharted,
                           failed=sum(self._failures.values()),
                           failures=dict(sorted(self._failures.items())),
                           lost=tuple(self._lost), dropped=self._dropped,
                           slowest_ms=round(self._slowest_ms, 3))

    def series(self) -> dict[str, ServerSeries]:
        """Each series' figures (a counter or histogram seen by one scrape only has none)."""
        out: dict[str, ServerSeries] = {}
        for key, kind in self.kinds.items():
            if kind == GAUGE:
                g = self.gauges.get(key) or self.edge.get(key)
                if g is None:                   # seen only by the closing scrape
                    continue
                out[key] = ServerSeries(kind=GAUGE, scrapes=g.n, mean=_r(g.total / g.n),
                                        min=_r(g.lo), max=_r(g.hi), last=_r(g.last))
            elif kind == COUNTER:
                c = self.counters[key]
                span = c.window
                out[key] = ServerSeries(
                    kind=COUNTER, scrapes=c.n,
                    increase=_r(c.increase) if span > 0 else None,
                    rate_per_s=_r(c.increase / span) if span > 0 else None,
                    window_s=_r(span) if span > 0 else None)
            else:
                out[key] = _histogram_series(self.histograms[key])
        return out


def _histogram_series(h: _Histogram) -> ServerSeries:
    span = h.window
    if span <= 0 or not h.delta:
        return ServerSeries(kind=HISTOGRAM, scrapes=h.n)
    finite = [(b, c) for b, c in zip(h.prev.bounds, h.delta, strict=True) if not math.isinf(b)]
    return histogram_series(h.count, h.sum, span, h.n, finite)


class SourceLog:
    """Everything one source's scrapes told during one profile: its stage windows and
    its points. Not thread-safe: the scraper's loop alone calls it."""

    def __init__(self, source: str, point_series: int = POINT_SERIES) -> None:
        self.source = source
        self.windows: list[StageWindow] = []
        self.points: list[ServerPoint] = []
        self.point_series = point_series
        self.charted: dict[str, None] = {}
        self.uncharted = 0                       # series left out of the points (the bound)
        self.t0: float | None = None
        self._stage = 0
        self._prev: Snapshot | None = None
        self._seen: set[str] = set()

    # -- stage boundaries --------------------------------------------------------------
    def begin(self, index: int, t: float) -> None:
        if self.t0 is None:
            self.t0 = t
        pre = self._prev if self._prev is not None and self._prev.t <= t else None
        self.windows.append(StageWindow(index, t, self.source, pre))
        self._stage = index

    def end(self, index: int, t: float) -> None:
        for w in self.windows:
            if w.index == index and w.end_t is None:
                w.end_t = t

    def open_windows(self) -> bool:
        return any(not w.closed for w in self.windows)

    def _live(self, t: float) -> list[StageWindow]:
        return [w for w in self.windows if not w.closed and t >= w.start_t]

    def _close(self, t: float) -> None:
        for w in self.windows:
            if w.end_t is not None and t >= w.end_t:
                w.closed = True

    # -- scrapes -----------------------------------------------------------------------
    def scraped(self, snap: Snapshot, took_ms: float) -> None:
        """A successful scrape taken (sent) at ``snap.t``."""
        lost = sorted(self._seen - snap.kinds.keys())
        self._seen.update(snap.kinds)
        for w in self._live(snap.t):
            w.add(snap, took_ms)
            if lost:
                w.lost(lost)
        self._seen.difference_update(lost)
        self._point(snap)
        self._close(snap.t)

    def failed(self, kind: str, t: float) -> None:
        """A scrape sent at ``t`` that failed (``timeout``, ``connect``, ``http_503``, ...)."""
        for w in self._live(t):
            w.failed(kind)
        self._close(t)

    def _point(self, snap: Snapshot) -> None:
        prev, self._prev = self._prev, snap
        values: dict[str, float] = {}
        for key, kind in snap.kinds.items():
            if key not in self.charted:
                if len(self.charted) >= self.point_series:
                    self.uncharted = max(self.uncharted, len(snap.kinds) - len(self.charted))
                    continue
                self.charted[key] = None
            v = _point_value(kind, key, snap, prev)
            if v is not None:
                values[key] = _r(v)
        t0 = self.t0 if self.t0 is not None else snap.t
        self.points.append(ServerPoint(t=round(snap.t, 3), elapsed_s=round(snap.t - t0, 3),
                                       stage=self._stage, values=values))

    # -- results -----------------------------------------------------------------------
    def stage(self, index: int) -> tuple[dict[str, ServerSeries], ScrapeStats | None]:
        """The figures and scrape counts of stage ``index`` (empty when it never began)."""
        w = next((w for w in self.windows if w.index == index), None)
        if w is None:
            return {}, None
        return w.series(), w.scrape_stats(self.uncharted)


def _point_value(kind: str, key: str, snap: Snapshot, prev: Snapshot | None) -> float | None:
    """A gauge's value; a counter's rate since the previous scrape; a histogram's mean
    observation since then. None where the previous scrape cannot tell."""
    if kind == GAUGE:
        return snap.values[key]
    if prev is None or prev.kinds.get(key) != kind or snap.t <= prev.t:
        return None
    if kind == COUNTER:
        return counter_delta(prev.values[key], snap.values[key]) / (snap.t - prev.t)
    d = bucket_delta(prev.histograms[key], snap.histograms[key])
    if d is None or d.count <= 0:
        return None
    return d.sum / d.count
