"""Exposition text -> one ``Snapshot`` of a source's series (pure).

Parsing is prometheus_client's (``text_string_to_metric_families`` for the
Prometheus text format, ``openmetrics.parser`` for OpenMetrics); this module only
decides what a series is called and which kind loadkit summarises it as:

* counter samples (``x_total``), and untyped samples named ``*_total`` -> counter;
  ``*_created`` samples are skipped;
* gauge, other untyped and info samples -> gauge;
* histogram -> one histogram series per label set (``le`` removed), with its
  cumulative buckets, ``_sum`` and ``_count``; a summary's ``_sum``/``_count`` ->
  counters and its quantiles -> gauges (a summary's quantiles cannot be
  aggregated over time, so they are shown as the server reported them);
* gauge histograms and state sets are skipped.

A series key is written as Prometheus writes it: ``name`` or ``name{a="x",b="y"}``
with labels sorted by name, so the same series always has the same key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

__all__ = ["ExpositionError", "Selector", "Snapshot", "series_key", "snapshot"]
from dataclasses import dataclass, field
from typing import Any

from loadkit.results.server import COUNTER, GAUGE, HISTOGRAM, series_key

OPENMETRICS = "application/openmetrics-text"


class ExpositionError(ValueError):
    """The body is not Prometheus or OpenMetrics text (counted as a ``garbage`` scrape)."""


@dataclass(frozen=True)
class Buckets:
    """A histogram series at one scrape: cumulative counts per upper bound (``+Inf`` last)."""

    bounds: tuple[float, ...]
    cumulative: tuple[float, ...]
    sum: float
    count: float


@dataclass
class Snapshot:
    """Every series of one source at one scrape (``t``: unix seconds, mid-request)."""

    t: float
    kinds: dict[str, str] = field(default_factory=dict)      # key -> gauge | counter | histogram
    values: dict[str, float] = field(default_factory=dict)   # gauges and counters
    histograms: dict[str, Buckets] = field(default_factory=dict)
    dropped: int = 0                                          # series beyond max_series

    def __len__(self) -> int:
        return len(self.kinds)


def is_openmetrics(text: str, content_type: str = "") -> bool:
    return OPENMETRICS in content_type.lower() or text.rstrip().endswith("# EOF")


def families(text: str, content_type: str = "") -> list[Any]:
    """prometheus_client's metric families of ``text``; ExpositionError when it is not that.

    Imported here, on the first scrape: a run without ``server_metrics`` never loads it.
    """
    if is_openmetrics(text, content_type):
        from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse
    else:
        from prometheus_client.parser import text_string_to_metric_families as parse
    try:
        return list(parse(text))  # type: ignore[no-untyped-call]
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ExpositionError(str(exc)[:120]) from None


class Selector:
    """Which series a source keeps: ``include`` regexes (full match on the series name or
    the family name), at most ``max_series`` of them, the first ones seen first."""

    def __init__(self, include: Sequence[str] = (), max_series: int = 500) -> None:
        self.patterns = [re.compile(p) for p in include]
        self.max_series = max_series
        self.known: set[str] = set()
        self._names: dict[str, bool] = {}

    def wants(self, name: str) -> bool:
        hit = self._names.get(name)
        if hit is None:
            hit = not self.patterns or any(p.fullmatch(name) for p in self.patterns)
            self._names[name] = hit
        return hit

    def admit(self, key: str) -> bool:
        """True for a key already kept, or a new one while under the bound."""
        if key in self.known:
            return True
        if len(self.known) >= self.max_series:
            return False
        self.known.add(key)
        return True


def snapshot(text: str, t: float, selector: Selector, content_type: str = "") -> Snapshot:
    """The series of one scrape's body that ``selector`` keeps."""
    snap = Snapshot(t=t)
    dropped: set[str] = set()
    for fam in families(text, content_type):
        if fam.type in ("gaugehistogram", "stateset"):
            continue
        if fam.type == "histogram":
            if selector.wants(fam.name):
                for key, buckets in _histograms(fam.name, fam.samples).items():
                    if selector.admit(key):
                        snap.kinds[key] = HISTOGRAM
                        snap.histograms[key] = buckets
                    else:
                        dropped.add(key)
            continue
        for s in fam.samples:
            if s.name.endswith("_created") or not isinstance(s.value, (int, float)):
                continue
            if not (selector.wants(s.name) or selector.wants(fam.name)):
                continue
            value = float(s.value)
            if math.isnan(value):
                continue
            key = series_key(s.name, s.labels)
            if selector.admit(key):
                snap.kinds[key] = _kind(fam.type, s.name)
                snap.values[key] = value
            else:
                dropped.add(key)
    snap.dropped = len(dropped)
    return snap


def _kind(family_type: str, sample: str) -> str:
    if family_type == "counter":
        return COUNTER
    if family_type == "summary" and sample.endswith(("_sum", "_count")):
        return COUNTER
    if family_type == "unknown" and sample.endswith("_total"):
        return COUNTER
    return GAUGE


def _histograms(name: str, samples: Iterable[Any]) -> dict[str, Buckets]:
    """One Buckets per label set of a histogram family (``le`` taken out of the key)."""
    parts: dict[str, dict[str, Any]] = {}
    for s in samples:
        labels = {k: v for k, v in s.labels.items() if k != "le"}
        key = series_key(name, labels)
        part = parts.setdefault(key, {"buckets": [], "sum": 0.0, "count": None})
        if s.name.endswith("_bucket") and "le" in s.labels:
            part["buckets"].append((float(s.labels["le"]), float(s.value)))
        elif s.name.endswith("_sum"):
            part["sum"] = float(s.value)
        elif s.name.endswith("_count"):
            part["count"] = float(s.value)
    out = {}
    for key, part in parts.items():
        buckets = sorted(part["buckets"])
        if not buckets or not math.isinf(buckets[-1][0]):
            continue                       # no +Inf bucket: not a usable histogram
        count = part["count"] if part["count"] is not None else buckets[-1][1]
        out[key] = Buckets(bounds=tuple(b for b, _ in buckets),
                           cumulative=tuple(c for _, c in buckets), sum=part["sum"], count=count)
    return out
