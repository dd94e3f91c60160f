"""The analysis sentence and per-bucket table of latency by input (synthetic results)."""

from __future__ import annotations

from dataclasses import replace

from loadkit.analysis import analyze, analyze_breakdown, breakdown_line
from loadkit.reporters import html, markdown, text
from loadkit.results.aggregate import summarize
from loadkit.results.analysis import BucketRow
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import (
    BreakdownBucket,
    LatencySummary,
    ProfileResult,
    RunResult,
    ScenarioInfo,
    StageResult,
)


def _bucket(lo: float, hi: float, latencies_us: list[int], key: str = "payload_bytes",
            unit: str = "B", errors: int = 0) -> BreakdownBucket:
    h = LatencyHistogram()
    h.record_many(latencies_us)
    span = f"{lo:g}" if lo == hi else f"{lo:g}–{hi:g}"
    return BreakdownBucket(key=key, label=f"{key} {span}" + (f" {unit}" if unit else ""),
                           lo=lo, hi=hi, requests=len(latencies_us), errors=errors,
                           latency_ms=LatencySummary.of(h), histogram=h.encode(), unit=unit)


def _stage(index: int, buckets: tuple[BreakdownBucket, ...], *, warmup: bool = False,
           batch: int = 1) -> StageResult:
    h = LatencyHistogram()
    for b in buckets:
        h.add(b.hist())
    return StageResult(index=index, label=f"s{index}", concurrency=4, rate=None, warmup=warmup,
                       duration_s=1.0, requests=h.count, ok=h.count, errors=0, error_kinds={},
                       late=0, throughput_rps=float(h.count), rows_per_s=float(h.count),
                       latency_ms=LatencySummary.of(h), histogram=h.encode(), batch_size=batch,
                       breakdown=buckets)


def _profile(*stages: StageResult) -> ProfileResult:
    return ProfileResult(name="by-size", kind="throughput", stages=stages,
                         summary=summarize(stages))


QUARTILES = (_bucket(33, 96, [90_000] * 100), _bucket(97, 119, [100_000] * 100),
             _bucket(120, 300, [200_000] * 100), _bucket(301, 685, [400_000] * 99 + [410_000]))


def test_the_sentence_names_the_slowest_quartile_against_the_fastest() -> None:
    out = analyze_breakdown(_profile(_stage(0, QUARTILES)))
    assert out is not None
    assert out.line == ("slowest inputs: top payload_bytes quartile (≥ 301 B): p99 400ms vs "
                           "90ms for the bottom quartile (≤ 96 B)")
    rows = out.groups[0].buckets
    assert [r.requests for r in rows] == [100, 100, 100, 100]
    assert rows[3].p50_ms == 400.127 and rows[0].p99_ms == 90.047


def test_a_middle_bucket_can_be_the_slowest() -> None:
    buckets = (_bucket(1, 1, [5_000] * 50, key="n_rows", unit=""),
               _bucket(2, 7, [60_000] * 50, key="n_rows", unit=""),
               _bucket(8, 32, [9_000] * 50, key="n_rows", unit=""))
    line = analyze_breakdown(_profile(_stage(0, buckets))).line  # type: ignore[union-attr]
    assert line.startswith("slowest inputs: middle n_rows bucket (2–7): p99 60")
    assert line.endswith("for the lowest bucket (= 1)")


def test_when_every_bucket_has_about_the_same_p99_it_says_latency_does_not_depend_on_it() -> None:
    buckets = tuple(_bucket(k, k, [10_000 + 100 * k] * 50) for k in (1, 2, 3, 4))
    line = analyze_breakdown(_profile(_stage(0, buckets))).line  # type: ignore[union-attr]
    assert line.startswith("latency does not depend on payload_bytes here: p99 10")
    assert line.endswith("across its 4 buckets")


def test_one_bucket_is_nothing_to_compare() -> None:
    line = breakdown_line("payload_bytes", "B", [BucketRow(
        label="payload_bytes 110 B", lo=110.0, hi=110.0, requests=9, errors=0, p50_ms=2.0,
        p99_ms=3.0)])
    assert line == ("latency by payload_bytes: every request fell in one input bucket "
                    "(payload_bytes 110 B); nothing to compare")


def test_measured_stages_add_up_and_warm_up_is_left_out() -> None:
    warm = _stage(0, tuple(_bucket(b.lo, b.hi, [5_000_000] * 10) for b in QUARTILES), warmup=True)
    out = analyze_breakdown(_profile(warm, _stage(1, QUARTILES), _stage(2, QUARTILES)))
    assert out is not None and len(out.groups) == 1
    assert [r.requests for r in out.groups[0].buckets] == [200, 200, 200, 200]
    assert out.groups[0].buckets[3].p99_ms < 1000


def test_stages_with_other_edges_get_their_own_group_named_by_batch() -> None:
    other = tuple(_bucket(b.lo * 8, b.hi * 8, [1_000] * 10) for b in QUARTILES)
    out = analyze_breakdown(_profile(_stage(1, QUARTILES, batch=1), _stage(2, other, batch=8)))
    assert out is not None
    assert [g.scope for g in out.groups] == ["batch 1", "batch 8"]
    assert out.groups[1].line.startswith("batch 8: latency does not depend on")


def test_a_profile_without_buckets_gets_no_breakdown_analysis() -> None:
    plain = replace(_stage(0, QUARTILES), breakdown=())
    assert analyze_breakdown(_profile(plain)) is None
    assert analyze(_profile(plain)).breakdown is None


def _run_result() -> RunResult:
    p = _profile(_stage(0, QUARTILES))
    p = replace(p, name="<b>size</b>", analysis=analyze(p))
    return RunResult(scenario=ScenarioInfo(name="s", target="http://x"), started_at=1.0,
                     finished_at=2.0, profiles=(p,))


def test_every_reporter_shows_the_sentence_and_the_table() -> None:
    result = _run_result()
    line = result.profiles[0].analysis.breakdown.line
    out = text.render(result)
    assert f"by input: {line}" in " ".join(out.split())   # a long sentence wraps, whole
    assert "payload_bytes 301–685 B" in out and "input" in out
    md = markdown.render(result)
    assert "payload\\_bytes quartile (≥ 301 B)" in md
    assert "| payload\\_bytes 33–96 B | 100 | 0 |" in md
    assert "&lt;b&gt;size&lt;/b&gt;" in md and "<b>size</b>" not in md
    page = html.render(result)
    assert "Latency by input" in page and "p99 400ms vs 90ms" in page
    assert "&lt;b&gt;size&lt;/b&gt;" in page and "<b>size</b>" not in page
