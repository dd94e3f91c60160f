"""The server's own metrics in the reports (RunResult -> tables, one chart, CSV columns).

Reads only what the result stores: each stage's ``server_metrics``, the profile's
``server_timeseries`` and what analysis wrote in ``analysis.server`` (which
series to chart, which moved most, the sentence about the turning point). The chart
puts the chosen server series under the client's p50/p99 and throughput on one
time axis, with stage boundaries on every panel and the saturation (ramp) or
breaking (stress) step shaded on all of them, so the reader sees the queue climb
where the latency does. The chart is drawn by ``server_chart`` (matplotlib); this
module stays free of it, so the text, Markdown, CSV and JUnit reports (and every
``loadkit`` process that only prints a summary) do not pay its import.
"""

from __future__ import annotations


from loadkit.reporters._common import fmt_num
from loadkit.results.analysis import ServerAnalysis, ServerMove
from loadkit.results.model import LatencySummary, ProfileResult, StageResult

MOVED_HEADER = ("series", "figure", "first step", "last step", "change")


def server_analysis(p: ProfileResult) -> ServerAnalysis:
    """What the analysis said of the server's metrics (empty when it said nothing)."""
    found = p.analysis.server if p.analysis is not None else None
    return found if found is not None else ServerAnalysis()


def server_headline(p: ProfileResult) -> str:
    return server_analysis(p).headline


def _change(m: ServerMove) -> str:
    if m.change is None:
        return "from 0"
    return f"{m.change * 100:+.0f}%"


def moved_rows(p: ProfileResult, limit: int = 5) -> list[list[str]]:
    """The series that moved most between the first and last step, for a table."""
    rows = []
    for m in server_analysis(p).moved[:limit]:
        figure_name = "mean" if m.stat == "mean" else "rate/s"
        rows.append([m.series, figure_name, fmt_num(m.first), fmt_num(m.last), _change(m)])
    return rows


def stage_value(stage: StageResult, key: str) -> str:
    """One cell: a gauge's mean (max), a counter's rate, a histogram's p50 and rate."""
    s = stage.server_metrics.get(key)
    if s is None:
        return "-"
    if s.kind == "gauge":
        return f"{fmt_num(s.mean)} (max {fmt_num(s.max)})"
    if s.kind == "counter":
        return f"{fmt_num(s.rate_per_s)}/s"
    return f"p50 {fmt_num(s.p50)}, {fmt_num(s.rate_per_s)}/s"


def stage_table(p: ProfileResult, limit: int = 12) -> tuple[list[str], list[list[str]]]:
    """Header and rows: the charted and most-moved series, then the others, by stage."""
    a = server_analysis(p)
    stages = [s for s in p.stages if s.server_metrics]
    if not stages:
        return [], []
    keys = list(dict.fromkeys([*a.chart, *(m.series for m in a.moved),
                               *(k for s in stages for k in s.server_metrics)]))
    header = ["series", *(f"step {s.index}" for s in stages)]
    return header, [[k, *(stage_value(s, k) for s in stages)] for k in keys[:limit]]


def csv_columns(p: ProfileResult) -> list[str]:
    """The server series a profile's CSV rows carry (the charted ones, in order)."""
    return list(server_analysis(p).chart)


def as_of(p: ProfileResult, names: list[str]) -> list[dict[str, float]]:
    """For each Interval of ``p``, the latest scraped value of each series at its end."""
    points = sorted(p.server_timeseries, key=lambda pt: pt.t)
    out: list[dict[str, float]] = []
    latest: dict[str, float] = {}
    j = 0
    for iv in p.timeseries:
        end = iv.t + 1.0
        while j < len(points) and points[j].t <= end:
            latest.update({k: v for k, v in points[j].values.items() if k in names})
            j += 1
        out.append(dict(latest))
    return out


def scrape_lines(p: ProfileResult) -> list[str]:
    """Per source: how many scrapes of the profile succeeded, how many failed, how."""
    by_source: dict[str, list[int]] = {}
    kinds: dict[str, dict[str, int]] = {}
    for st in p.stages:
        for sc in st.server_scrapes:
            ok_failed = by_source.setdefault(sc.source, [0, 0])
            ok_failed[0] += sc.ok
            ok_failed[1] += sc.failed
            for k, n in sc.failures.items():
                kinds.setdefault(sc.source, {})[k] = kinds.get(sc.source, {}).get(k, 0) + n
    out = []
    for src, (ok, failed) in by_source.items():
        detail = ", ".join(f"{k} {n}" for k, n in sorted(kinds.get(src, {}).items()))
        out.append(f"{src}: {ok} scrapes ok, {failed} failed" + (f" ({detail})" if detail else ""))
    return out


def timing_line(p: ProfileResult) -> str:
    """Client latency split into time in the server (its Server-Timing) and the rest.

    Means split exactly (the rest is client mean minus server mean: network, proxies,
    queues in front of the server, the client itself); percentiles are shown side by
    side, never subtracted (the slowest client requests need not be the slowest in
    the server).
    """
    from loadkit.results.hdr import LatencyHistogram

    timed = [s for s in p.measured_stages() if s.server_timing_histogram]
    if not timed:
        return ""
    hist = LatencyHistogram()
    for s in timed:
        hist.add(LatencyHistogram.decode(s.server_timing_histogram))
    server = LatencySummary.of(hist)
    client = p.summary.latency_ms
    missing = sum(s.server_timing_missing for s in p.measured_stages())
    share = f" ({server.mean / client.mean * 100:.0f}%)" if client.mean > 0 else ""
    line = (f"time in the server (Server-Timing, {hist.count:,} responses): mean "
            f"{fmt_num(server.mean)} ms of the client's {fmt_num(client.mean)} ms{share}, the "
            f"rest {fmt_num(max(0.0, client.mean - server.mean))} ms (network, proxies, client);"
            f" p50 {fmt_num(server.p50)} vs {fmt_num(client.p50)} ms, p99 {fmt_num(server.p99)}"
            f" vs {fmt_num(client.p99)} ms")
    if missing:
        line += f"; {missing:,} responses carried no usable Server-Timing"
    return line
