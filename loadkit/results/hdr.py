"""Typed facade over the ``hdrhistogram`` package: one configuration everywhere.

Latencies are microseconds, 1 µs .. 1 h, 3 significant digits, so every histogram
loadkit makes can be added to every other exactly. Values above the range are
clamped to the top and counted in ``overflow`` (never dropped); values below 1 µs
are recorded as 1 µs. Bulk recording with numpy keeps the per-request cost low.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT_DIGITS = 3


class LatencyHistogram:
    """An HDR histogram of latencies in microseconds."""

    __slots__ = ("_h", "overflow")

    def __init__(self, _h: HdrHistogram | None = None, overflow: int = 0) -> None:
        self._h = _h if _h is not None else HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
        self.overflow = overflow

    # -- recording -------------------------------------------------------------
    def record(self, latency_us: int, count: int = 1) -> None:
        v = int(latency_us)
        if v < LOWEST_US:
            v = LOWEST_US
        elif v > HIGHEST_US:
            v = HIGHEST_US
            self.overflow += count
        self._h.record_value(v, count)

    def record_many(self, latencies_us: "np.ndarray | Iterable[int]") -> None:
        """Add many values at once: one numpy pass instead of a Python call per value."""
        arr = np.asarray(latencies_us, dtype=np.int64)
        if arr.size == 0:
            return
        over = int(np.count_nonzero(arr > HIGHEST_US))
        self.overflow += over
        arr = np.clip(arr, LOWEST_US, HIGHEST_US)
        values, counts = np.unique(arr, return_counts=True)
        h = self._h
        idx = np.fromiter((h._counts_index_for(int(v)) for v in values), dtype=np.int64,
                          count=values.size)
        # Several distinct values can share an index (same equivalence range).
        uidx, inverse = np.unique(idx, return_inverse=True)
        summed = np.bincount(inverse, weights=counts).astype(np.int64)
        raw = h.counts
        for i, c in zip(uidx.tolist(), summed.tolist()):
            raw[i] += c
        h.total_count += int(arr.size)
        h.min_value = min(h.min_value, int(values[0]))
        h.max_value = max(h.max_value, int(values[-1]))

    def add(self, other: "LatencyHistogram") -> None:
        """Merge ``other`` into this histogram exactly."""
        if other.count:
            self._h.add(other._h)
        self.overflow += other.overflow

    def copy(self) -> "LatencyHistogram":
        c = LatencyHistogram()
        c.add(self)
        return c

    # -- reading ---------------------------------------------------------------
    @property
    def count(self) -> int:
        return int(self._h.get_total_count())

    def percentile_us(self, percentile: float) -> int:
        """Value at ``percentile`` (0-100); 0 when empty."""
        if self.count == 0:
            return 0
        return int(self._h.get_value_at_percentile(percentile))

    @property
    def min_us(self) -> int:
        return int(self._h.get_min_value()) if self.count else 0

    @property
    def max_us(self) -> int:
        return int(self._h.get_max_value()) if self.count else 0

    @property
    def mean_us(self) -> float:
        return float(self._h.get_mean_value()) if self.count else 0.0

    @property
    def stdev_us(self) -> float:
        return float(self._h.get_stddev()) if self.count else 0.0

    def recorded_values(self) -> list[tuple[int, int]]:
        """(value_us, count) for every non-empty bucket, in increasing value."""
        out = []
        for item in self._h.get_recorded_iterator():
            out.append((int(item.value_iterated_to), int(item.count_at_value_iterated_to)))
        return out

    # -- encoding --------------------------------------------------------------
    def encode(self) -> str:
        """HdrHistogram's standard compressed, base64 encoding (``HISTF...``)."""
        return self._h.encode().decode("ascii")

    @classmethod
    def decode(cls, encoded: str, overflow: int = 0) -> "LatencyHistogram":
        h = HdrHistogram.decode(encoded.encode("ascii"))
        out = cls()
        if h.get_total_count():
            out._h.add(h)
        out.overflow = overflow
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LatencyHistogram):
            return NotImplemented
        return self.overflow == other.overflow and self.recorded_values() == other.recorded_values()

    def __repr__(self) -> str:
        return f"LatencyHistogram(count={self.count}, p50={self.percentile_us(50)}us)"
