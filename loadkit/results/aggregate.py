"""Build summaries from stages and merge results of parallel generators, exactly.

Histograms are added bucket by bucket and counts summed, so a merged p99 is the
p99 of the union within HDR precision. Per-second intervals of several generators
are aligned by wall-clock second; their counts add exactly, their percentiles are
combined conservatively (count-weighted for p50-p99, max for max) because only the
summaries, not per-second histograms, are kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from loadkit.results.hdr import LatencyHistogram
from loadkit.results.streams import merge_seconds, merge_stream_fields
from loadkit.results.model import (
    BreakdownBucket,
    GeneratorHealth,
    Interval,
    LatencySummary,
    ProfileResult,
    RunResult,
    StageResult,
    Summary,
)
from loadkit.results.server import ScrapeStats, ServerSeries, combine_series


def merged_histogram(stages: Iterable[StageResult]) -> LatencyHistogram:
    """The stages' successful requests in one histogram."""
    total = LatencyHistogram()
    for s in stages:
        total.add(s.hist())
    return total


def merged_histogram_all(stages: Iterable[StageResult]) -> LatencyHistogram:
    """Every request of the stages (errors included) in one histogram."""
    total = LatencyHistogram()
    for s in stages:
        total.add(s.hist_all())
    return total


def summarize(stages: Sequence[StageResult]) -> Summary:
    """The summary of a profile's measured (non-warm-up) stages."""
    measured = [s for s in stages if not s.warmup]
    if not measured:
        return Summary()
    hist = merged_histogram(measured)
    kinds: Counter[str] = Counter()
    for s in measured:
        kinds.update(s.error_kinds)
    duration = sum(s.duration_s for s in measured)
    ok = sum(s.ok for s in measured)
    rows = sum(s.rows_per_s * s.duration_s for s in measured)
    return Summary(
        requests=sum(s.requests for s in measured),
        ok=ok,
        errors=sum(s.errors for s in measured),
        error_kinds=dict(sorted(kinds.items())),
        late=sum(s.late for s in measured),
        duration_s=round(duration, 3),
        throughput_rps=round(ok / duration, 3) if duration > 0 else 0.0,
        rows_per_s=round(rows / duration, 3) if duration > 0 else 0.0,
        latency_ms=LatencySummary.of(hist),
        **merge_stream_fields(measured, duration, sum(s.requests for s in measured)),
        server_metrics=combine_series(s.server_metrics for s in measured),
        latency_all_ms=LatencySummary.of(merged_histogram_all(measured)),
    )


def _edges(stage: StageResult) -> tuple[tuple[str, float, float], ...]:
    return tuple((b.key, b.lo, b.hi) for b in stage.breakdown)


def breakdown_conflict(parts: Sequence[StageResult]) -> bool:
    """True when the parts' input buckets cannot be merged (different keys or edges)."""
    return len({_edges(s) for s in parts}) > 1


def merge_breakdown(parts: Sequence[StageResult]) -> tuple[BreakdownBucket, ...]:
    """The parts' input buckets added bucket by bucket; none when their edges differ."""
    if not parts or breakdown_conflict(parts) or not parts[0].breakdown:
        return ()
    merged = []
    for k, first in enumerate(parts[0].breakdown):
        hist = LatencyHistogram()
        for s in parts:
            hist.add(s.breakdown[k].hist())
        merged.append(replace(first, requests=sum(s.breakdown[k].requests for s in parts),
                              errors=sum(s.breakdown[k].errors for s in parts),
                              latency_ms=LatencySummary.of(hist), histogram=hist.encode(),
                              overflow=hist.overflow))
    return tuple(merged)


def merge_server_metrics(parts: Sequence[StageResult]
                         ) -> tuple[dict[str, ServerSeries], tuple[ScrapeStats, ...]]:
    """The server figures of one stage seen by several results: never summed.

    Under ``--processes`` only the parent scrapes, so the parts carry none and this
    is a no-op. Results of generators on different machines that each scraped the
    same server saw *one* server whose counters already count every generator's
    load: adding them would double it. So each series is taken whole from the part
    whose scrapes of the stage succeeded most often (the first such part on a tie);
    series only other parts saw are added from the first of them that has them, and
    each source's scrape counts likewise.
    """
    ranked = sorted(parts, key=lambda s: -sum(st.ok for st in s.server_scrapes))
    series: dict[str, ServerSeries] = {}
    stats: dict[str, ScrapeStats] = {}
    for part in ranked:
        for key, value in part.server_metrics.items():
            series.setdefault(key, value)
        for st in part.server_scrapes:
            stats.setdefault(st.source, st)
    return series, tuple(stats.values())


def merge_server_timing(parts: Sequence[StageResult]) -> dict[str, Any]:
    """The parts' Server-Timing histograms added (each request reported once, by one part)."""
    timed = [s for s in parts if s.server_timing_histogram]
    missing = sum(s.server_timing_missing for s in parts)
    if not timed:
        return {"server_timing_missing": missing}
    hist = LatencyHistogram()
    for s in timed:
        hist.add(LatencyHistogram.decode(s.server_timing_histogram))
    return {"server_timing_ms": LatencySummary.of(hist), "server_timing_histogram": hist.encode(),
            "server_timing_missing": missing}


def first_errors(parts: Sequence[StageResult]) -> dict[str, str]:
    """Each error kind's first failure over ``parts``, the earliest part's winning."""
    out: dict[str, str] = {}
    for s in sorted(parts, key=lambda s: s.started_at):
        for kind, detail in s.first_errors.items():
            out.setdefault(kind, detail)
    return dict(sorted(out.items()))


def _merge_stage(parts: Sequence[StageResult]) -> StageResult:
    first = parts[0]
    hist = merged_histogram(parts)
    hist_all = merged_histogram_all(parts)
    kinds: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    for s in parts:
        kinds.update(s.error_kinds)
        codes.update(s.status_codes)
    duration = max(s.duration_s for s in parts)
    ok = sum(s.ok for s in parts)
    rows = sum(s.rows_per_s * s.duration_s for s in parts)
    conc = [s.concurrency for s in parts if s.concurrency is not None]
    rates = [s.rate for s in parts if s.rate is not None]
    stables = [s.stable for s in parts if s.stable is not None]
    server = merge_server_metrics(parts)
    return replace(
        first,
        concurrency=sum(conc) if conc else None,
        rate=round(sum(rates), 6) if rates else None,
        duration_s=duration,
        requests=sum(s.requests for s in parts),
        ok=ok,
        errors=sum(s.errors for s in parts),
        error_kinds=dict(sorted(kinds.items())),
        late=sum(s.late for s in parts),
        throughput_rps=round(ok / duration, 3) if duration > 0 else 0.0,
        rows_per_s=round(rows / duration, 3) if duration > 0 else 0.0,
        latency_ms=LatencySummary.of(hist),
        histogram=hist.encode(),
        overflow=hist.overflow,
        started_at=min(s.started_at for s in parts),
        status_codes=dict(sorted(codes.items())),
        stable=all(stables) if stables else None,
        in_flight_at_end=sum(s.in_flight_at_end for s in parts),
        redirects=sum(s.redirects for s in parts),
        first_errors=first_errors(parts),
        breakdown=merge_breakdown(parts),
        server_metrics=server[0],
        server_scrapes=server[1],
        **merge_server_timing(parts),
        **merge_stream_fields(parts, duration, sum(s.requests for s in parts)),
        latency_all_ms=LatencySummary.of(hist_all),
        histogram_all=hist_all.encode(),
        overflow_all=hist_all.overflow,
    )


def merge_stages(parts: Sequence[StageResult]) -> StageResult:
    """One stage from the same stage run by several generators at once (``--processes``).

    Histograms add exactly; counts, loads (concurrency, rate) and lateness sum; the
    duration is the longest part's, so throughput is the combined rate. Input
    buckets (latency by input) add too when every part has the same edges.
    """
    if not parts:
        raise ValueError("nothing to merge")
    return _merge_stage(parts)


def merge_timeseries(series: Sequence[Sequence[Interval]]) -> tuple[Interval, ...]:
    by_second: dict[float, list[Interval]] = {}
    for ts in series:
        for iv in ts:
            by_second.setdefault(iv.t, []).append(iv)
    if not by_second:
        return ()
    t0 = min(by_second)
    out = []
    for t in sorted(by_second):
        group = by_second[t]
        n = sum(iv.requests for iv in group)

        def wavg(attr: str, group: list[Interval] = group, n: int = n) -> float:
            if n == 0:
                return 0.0
            return round(float(sum(getattr(iv, attr) * iv.requests for iv in group)) / n, 3)

        out.append(Interval(
            t=t,
            elapsed_s=round(t - t0, 3),
            stage=max(iv.stage for iv in group),
            requests=n,
            ok=sum(iv.ok for iv in group),
            errors=sum(iv.errors for iv in group),
            rps=round(sum(iv.rps for iv in group), 3),
            p50_ms=wavg("p50_ms"),
            p90_ms=wavg("p90_ms"),
            p95_ms=wavg("p95_ms"),
            p99_ms=wavg("p99_ms"),
            max_ms=max(iv.max_ms for iv in group),
            **merge_seconds(group),
        ))
    return tuple(out)


def merge_profiles(parts: Sequence[ProfileResult]) -> ProfileResult:
    first = parts[0]
    n_stages = max(len(p.stages) for p in parts)
    stages = []
    for i in range(n_stages):
        group = [p.stages[i] for p in parts if i < len(p.stages)]
        stages.append(_merge_stage(group))
    return replace(
        first,
        stages=tuple(stages),
        summary=summarize(stages),
        timeseries=merge_timeseries([p.timeseries for p in parts]),
        # One server's series, not a sum (see merge_server_metrics): the first part's.
        server_timeseries=next((p.server_timeseries for p in parts if p.server_timeseries), ()),
        analysis=None,                  # judge derives it
        started_at=min(p.started_at for p in parts),
        finished_at=max(p.finished_at for p in parts),
    )


def _sum_known(counts: Sequence[int | None]) -> int | None:
    """The sum, or None (unknown) when any part's transport did not count."""
    return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)


def merge_health(healths: Sequence[GeneratorHealth], *, concurrent: bool) -> GeneratorHealth:
    """One health from several: of generators that ran side by side (``concurrent``,
    CPU shares add up) or of profiles that ran one after another (the busiest counts).
    Lags take the worst, counts add up, any fell-behind makes the whole fall behind."""
    if not healths:
        return GeneratorHealth()
    cpu = [h.cpu_share for h in healths]
    return GeneratorHealth(
        loop_lag_p99_ms=max(h.loop_lag_p99_ms for h in healths),
        loop_lag_max_ms=max(h.loop_lag_max_ms for h in healths),
        schedule_lag_p99_ms=max(h.schedule_lag_p99_ms for h in healths),
        schedule_lag_max_ms=max(h.schedule_lag_max_ms for h in healths),
        late=sum(h.late for h in healths),
        cpu_share=round(sum(cpu), 3) if concurrent else max(cpu),
        max_rss_mb=max(h.max_rss_mb for h in healths),
        fell_behind=any(h.fell_behind for h in healths),
        reasons=tuple(dict.fromkeys(r for h in healths for r in h.reasons)),
        connections_opened=_sum_known([h.connections_opened for h in healths]),
        reconnects=_sum_known([h.reconnects for h in healths]),
        stale_retries=_sum_known([h.stale_retries for h in healths]),
        check_share=max(h.check_share for h in healths),
        check_mean_us=max(h.check_mean_us for h in healths),
        decompressed=sum(h.decompressed for h in healths),
        decompress_mean_us=round(sum(h.decompress_mean_us * h.decompressed for h in healths)
                                 / max(1, sum(h.decompressed for h in healths)), 2),
    )


def _same_run(a: RunResult, b: RunResult) -> bool:
    """Two results of one run: the same start, end and measured histograms."""
    return ((a.started_at, a.finished_at) == (b.started_at, b.finished_at)
            and [s.histogram for p in a.profiles for s in p.stages]
            == [s.histogram for p in b.profiles for s in p.stages])


def merge_problems(results: Sequence[RunResult], names: Sequence[str] = ()) -> list[str]:
    """Why these results must not be added up (empty: they may), one clause each.

    Parallel generators of ONE scenario against ONE target, each its own run: the
    same run twice would double every count; other scenarios, targets or rules
    would add unlike things and judge them as one.
    """
    shown = list(names) or [f"result {i + 1}" for i in range(len(results))]
    out: list[str] = []
    for i, a in enumerate(results):
        for j in range(i + 1, len(results)):
            if _same_run(a, results[j]):
                out.append(f"{shown[i]} and {shown[j]} are the same run (merging it with "
                           "itself would double every count)")
    keys: tuple[tuple[str, Callable[[RunResult], str]], ...] = (
        ("scenarios", lambda r: r.scenario.name), ("targets", lambda r: r.scenario.target))
    for what, key in keys:
        found = list(dict.fromkeys(key(r) for r in results))
        if len(found) > 1:
            out.append(f"the results come from different {what}: {', '.join(found)}")
    rules: dict[str, set[tuple[str, ...]]] = {}
    for r in results:
        for p in r.profiles:
            rules.setdefault(p.name, set()).add(p.sla)
    out += [f"profile {name!r} has different SLA rules in different results"
            for name, found in rules.items() if len(found) > 1]
    return out


def merge_results(results: Sequence[RunResult]) -> RunResult:
    """One RunResult from several generators' results of the same scenario.

    Profiles are matched by name; verdicts, analysis, status and warnings are
    dropped because ``judge`` derives them again from the merged data. A stage whose
    input buckets differ between results keeps none, and a note says so. Server
    metrics are one server's, never summed (``merge_server_metrics``).
    """
    if not results:
        raise ValueError("nothing to merge")
    first = results[0]
    names: list[str] = []
    for r in results:
        for p in r.profiles:
            if p.name not in names:
                names.append(p.name)
    profiles = []
    dropped: list[str] = []
    for name in names:
        parts = [p for r in results for p in r.profiles if p.name == name]
        profiles.append(merge_profiles(parts))
        dropped += [f"{name}: stage {i}: latency-by-input buckets differ between the results "
                    "(other input keys or edges); the merged stage keeps none"
                    for i in range(max(len(p.stages) for p in parts))
                    if breakdown_conflict([p.stages[i] for p in parts if i < len(p.stages)])]
    health = merge_health([r.health for r in results], concurrent=True)
    env = replace(first.environment, processes=sum(r.environment.processes for r in results))
    return replace(
        first,
        started_at=min(r.started_at for r in results),
        finished_at=max(r.finished_at for r in results),
        profiles=tuple(profiles),
        environment=env,
        health=health,
        verdicts=(),
        status=None,
        partial=any(r.partial for r in results),
        warnings=(),
        notes=tuple(dict.fromkeys([*(w for r in results for w in r.notes), *dropped])),
        interrupted=any(r.interrupted for r in results),
        stopped_early=next((r.stopped_early for r in results if r.stopped_early), ""),
    )
