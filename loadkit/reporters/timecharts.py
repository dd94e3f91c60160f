"""Per-second charts of one profile for the HTML report: latency and throughput over time.

Reads only the profile's Intervals (one per second). Long runs are binned to at
most ``MAX_POINTS`` points so a report of hours stays small: counts are summed and
percentiles take the bin's maximum, so binning can hide a dip but never a spike.
Stage changes are drawn as thin vertical lines and warm-up as a grey band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from loadkit.reporters._common import fmt_num, stage_load
from loadkit.reporters.charts import (
    GRID,
    INK,
    MUTED,
    PALETTE,
    RED,
    Chart,
    figure,
    short,
    style,
    to_uri,
)
from loadkit.results.model import ProfileResult

MAX_POINTS = 1200


@dataclass(frozen=True)
class Series:
    """A profile's timeseries as arrays, binned to ``bin_s`` seconds per point."""

    elapsed_s: np.ndarray[Any, Any]
    stage: np.ndarray[Any, Any]
    rps: np.ndarray[Any, Any]
    errors_per_s: np.ndarray[Any, Any]
    p50_ms: np.ndarray[Any, Any]
    p95_ms: np.ndarray[Any, Any]
    p99_ms: np.ndarray[Any, Any]
    bin_s: int
    last_s: float = 1.0     # how much of a second the last (unbinned) point covers


def _last_span(profile: ProfileResult) -> float:
    """The wall-clock share of a second the last interval covers: a run rarely ends on a
    whole second, and its last, partial second must not be drawn as a full one."""
    ts = profile.timeseries
    if not ts or not profile.finished_at:
        return 1.0
    return float(min(1.0, max(0.05, profile.finished_at - ts[-1].t)))


def series(profile: ProfileResult, max_points: int = MAX_POINTS) -> Series | None:
    ts = profile.timeseries
    if not ts:
        return None
    el = np.array([iv.elapsed_s for iv in ts], dtype=float)
    stage = np.array([iv.stage for iv in ts], dtype=int)
    rps = np.array([iv.rps for iv in ts], dtype=float)
    err = np.array([iv.errors for iv in ts], dtype=float)
    last = _last_span(profile)
    err[-1] = err[-1] / last        # errors a second, the partial last second included
    pct = {name: np.array([getattr(iv, name) if iv.requests else np.nan for iv in ts],
                          dtype=float) for name in ("p50_ms", "p95_ms", "p99_ms")}
    k = max(1, -(-len(ts) // max_points))
    if k > 1:
        starts = np.arange(0, len(ts), k)

        def binned(a: np.ndarray[Any, Any], how: str) -> np.ndarray[Any, Any]:
            out = getattr(np, how).reduceat(np.nan_to_num(a, nan=-np.inf) if how == "maximum"
                                            else a, starts)
            return np.where(np.isneginf(out), np.nan, out) if how == "maximum" else out

        sizes = np.diff(np.append(starts, len(ts)))
        el, stage = el[starts], np.maximum.reduceat(stage, starts)
        rps = binned(rps, "add") / sizes
        err = binned(err, "add") / sizes
        pct = {name: binned(a, "maximum") for name, a in pct.items()}
    return Series(el, stage, rps, err, pct["p50_ms"], pct["p95_ms"], pct["p99_ms"], k,
                  last if k == 1 else 1.0)


def _markers(s: Series) -> dict[str, Any]:
    """Dots on short series: two or three seconds drawn as bare lines read as slopes."""
    return {"marker": "o", "markersize": 3} if len(s.elapsed_s) <= 30 else {}


def _time_axis(ax: Axes, s: Series) -> None:
    span = float(s.elapsed_s[-1]) if len(s.elapsed_s) else 0.0
    if span >= 120:
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda x, _p: f"{int(x) // 60}:{int(x) % 60:02d}" if x >= 0 else ""))
        ax.set_xlabel("elapsed (min:s)")
    else:
        ax.set_xlabel("elapsed (s)")
    ax.set_xlim(0, max(span + s.bin_s, 1))


def _stage_marks(ax: Axes, profile: ProfileResult, s: Series, label: bool) -> None:
    """A line where each stage starts; warm-up shaded; load labels when they fit."""
    by_index = {st.index: st for st in profile.stages}
    changes = [0] + [i for i in range(1, len(s.stage)) if s.stage[i] != s.stage[i - 1]]
    bounds = changes + [len(s.stage)]
    show_labels = label and 1 < len(changes) <= 12
    for n, start in enumerate(changes):
        x0 = float(s.elapsed_s[start])
        end = bounds[n + 1]
        x1 = float(s.elapsed_s[end]) if end < len(s.stage) else float(s.elapsed_s[-1]) + s.bin_s
        st = by_index.get(int(s.stage[start]))
        if st is not None and st.warmup:
            ax.axvspan(x0, x1, color=GRID, alpha=0.6, linewidth=0)
            if label:
                ax.annotate("warm-up", (x0, 1.0), xycoords=("data", "axes fraction"),
                            color=MUTED, fontsize=7, va="top")
        elif n:
            ax.axvline(x0, color=MUTED, linewidth=0.6, linestyle=":")
        if show_labels and st is not None and not st.warmup:
            ax.annotate(stage_load(st), ((x0 + x1) / 2, 1.0), xycoords=("data", "axes fraction"),
                        color=MUTED, fontsize=7, va="top", ha="center")


def latency_chart(key: str, profile: ProfileResult,
                  thresholds: Sequence[tuple[str, float]]) -> Chart | None:
    """p50 / p95 / p99 per second, with the profile's latency SLA limits as lines."""
    s = series(profile)
    if s is None:
        return None
    title = f"{short(profile.name, 40)}: latency over time"
    with style():
        fig = figure()
        ax = fig.add_subplot()
        per = f" per {s.bin_s} s (max)" if s.bin_s > 1 else " per second"
        for name, arr, c, lw in (("p50", s.p50_ms, PALETTE[2], 1.1),
                                 ("p95", s.p95_ms, PALETTE[0], 1.1),
                                 ("p99", s.p99_ms, PALETTE[1], 1.5)):
            ax.plot(s.elapsed_s, arr, color=c, linewidth=lw, label=name, **_markers(s))
        finite = s.p99_ms[np.isfinite(s.p99_ms)]
        data_top = float(finite.max()) if finite.size else 1.0
        top = data_top * 1.15 or 1.0
        off_chart = []
        for label, limit_ms in thresholds:
            if limit_ms <= data_top * 3:
                ax.axhline(limit_ms, color=RED, linestyle=(0, (4, 3)), linewidth=1)
                ax.annotate(f"SLA {label}", (1.0, limit_ms), xycoords=("axes fraction", "data"),
                            color=RED, fontsize=7.5, va="bottom", ha="right")
                top = max(top, limit_ms * 1.2)
            else:
                off_chart.append(label)
        if off_chart:
            ax.annotate("SLA above the chart: " + ", ".join(off_chart), (0.99, 0.9),
                        xycoords="axes fraction", color=RED, fontsize=7.5, va="top", ha="right")
        _stage_marks(ax, profile, s, label=True)
        ax.set_ylim(0, top)
        ax.set_ylabel("latency (ms)")
        _time_axis(ax, s)
        ax.set_title(title + per, loc="left")
        ax.legend(loc="lower right", ncols=3, bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2)
        alt = (f"{profile.name}: latency per second, p99 up to {fmt_num(data_top)} ms"
               + "".join(f"; SLA {label}" for label, _ in thresholds))
        return Chart(key, title, to_uri(fig), alt)


def throughput_chart(key: str, profile: ProfileResult, rps_floor: float | None) -> Chart | None:
    """Achieved requests/s (and offered rate for open-model stages) above errors/s."""
    s = series(profile)
    if s is None:
        return None
    title = f"{short(profile.name, 40)}: throughput and errors over time"
    with style():
        fig = figure(8.0, 3.4)
        ax, ax_err = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.2))
        ax.plot(s.elapsed_s, s.rps, color=PALETTE[0], label="achieved rps", **_markers(s))
        by_index = {st.index: st for st in profile.stages}
        offered = np.array([by_index[i].rate if i in by_index and by_index[i].rate is not None
                            else np.nan for i in s.stage], dtype=float)
        if np.isfinite(offered).any():
            ax.step(s.elapsed_s, offered, where="post", color=MUTED, linestyle="--",
                    linewidth=1, label="offered rate")
        if rps_floor is not None:
            ax.axhline(rps_floor, color=RED, linestyle=(0, (4, 3)), linewidth=1)
            ax.annotate(f"SLA throughput ≥ {fmt_num(rps_floor)} rps", (1.0, rps_floor),
                        xycoords=("axes fraction", "data"), color=RED, fontsize=7.5,
                        va="bottom", ha="right")
        _stage_marks(ax, profile, s, label=True)
        _stage_marks(ax_err, profile, s, label=False)
        peak = max(float(np.nanmax(s.rps)), float(np.nanmax(offered)) if np.isfinite(offered).any()
                   else 0.0, rps_floor or 0.0)
        ax.set_ylim(0, peak * 1.2 or 1.0)
        ax.set_ylabel("requests/s")
        ax.legend(loc="lower right", ncols=2, bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2)
        ax.set_title(title, loc="left")
        width = np.full(len(s.elapsed_s), s.bin_s * 0.9)
        width[-1] *= s.last_s                 # a partial last second is drawn as partial
        ax_err.bar(s.elapsed_s, s.errors_per_s, width=width, align="edge", color=RED,
                   linewidth=0)
        if s.last_s < 0.95:
            ax.plot(s.elapsed_s[-1:], s.rps[-1:], "o", markerfacecolor="white",
                    markeredgecolor=PALETTE[0], markersize=4)
            ax.annotate(f"last {fmt_num(round(s.last_s, 2))} s", (s.elapsed_s[-1], s.rps[-1]),
                        textcoords="offset points", xytext=(-4, 6), ha="right",
                        color=MUTED, fontsize=7)
        total = sum(iv.errors for iv in profile.timeseries)
        if total == 0:
            ax_err.annotate("no errors", (0.5, 0.5), xycoords="axes fraction", color=MUTED,
                            ha="center", va="center")
            ax_err.set_ylim(0, 1)
        else:
            ax_err.set_ylim(bottom=0)
        ax_err.set_ylabel("errors/s", color=INK)
        _time_axis(ax_err, s)
        alt = (f"{profile.name}: throughput per second, peak {fmt_num(float(np.nanmax(s.rps)))} "
               f"rps; {total} errors")
        return Chart(key, title, to_uri(fig), alt)
