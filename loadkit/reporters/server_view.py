"""The server's own metrics in the reports (RunResult -> tables, one chart, CSV columns).

Reads only what the result stores: each stage's ``server_metrics``, the profile's
``server_timeseries`` and what analysis wrote in ``analysis.server`` (which
series to chart, which moved most, the sentence about the turning point). The chart
puts the chosen server series under the client's p50/p99 and throughput on one
time axis, with stage boundaries on every panel and the saturation (ramp) or
breaking (stress) step shaded on all of them, so the reader sees the queue climb
where the latency does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from loadkit.reporters._common import fmt_num
from loadkit.reporters.charts import AMBER, MUTED, PALETTE, Chart, figure, short, style, to_uri
from loadkit.reporters.timecharts import _markers, _stage_marks, _time_axis, series
from loadkit.results.analysis import RampAnalysis, ServerAnalysis, ServerMove, StressAnalysis
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


def _turning_step(p: ProfileResult) -> tuple[int, str] | None:
    a = p.analysis
    if isinstance(a, RampAnalysis) and a.knee is not None:
        return a.knee.step, "saturation"
    if isinstance(a, StressAnalysis) and a.breaking_point is not None:
        return a.breaking_point.step, "breaking point"
    return None


def server_chart(key: str, p: ProfileResult) -> Chart | None:
    """Client p50/p99 and throughput, then each chosen server series, sharing time."""
    chosen = list(server_analysis(p).chart)
    s = series(p)
    if not chosen or s is None or not p.server_timeseries or not p.timeseries:
        return None
    t0 = p.timeseries[0].t - p.timeseries[0].elapsed_s      # the client series' zero
    title = f"{short(p.name, 40)}: the server beside the client"
    turning = _turning_step(p)
    with style():
        fig = figure(8.0, 2.0 + 1.25 * (len(chosen) + 2))
        axes = fig.subplots(len(chosen) + 2, 1, sharex=True)
        ax_lat, ax_rps = axes[0], axes[1]
        ax_lat.plot(s.elapsed_s, s.p50_ms, color=PALETTE[2], linewidth=1.1, label="p50",
                    **_markers(s))
        ax_lat.plot(s.elapsed_s, s.p99_ms, color=PALETTE[1], linewidth=1.5, label="p99",
                    **_markers(s))
        ax_lat.set_ylabel("client ms")
        ax_lat.set_ylim(bottom=0)
        ax_lat.legend(loc="upper left", ncols=2, fontsize=7)
        ax_lat.set_title(title, loc="left")
        ax_rps.plot(s.elapsed_s, s.rps, color=PALETTE[0], label="rps", **_markers(s))
        ax_rps.set_ylabel("client rps")
        ax_rps.set_ylim(bottom=0)
        for n, name in enumerate(chosen):
            ax = axes[n + 2]
            pts = [(pt.t - t0, pt.values[name]) for pt in p.server_timeseries if name in pt.values]
            if pts:
                xs, ys = np.array(pts, dtype=float).T
                ax.plot(xs, ys, color=PALETTE[(n + 3) % len(PALETTE)], linewidth=1.3,
                        marker="o", markersize=2.5)
                ax.set_ylim(bottom=min(0.0, float(ys.min())), top=max(float(ys.max()) * 1.15, 1e-9))
            ax.set_ylabel(short(name, 26), fontsize=7, rotation=0, ha="right", va="center")
        for n, ax in enumerate(axes):
            _stage_marks(ax, p, s, label=n == 0)
            if turning is not None:
                _shade(ax, p, s, turning[0], turning[1] if n == 0 else None)
        _time_axis(axes[-1], s)
        alt = (f"{p.name}: server series {', '.join(chosen)} beside client p50/p99 and "
               "throughput" + (f"; {turning[1]} at step {turning[0]}" if turning else ""))
        return Chart(key, title, to_uri(fig), alt)


def _shade(ax: Any, p: ProfileResult, s: Any, step: int, label: str | None) -> None:
    where = np.flatnonzero(s.stage == step)
    if not where.size:
        return
    x0 = float(s.elapsed_s[where[0]])
    x1 = float(s.elapsed_s[where[-1]]) + s.bin_s
    ax.axvspan(x0, x1, color=AMBER, alpha=0.12, linewidth=0)
    if label:
        ax.annotate(label, (x0, 0.02), xycoords=("data", "axes fraction"), color=MUTED,
                    fontsize=7, va="bottom")


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
