"""Typed facade over the ``hdrhistogram`` package: one configuration everywhere.

Latencies are microseconds, 1 µs .. 1 h, 3 significant digits, so every histogram
loadkit makes can be added to every other exactly. Values above the range are
clamped to the top and counted in ``overflow`` (never dropped); values below 1 µs
are recorded as 1 µs. Bulk recording with numpy keeps the per-request cost low.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT_DIGITS = 3


@lru_cache(maxsize=1)
def _index_tables() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Per counts-index: (highest equivalent value, median equivalent value).

    Every loadkit histogram has the same configuration, so the tables are built
    once and percentiles, mean and stdev become numpy reductions instead of the
    package's per-bucket Python loops (which cost milliseconds per call).
    """
    h = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
    # The package's own arithmetic, on every index at once (a Python loop over the
    # 23 552 indexes cost ~0.1-0.25 s in every process that reads a percentile):
    # get_value_from_index, then the value's bucket as _get_bucket_index and
    # get_highest_equivalent_value / _hdr_median_equiv_value find it.
    index = np.arange(h.counts_len, dtype=np.int64)
    bucket = (index >> h.sub_bucket_half_count_magnitude) - 1
    sub = (index & (h.sub_bucket_half_count - 1)) + h.sub_bucket_half_count
    sub = np.where(bucket < 0, sub - h.sub_bucket_half_count, sub)
    bucket = np.maximum(bucket, 0)
    value = sub << (bucket + h.unit_magnitude)                 # its lowest equivalent value
    bit_length = np.frexp((value | h.sub_bucket_mask).astype(np.float64))[1].astype(np.int64)
    vbucket = bit_length - h.unit_magnitude - (h.sub_bucket_half_count_magnitude + 1)
    vsub = value >> (vbucket + h.unit_magnitude)
    lowest = vsub << (vbucket + h.unit_magnitude)
    size = np.left_shift(1, h.unit_magnitude + vbucket + (vsub >= h.sub_bucket_count))
    return (lowest + size - 1).astype(np.float64), (lowest + (size >> 1)).astype(np.float64)


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

    def record_many(self, latencies_us: np.ndarray[Any, Any] | Iterable[int]) -> None:
        """Add many latencies exactly as ``record`` would, in one array pass.

        The recorder calls this once a second with every latency of that second:
        a Python call per value (or per *distinct* value: at microsecond
        resolution a second can hold tens of thousands) would cost tens of ms on
        the event loop. Instead HdrHistogram's own index arithmetic (bucket = bit
        length of ``v | sub_bucket_mask`` ...) runs on the whole numpy array and
        the counts land with one ``bincount``. Same clamping and overflow
        counting as ``record``; proven equal to it by tests.
        """
        if not isinstance(latencies_us, (np.ndarray, list, tuple)):
            latencies_us = list(latencies_us)          # a generator: numpy needs a sequence
        arr = np.asarray(latencies_us, dtype=np.int64)
        if arr.size == 0:
            return
        self.overflow += int(np.count_nonzero(arr > HIGHEST_US))
        arr = np.clip(arr, LOWEST_US, HIGHEST_US)
        h = self._h
        # bit_length(v | mask): frexp's exponent, exact for integers below 2**53.
        bit_length = np.frexp((arr | h.sub_bucket_mask).astype(np.float64))[1].astype(np.int64)
        bucket = bit_length - h.unit_magnitude - (h.sub_bucket_half_count_magnitude + 1)
        sub_bucket = arr >> (bucket + h.unit_magnitude)
        index = (((bucket + 1) << h.sub_bucket_half_count_magnitude) + sub_bucket
                 - h.sub_bucket_half_count)
        added = np.bincount(index, minlength=h.counts_len)
        if added.size > h.counts_len:  # cannot happen for clamped values; never write past the end
            raise ValueError("latency outside the histogram's range")
        self._counts()[:] += added.astype(np.uint64)
        h.total_count += int(arr.size)
        h.min_value = min(h.min_value, int(arr.min()))
        h.max_value = max(h.max_value, int(arr.max()))

    def add(self, other: LatencyHistogram) -> None:
        """Merge ``other`` into this histogram exactly."""
        if other.count:
            self._h.add(other._h)
        self.overflow += other.overflow

    def copy(self) -> LatencyHistogram:
        c = LatencyHistogram()
        c.add(self)
        return c

    # -- reading ---------------------------------------------------------------
    @property
    def count(self) -> int:
        return int(self._h.get_total_count())

    def percentile_us(self, percentile: float) -> int:
        """Value at ``percentile`` (0-100), exactly as HdrHistogram defines it; 0 when empty."""
        return self.percentiles_us((percentile,))[0]

    def percentiles_us(self, percentiles: Sequence[float]) -> list[int]:
        """``percentile_us`` of each of ``percentiles``, from one pass over the buckets
        (a summary reads five of them, every stage and profile of every run)."""
        total = self.count
        if total == 0:
            return [0] * len(percentiles)
        # Over the non-empty buckets only: the first bucket to reach the target is one.
        counts = self._counts()
        filled = np.flatnonzero(counts)
        cumulative = np.cumsum(counts[filled])
        highest = _index_tables()[0]
        out = []
        for percentile in percentiles:
            if percentile <= 0:
                out.append(self.min_us)
                continue
            target = max(int(min(percentile, 100.0) * total / 100 + 0.5), 1)
            k = int(np.searchsorted(cumulative, target, side="left"))
            out.append(int(highest[filled[k]]))
        return out

    @property
    def min_us(self) -> int:
        return int(self._h.get_min_value()) if self.count else 0

    @property
    def max_us(self) -> int:
        return int(self._h.get_max_value()) if self.count else 0

    @property
    def mean_us(self) -> float:
        return self.moments_us()[0]

    @property
    def stdev_us(self) -> float:
        return self.moments_us()[1]

    def moments_us(self) -> tuple[float, float]:
        """(mean, standard deviation) as the package computes them: each bucket's count
        at its median equivalent value. (0.0, 0.0) when empty."""
        if not self.count:
            return 0.0, 0.0
        counts, values = self._filled()
        mean = float((counts * values).sum() / self.count)
        dev = values - mean
        return mean, float(np.sqrt((counts * dev * dev).sum() / self.count))

    def _filled(self) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """(count, median equivalent value) of the non-empty buckets only, as floats.

        A run's latencies fill a few hundred of the ~23 500 buckets, so the sums run
        over those. Plain numpy sums, not ``np.dot``: a dot product of the full
        arrays goes to OpenBLAS, whose threads cost 1-20 ms a call on a busy
        2-core machine (measured: mean 5 ms -> 0.25 ms with one BLAS thread), and
        every stage summary asks for both figures.
        """
        counts = self._counts()
        filled = np.flatnonzero(counts)
        return counts[filled].astype(np.float64), _index_tables()[1][filled]

    def _counts(self) -> np.ndarray[Any, Any]:
        """The histogram's counts array as a writable numpy view (no copy)."""
        return np.ctypeslib.as_array(self._h.counts)

    def recorded_values(self) -> list[tuple[int, int]]:
        """(value_us, count) for every non-empty bucket, in increasing value."""
        counts = self._counts()
        nz = np.flatnonzero(counts)
        h = self._h
        return [(int(h.get_highest_equivalent_value(h.get_value_from_index(int(i)))),
                 int(counts[i])) for i in nz]

    # -- encoding --------------------------------------------------------------
    def encode(self) -> str:
        """HdrHistogram's standard compressed, base64 encoding (``HISTF...``)."""
        return str(self._h.encode().decode("ascii"))

    @classmethod
    def decode(cls, encoded: str, overflow: int = 0) -> LatencyHistogram:
        h = HdrHistogram.decode(encoded.encode("ascii"))
        out = cls()
        if h.get_total_count():
            out._h.add(h)
        out.overflow = overflow
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LatencyHistogram):
            return NotImplemented
        return (self.overflow == other.overflow and self.count == other.count
                and bool(np.array_equal(self._counts(), other._counts())))

    def __repr__(self) -> str:
        return f"LatencyHistogram(count={self.count}, p50={self.percentile_us(50)}us)"
