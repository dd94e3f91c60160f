"""Latency by input: the sentence a user reads and the per-bucket table, word for word."""

from __future__ import annotations

from dataclasses import replace

from loadkit.analysis.breakdown import analyze_breakdown, breakdown_line
from loadkit.results.analysis import BucketRow
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import BreakdownBucket, LatencySummary
from loadkit.testing import profile, stage


def row(label, lo, hi, requests, p99):
    return BucketRow(label, lo, hi, requests, 0, p99 / 2, p99)


def test_the_slowest_quartile_is_named_against_the_fastest_with_their_ranges():
    q = [row("a", 1, 96, 10, 95.0), row("b", 97, 100, 10, 100.0), row("c", 101, 119, 10, 200.0),
         row("d", 120, 900, 10, 410.0)]
    assert breakdown_line("payload_bytes", "B", q) == (
        "slowest inputs: top payload_bytes quartile (≥ 120 B): p99 410ms vs 95ms for the "
        "bottom quartile (≤ 96 B)")
    q = [row("a", 1, 96, 10, 410.0), row("b", 97, 100, 10, 100.0), row("c", 101, 119.5, 10, 95.0),
         row("d", 120, 900, 10, 100.0)]
    assert breakdown_line("payload_bytes", "B", q) == (
        "slowest inputs: bottom payload_bytes quartile (≤ 96 B): p99 410ms vs 95ms for the "
        "3rd quartile (101–119.5 B)")
    q[0], q[1] = row("a", 1, 96, 10, 95.0), row("b", 97, 100, 10, 410.0)
    assert breakdown_line("payload_bytes", "B", q) == (
        "slowest inputs: 2nd payload_bytes quartile (97–100 B): p99 410ms vs 95ms for the "
        "bottom quartile (≤ 96 B)")


def test_other_bucket_counts_are_named_by_position_and_a_single_value_by_equality():
    three = [row("a", 3, 3, 10, 5.0), row("b", 4, 9, 10, 50.0), row("c", 10, 20, 10, 6.0)]
    assert breakdown_line("len(text)", "", three) == (
        "slowest inputs: middle len(text) bucket (4–9): p99 50ms vs 5ms for the lowest bucket "
        "(= 3)")
    five = [row(str(k), k, k + 0.5, 10, 5.0 + k) for k in range(5)]
    five[1] = row("1", 1, 1.5, 10, 90.0)
    assert breakdown_line("k", "", five) == (
        "slowest inputs: #2 of 5 k bucket (1–1.5): p99 90ms vs 5ms for the lowest bucket (≤ 0.5)")
    five[1], five[4] = row("1", 1, 1.5, 10, 1.0), row("4", 4, 4.5, 10, 90.0)
    assert breakdown_line("k", "", five) == (
        "slowest inputs: highest k bucket (≥ 4): p99 90ms vs 1ms for the #2 of 5 bucket (1–1.5)")


def test_ties_name_the_later_bucket_slowest_and_the_earlier_fastest():
    two = [row("a", 1, 2, 10, 50.0), row("b", 3, 4, 10, 5.0), row("c", 5, 6, 10, 50.0)]
    assert breakdown_line("k", "", two).startswith("slowest inputs: highest k bucket (≥ 5)")
    two = [row("a", 1, 2, 10, 5.0), row("b", 3, 4, 10, 50.0), row("c", 5, 6, 10, 5.0)]
    assert breakdown_line("k", "", two).endswith("for the lowest bucket (≤ 2)")


def test_p99s_within_ten_percent_say_latency_does_not_depend_on_the_input():
    assert breakdown_line("k", "", [row("a", 3, 3, 10, 5.0), row("b", 4, 9, 10, 5.5)]) == (
        "latency does not depend on k here: p99 5ms–5.5ms across its 2 buckets")
    assert breakdown_line("k", "", [row("a", 3, 3, 10, 5.0), row("b", 4, 9, 10, 5.51)]).startswith(
        "slowest inputs: highest k bucket")


def test_requests_in_one_bucket_only_leave_nothing_to_compare():
    assert breakdown_line("k", "", [row("a", 3, 3, 0, 5.0), row("b", 4, 9, 10, 5.5)]) == (
        "latency by k: every request fell in one input bucket (b); nothing to compare")
    assert breakdown_line("k", "", [row("a", 3, 3, 0, 5.0)]) == (
        "latency by k: every request fell in one input bucket; nothing to compare")


def _bucket(label, lo, hi, values_us, errors=0, key="payload_bytes"):
    h = LatencyHistogram()
    h.record_many(values_us)
    return BreakdownBucket(key=key, label=label, lo=lo, hi=hi, requests=len(values_us),
                           errors=errors, latency_ms=LatencySummary.of(h), histogram=h.encode(),
                           unit="B", overflow=h.overflow)


def _with(index, buckets, **kw):
    return replace(stage(index, [1.0], **kw), breakdown=tuple(buckets))


def test_a_profiles_buckets_add_up_over_its_measured_stages():
    small = [1_000] * 99 + [2_000]
    p = profile("t", "throughput", [
        _with(0, [_bucket("s", 1, 10, [50_000] * 5), _bucket("l", 11, 90, [50_000])],
              warmup=True),
        _with(1, [_bucket("s", 1, 10, small, errors=2), _bucket("l", 11, 90, [9_000] * 10)]),
        _with(2, [_bucket("s", 1, 10, small), _bucket("l", 11, 90, [30_000] * 10, errors=1)]),
        stage(3, [1.0]),
    ])
    a = analyze_breakdown(p)
    assert (a.key, a.unit) == ("payload_bytes", "B")
    (g,) = a.groups
    assert (g.scope, g.stages) == ("", (1, 2))
    s, big = g.buckets
    assert (s.label, s.lo, s.hi, s.requests, s.errors, s.p50_ms, s.p99_ms) == (
        "s", 1, 10, 200, 2, 1.0, 1.0)
    assert (big.requests, big.errors, big.p50_ms, big.p99_ms) == (20, 1, 9.007, 30.015)
    assert g.line == a.line == ("slowest inputs: highest payload_bytes bucket (≥ 11 B): p99 "
                                "30ms vs 1ms for the lowest bucket (≤ 10 B)")
    assert analyze_breakdown(profile("t", "throughput", [stage(0, [1.0])])) is None


def test_a_batch_sweep_gets_one_group_per_batch_size_or_per_stage_set():
    def buckets(edge, slow):
        return [_bucket("s", 1, edge, [1_000] * 10), _bucket("l", edge + 1, 90, [slow] * 10)]

    p = profile("t", "throughput", [_with(0, buckets(10, 9_000), batch_size=1),
                                    _with(1, buckets(20, 1_000), batch_size=8),
                                    _with(2, buckets(20, 1_050), batch_size=8)])
    a = analyze_breakdown(p)
    assert [(g.scope, g.stages) for g in a.groups] == [("batch 1", (0,)), ("batch 8", (1, 2))]
    assert a.groups[1].line == ("batch 8: latency does not depend on payload_bytes here: p99 "
                                "1ms–1.05ms across its 2 buckets")
    assert a.line == "; ".join(g.line for g in a.groups)
    assert a.groups[0].line.startswith("batch 1: slowest inputs: highest payload_bytes bucket "
                                       "(≥ 11 B)")
    mixed = profile("t", "throughput", [_with(0, buckets(10, 9_000), batch_size=1),
                                        _with(1, buckets(20, 1_000), batch_size=1),
                                        _with(2, buckets(20, 1_000), batch_size=4)])
    assert [g.scope for g in analyze_breakdown(mixed).groups] == ["batch 1", "stages 1, 2"]


def test_a_bucket_with_one_request_is_compared():
    assert breakdown_line("k", "", [row("a", 1, 2, 1, 5.0), row("b", 3, 4, 1, 50.0)]) == (
        "slowest inputs: highest k bucket (≥ 3): p99 50ms vs 5ms for the lowest bucket (≤ 2)")


def test_analyze_adds_latency_by_input_to_any_kind():
    from loadkit.analysis import analyze

    p = profile("t", "throughput", [_with(0, [_bucket("s", 1, 10, [1_000] * 10),
                                              _bucket("l", 11, 90, [9_000] * 10)])])
    assert analyze(p).breakdown == analyze_breakdown(p) is not None
