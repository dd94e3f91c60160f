"""Latency by input, scenario side: each body's input key and its quartile bucket. Pure.

Where it sits: ``build_payloads`` calls ``input_breakdown`` once per breakdown key
a profile asks for (``breakdown: payload_bytes`` or a dataset column), before
the run, so the engine only looks a body's bucket up. A body's key is:

* ``payload_bytes``: its length in bytes;
* a numeric column: the mean of the column over the rows in that body;
* a text column: the mean string length (``len(COL)``).

Buckets are quartiles of the key over the bodies (bodies are sent round robin,
so over the requests too). Ties stay together, so there are fewer than four
buckets when the key has fewer distinct values; every bucket holds at least one
body. A body with no value for the column (all nulls) is in no bucket.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeGuard

from loadkit.errors import DatasetError
from loadkit.scenario.plan import InputBreakdown

PAYLOAD_BYTES = "payload_bytes"
QUANTILES = 4


def _is_number(v: Any) -> TypeGuard[float]:
    return isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v))


def column_kind(column: str, rows: Sequence[dict[str, Any]], where: str) -> str:
    """``numeric`` or ``text``: what a column's non-null values are; anything else is refused."""
    values = [r.get(column) for r in rows]
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if present and all(_is_number(v) for v in present):
        return "numeric"
    if present and all(isinstance(v, str) for v in present):
        return "text"
    if not present:
        raise DatasetError(f"{where}: column {column!r} has no values to break latency down by")
    raise DatasetError(f"{where}: column {column!r} mixes numbers, text or other values; "
                       "a breakdown needs a numeric or a text column")


def body_keys(key: str, batches: Sequence[Sequence[dict[str, Any]]], bodies: Sequence[bytes],
              where: str = "breakdown") -> tuple[str, str, list[float]]:
    """(measure, unit, per-body keys) for ``key`` over bodies built from ``batches``."""
    if key == PAYLOAD_BYTES:
        return PAYLOAD_BYTES, "B", [float(len(b)) for b in bodies]
    kind = column_kind(key, [r for batch in batches for r in batch], where)
    out: list[float] = []
    for batch in batches:
        values = [r.get(key) for r in batch]
        if kind == "numeric":
            nums = [float(v) for v in values if _is_number(v)]
        else:
            nums = [float(len(v)) for v in values if isinstance(v, str)]
        out.append(sum(nums) / len(nums) if nums else math.nan)
    return (key if kind == "numeric" else f"len({key})"), "", out


def quantile_buckets(keys: Sequence[float], quantiles: int = QUANTILES
                     ) -> tuple[list[int], list[tuple[float, float]]]:
    """Each key's bucket (-1 for NaN) and each bucket's (lowest, highest) key.

    Bucket k starts at the value of rank ``n*k/quantiles`` in sorted order; equal
    starts collapse (ties stay in one bucket), so no bucket is empty.
    """
    known = sorted(k for k in keys if not math.isnan(k))
    if not known:
        return [-1] * len(keys), []
    n = len(known)
    starts = sorted({known[(n * q) // quantiles] for q in range(1, quantiles)} - {known[0]})
    bounds = [known[0], *starts]

    def bucket(v: float) -> int:
        b = 0
        while b + 1 < len(bounds) and v >= bounds[b + 1]:
            b += 1
        return b

    assigned = [-1 if math.isnan(k) else bucket(k) for k in keys]
    ranges = []
    for b in range(len(bounds)):
        members = [k for k, a in zip(keys, assigned, strict=True) if a == b]
        ranges.append((min(members), max(members)))
    return assigned, ranges


def fmt_key(value: float) -> str:
    """A key as people write it: 120, 12.5, 0.0031."""
    return f"{value:.4g}" if value != int(value) else f"{int(value)}"


def bucket_label(measure: str, lo: float, hi: float, unit: str = "") -> str:
    """``payload_bytes 96–120 B``, or ``n_rows 8`` when the bucket holds one value."""
    span = fmt_key(lo) if lo == hi else f"{fmt_key(lo)}–{fmt_key(hi)}"
    return f"{measure} {span}" + (f" {unit}" if unit else "")


def input_breakdown(key: str, batches: Sequence[Sequence[dict[str, Any]]],
                    bodies: Sequence[bytes], where: str = "breakdown") -> InputBreakdown:
    """The InputBreakdown of ``key`` over one PayloadSet's bodies (``batches[i]`` -> ``bodies[i]``).

    ``batches`` may be empty for ``payload_bytes`` (a body without dataset rows).
    """
    if key != PAYLOAD_BYTES and len(batches) != len(bodies):
        raise ValueError("one batch of rows per body is needed for a column breakdown")
    measure, unit, keys = body_keys(key, batches, bodies, where)
    assigned, ranges = quantile_buckets(keys)
    return InputBreakdown(key=key, measure=measure, unit=unit, ranges=tuple(ranges),
                          labels=tuple(bucket_label(measure, lo, hi, unit) for lo, hi in ranges),
                          keys=tuple(keys), buckets=tuple(assigned), bodies=tuple(bodies))
