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
        {"mean", "min", "max", "last", "increase", "rate_per_s", "count", "p50", "p90", "p99"})

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

