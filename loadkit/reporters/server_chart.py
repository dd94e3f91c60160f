"""The server chart of the HTML report: the client's p50/p99 and throughput, then each
server series the analysis chose, on one time axis (see ``server_view`` for the tables).

The saturation (ramp) or breaking (stress) step is shaded on every panel, so the
reader sees the queue climb where the latency does. Kept apart from ``server_view``
because it needs matplotlib, which only the HTML report should import.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from loadkit.reporters.charts import AMBER, MUTED, PALETTE, Chart, figure, short, style, to_uri
from loadkit.reporters.server_view import server_analysis
from loadkit.reporters.timecharts import _markers, _stage_marks, _time_axis, series
from loadkit.results.analysis import RampAnalysis, StressAnalysis
from loadkit.results.model import ProfileResult


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
