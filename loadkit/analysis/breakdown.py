"""Latency by input: which inputs are slow, from a profile's per-bucket histograms. Pure.

Reads the ``breakdown`` buckets the recorder kept per stage (a profile with
``breakdown: payload_bytes`` or a dataset column) and adds them up over the
measured stages whose buckets share edges (a batch-size sweep gives one group
per batch size, since each batch has its own bodies and quartiles). Each group
gets a table (count, errors, p50, p99 per bucket) and one sentence comparing the
slowest bucket's p99 with the fastest's, e.g. ``slowest inputs: top payload_bytes
quartile (≥ 120 B): p99 410ms vs 95ms for the bottom quartile (≤ 96 B)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from loadkit.results.analysis import BreakdownAnalysis, BreakdownGroup, BucketRow
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import BreakdownBucket, ProfileResult, StageResult
from loadkit.units import format_latency_ms

SAME_RATIO = 1.10    # p99s within 10% of each other: latency does not depend on the input

_QUARTILES = ("bottom", "2nd", "3rd", "top")


def _num(v: float) -> str:
    return f"{v:.4g}" if v != int(v) else f"{int(v)}"


def _position(k: int, n: int) -> tuple[str, str]:
    """(adjective, noun) naming bucket ``k`` of ``n``: ("top", "quartile"), ("lowest", "bucket")."""
    if n == 4:
        return _QUARTILES[k], "quartile"
    if k == 0:
        return "lowest", "bucket"
    if k == n - 1:
        return "highest", "bucket"
    return ("middle" if n == 3 else f"#{k + 1} of {n}"), "bucket"


def _range(b: BucketRow, k: int, n: int, unit: str) -> str:
    lo, hi = b.lo, b.hi
    u = f" {unit}" if unit else ""
    if lo == hi:
        return f"= {_num(lo)}{u}"
    if k == n - 1:
        return f"≥ {_num(lo)}{u}"
    if k == 0:
        return f"≤ {_num(hi)}{u}"
    return f"{_num(lo)}–{_num(hi)}{u}"


def breakdown_line(key: str, unit: str, buckets: Sequence[BucketRow]) -> str:
    """The sentence a user reads: which bucket of inputs is slowest, against the fastest."""
    n = len(buckets)
    seen = [(k, b) for k, b in enumerate(buckets) if b.requests > 0]
    if len(seen) < 2:
        where = f" ({buckets[seen[0][0]].label})" if seen else ""
        return f"latency by {key}: every request fell in one input bucket{where}; nothing to compare"
    ks, slow = max(seen, key=lambda kb: (kb[1].p99_ms, kb[0]))
    kf, fast = min(seen, key=lambda kb: (kb[1].p99_ms, kb[0]))
    if slow.p99_ms <= fast.p99_ms * SAME_RATIO:
        return (f"latency does not depend on {key} here: p99 {format_latency_ms(fast.p99_ms)}"
                f"–{format_latency_ms(slow.p99_ms)} across its {n} buckets")
    adj_s, noun = _position(ks, n)
    adj_f, _ = _position(kf, n)
    return (f"slowest inputs: {adj_s} {key} {noun} ({_range(slow, ks, n, unit)}): "
            f"p99 {format_latency_ms(slow.p99_ms)} vs {format_latency_ms(fast.p99_ms)} "
            f"for the {adj_f} {noun} ({_range(fast, kf, n, unit)})")


def _signature(stage: StageResult) -> tuple[tuple[str, float, float], ...]:
    return tuple((b.key, b.lo, b.hi) for b in stage.breakdown)


def _bucket_rows(stages: Sequence[StageResult]) -> list[BucketRow]:
    rows = []
    for k, first in enumerate(stages[0].breakdown):
        parts: list[BreakdownBucket] = [s.breakdown[k] for s in stages]
        hist = LatencyHistogram()
        for b in parts:
            hist.add(b.hist())
        rows.append(BucketRow(label=first.label, lo=first.lo, hi=first.hi,
                              requests=sum(b.requests for b in parts),
                              errors=sum(b.errors for b in parts),
                              p50_ms=round(hist.percentile_us(50) / 1000.0, 3),
                              p99_ms=round(hist.percentile_us(99) / 1000.0, 3)))
    return rows


def _scope(group: Sequence[StageResult], groups: int) -> str:
    if groups == 1:
        return ""
    batches = {s.batch_size for s in group}
    if len(batches) == 1:
        return f"batch {next(iter(batches))}"
    return "stages " + ", ".join(str(s.index) for s in group)


def analyze_breakdown(profile: ProfileResult) -> BreakdownAnalysis | None:
    """Per-bucket latency over the measured stages and the sentence; None without buckets."""
    measured = [s for s in profile.measured_stages() if s.breakdown]
    if not measured:
        return None
    groups: dict[tuple[tuple[str, float, float], ...], list[StageResult]] = {}
    for s in measured:
        groups.setdefault(_signature(s), []).append(s)
    first = measured[0].breakdown[0]
    out_groups: list[BreakdownGroup] = []
    for stages in groups.values():
        rows = _bucket_rows(stages)
        scope = _scope(stages, len(groups))
        line = breakdown_line(first.key, first.unit, rows)
        out_groups.append(BreakdownGroup(scope=scope, stages=tuple(s.index for s in stages),
                                         buckets=tuple(rows),
                                         line=f"{scope}: {line}" if scope else line))
    return BreakdownAnalysis(key=first.key, unit=first.unit, groups=tuple(out_groups),
                             line="; ".join(g.line for g in out_groups))
