"""Charts for the HTML report: matplotlib figures saved as small inline SVG data URIs.

Part of the html reporter (RunResult -> report.html). No pyplot: each chart is a
bare ``matplotlib.figure.Figure`` saved straight to SVG, so no global backend is
switched and rendering works in any process (CI, headless, a thread). Labels are
drawn with math text off, so a ``$`` in a profile name is just a dollar sign.
This module holds the shared plumbing and the run-level charts (latency spectrum,
error breakdown, load curve); ``timecharts`` draws the per-second ones.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from loadkit.reporters._common import fmt_num, stage_load
from loadkit.results.analysis import RampAnalysis, StressAnalysis
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import ProfileResult, RunResult, StageResult

PALETTE = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#0891b2", "#ca8a04", "#db2777",
           "#4b5563")
INK, MUTED, GRID = "#111827", "#6b7280", "#e5e7eb"
RED, AMBER, GREEN = "#dc2626", "#d97706", "#16a34a"

_RC: dict[str, Any] = {
    "svg.fonttype": "none",          # text stays text: smaller files, crisp in any zoom
    "svg.hashsalt": "loadkit",       # stable element ids, so a report renders reproducibly
    "text.parse_math": False,
    "font.family": ["DejaVu Sans"],
    "font.size": 8.5,
    "axes.edgecolor": "#9ca3af",
    "axes.labelcolor": INK,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": GRID,
    "grid.linewidth": 0.6,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "lines.linewidth": 1.4,
}

SPECTRUM_TICKS = ((2, "50%"), (10, "90%"), (100, "99%"), (1_000, "99.9%"),
                  (10_000, "99.99%"), (100_000, "99.999%"))


@dataclass(frozen=True)
class Chart:
    """One rendered chart: a stable key (for tests and anchors), a title and its image."""

    key: str
    title: str
    uri: str
    alt: str


@contextmanager
def style() -> Iterator[None]:
    with matplotlib.rc_context(_RC):  # type: ignore[arg-type]
        yield


def figure(width_in: float = 8.0, height_in: float = 3.1) -> Figure:
    return Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")


def to_uri(fig: Figure) -> str:
    """The figure as a base64 SVG data URI (an <img> cannot run script, a page can)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def short(text: str, width: int = 28) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


# -- latency spectrum -------------------------------------------------------------

def spectrum_points(hist: LatencyHistogram, max_x: float = 100_000.0,
                    n: int = 160) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]] | None:
    """(x = 1/(1-p), latency ms) along a log grid, HdrHistogram-plotter style.

    The grid stops at the resolution the count allows (1/count), so a 1 000-request
    stage is not drawn out to 99.999%.
    """
    values = hist.recorded_values()
    if not values:
        return None
    v = np.array([a for a, _ in values], dtype=float)
    cum = np.cumsum(np.array([c for _, c in values], dtype=float))
    total = cum[-1]
    top = max(2.0, min(max_x, total))
    xs = np.unique(np.concatenate([np.logspace(0, math.log10(top), n),
                                   [x for x, _ in SPECTRUM_TICKS if x <= top]]))
    ranks = (1.0 - 1.0 / xs) * total
    idx = np.clip(np.searchsorted(cum, ranks - 1e-9, side="left"), 0, len(v) - 1)
    ys = v[idx] / 1000.0
    if top >= total:
        ys[-1] = v[-1] / 1000.0     # the full resolution reached: end on the max
    return xs, ys


def spectrum_chart(key: str, title: str,
                   series: Sequence[tuple[str, LatencyHistogram]],
                   colors: Sequence[str] | None = None) -> Chart | None:
    """Latency by percentile, one line per (label, histogram)."""
    drawn = [(label, pts) for label, h in series if (pts := spectrum_points(h)) is not None]
    if not drawn:
        return None
    with style():
        fig = figure()
        ax = fig.add_subplot()
        top = 2.0
        for i, (label, (xs, ys)) in enumerate(drawn):
            c = colors[i] if colors else color(i)
            ax.plot(xs, ys, color=c, label=short(label))
            top = max(top, float(xs[-1]))
        ax.set_xscale("log")
        ax.set_xlim(1, max(top, 10))
        ticks = [(x, t) for x, t in SPECTRUM_TICKS if x <= max(top, 10) * 1.0001]
        ax.xaxis.set_major_locator(FixedLocator([x for x, _ in ticks]))
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda x, _pos: dict(ticks).get(round(x), "")))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("percentile")
        ax.set_ylabel("latency (ms)")
        ax.set_ylim(bottom=0)
        ax.set_title(title, loc="left")
        if len(drawn) > 1 or drawn[0][0]:
            ax.legend(loc="upper left", ncols=1 if len(drawn) < 6 else 2)
        alt = "Latency by percentile: " + "; ".join(
            f"{short(label)} p99 {fmt_num(float(np.interp(100, xs, ys)))} ms"
            for label, (xs, ys) in drawn)
        return Chart(key, title, to_uri(fig), alt)


# -- error breakdown --------------------------------------------------------------

def error_chart(result: RunResult) -> Chart | None:
    """Measured errors by kind, one stacked bar segment per profile."""
    kinds: list[str] = []
    for p in result.profiles:
        for k, n in p.summary.error_kinds.items():
            if n and k not in kinds:
                kinds.append(k)
    if not kinds:
        return None
    kinds.sort(key=lambda k: -sum(p.summary.error_kinds.get(k, 0) for p in result.profiles))
    with style():
        fig = figure(8.0, 0.9 + 0.32 * len(kinds))
        ax = fig.add_subplot()
        left = np.zeros(len(kinds))
        ypos = np.arange(len(kinds))
        for i, p in enumerate(result.profiles):
            counts = np.array([p.summary.error_kinds.get(k, 0) for k in kinds], dtype=float)
            if counts.sum() == 0:
                continue
            ax.barh(ypos, counts, left=left, color=color(i), height=0.6, label=short(p.name))
            left += counts
        for y, total in zip(ypos, left, strict=True):
            ax.text(float(total), float(y), f"  {int(total):,}", va="center", color=INK, fontsize=8)
        ax.set_yticks(ypos, [short(k, 24) for k in kinds])
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.set_xlim(0, left.max() * 1.15)
        ax.set_xlabel("errors (measured stages)")
        ax.set_title("Errors by kind", loc="left")
        ax.legend(loc="lower right")
        alt = "Errors by kind: " + ", ".join(f"{k} {int(n)}" for k, n in zip(kinds, left, strict=True))
        return Chart("errors", "Errors by kind", to_uri(fig), alt)


# -- ramp / stress curve ----------------------------------------------------------

def _load_x(stage: StageResult) -> float | None:
    if stage.rate is not None:
        return float(stage.rate)
    if stage.concurrency is not None:
        return float(stage.concurrency)
    return None


def turning_points(profile: ProfileResult) -> list[tuple[str, str, float]]:
    """(name, colour, load) of each point the analysis named on the load axis: a ramp's
    knee (amber) and the first step that broke its SLA, a stress profile's breaking point."""
    a = profile.analysis
    out: list[tuple[str, str, float]] = []
    if isinstance(a, RampAnalysis):
        if a.knee is not None:
            out.append(("knee", AMBER, float(a.knee.concurrency)))
        if a.first_breaking_step is not None:
            out.append(("first breaking step", RED, float(a.first_breaking_step.concurrency)))
    elif isinstance(a, StressAnalysis) and a.breaking_point is not None:
        out.append(("breaking point", RED, float(a.breaking_point.rate)))
    return out


def _twin_axes() -> tuple[Figure, Any, Any]:
    """A load chart's figure: rps (or rows/s) on the left axis, p99 on the right."""
    fig = figure(8.0, 3.5)
    ax = fig.add_subplot()
    ax2 = ax.twinx()
    ax2.grid(False)
    ax2.spines["right"].set_visible(True)
    return fig, ax, ax2


def batch_chart(key: str, profile: ProfileResult) -> Chart:
    """A batch-size sweep: batch size -> rows/s (its headline) and p99, one point a size."""
    stages = sorted(profile.measured_stages(), key=lambda s: s.batch_size)
    title = f"{short(profile.name, 40)}: batch size → rows/s and p99"
    xs = [float(s.batch_size) for s in stages]
    with style():
        fig, ax, ax2 = _twin_axes()
        ax.plot(xs, [s.rows_per_s for s in stages], "o-", color=PALETTE[0], label="rows/s")
        ax2.plot(xs, [s.latency_ms.p99 for s in stages], "s-", color=PALETTE[1], label="p99 ms")
        if min(xs) > 0 and max(xs) / min(xs) >= 4:
            ax.set_xscale("log", base=2)
        ax.xaxis.set_major_locator(FixedLocator(xs))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: fmt_num(x)))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel(f"batch size (concurrency {stages[0].concurrency})")
        ax.set_ylabel("rows/s", color=PALETTE[0])
        ax2.set_ylabel("p99 (ms)", color=PALETTE[1])
        ax.set_ylim(0, max(s.rows_per_s for s in stages) * 1.25 or 1.0)
        ax2.set_ylim(0, max(s.latency_ms.p99 for s in stages) * 1.25 or 1.0)
        ax.set_title(title, loc="left")
        lines, lines2 = ax.get_legend_handles_labels(), ax2.get_legend_handles_labels()
        fig.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="outside lower center",
                   ncols=2)
        alt = f"{profile.name}: " + "; ".join(
            f"batch {s.batch_size} → {fmt_num(s.rows_per_s)} rows/s, p99 "
            f"{fmt_num(s.latency_ms.p99)} ms" for s in stages)
        return Chart(key, title, to_uri(fig), alt)


def load_curve_chart(key: str, profile: ProfileResult, p99_limit_ms: float | None,
                     rps_floor: float | None) -> Chart | None:
    """Offered load (concurrency or rate) -> achieved rps and p99, per measured step.

    A batch-size sweep is charted by batch size instead; a stress profile's recovery
    stage (its role) is left off the load axis, so its low rate does not squeeze the
    steps, and named in the chart's note; a spike's points are not joined (the rates
    between its base and its peak were never tested).
    """
    measured = profile.measured_stages()
    if profile.kind == "throughput" and len({s.batch_size for s in measured}) > 1:
        return batch_chart(key, profile)
    steps = [(x, s) for s in measured if (x := _load_x(s)) is not None]
    if len(steps) < 2:
        return None
    curve: list[tuple[float, StageResult]] = []
    after: list[tuple[float, StageResult]] = []
    for x, s in steps:
        if s.role == "recovery" or (curve and profile.kind != "spike" and x <= curve[-1][0]):
            after.append((x, s))
        else:
            curve.append((x, s))
    if not curve:
        return None
    if profile.kind == "spike":
        curve.sort(key=lambda xs: xs[0])
    joined = "o" if profile.kind == "spike" else "o-"
    open_model = curve[0][1].rate is not None
    xlabel = "offered rate (rps)" if open_model else "concurrency"
    title = f"{short(profile.name, 40)}: {xlabel} → throughput and p99"
    xs = np.array([x for x, _ in curve])
    with style():
        fig, ax, ax2 = _twin_axes()
        rps = [s.throughput_rps for _, s in curve]
        p99 = [s.latency_ms.p99 for _, s in curve]
        ax.plot(xs, rps, joined, color=PALETTE[0], label="achieved rps")
        if open_model and profile.kind != "spike":
            ax.plot(xs, xs, "--", color=MUTED, linewidth=1, label="offered = achieved")
        ax2.plot(xs, p99, joined.replace("o", "s"), color=PALETTE[1], label="p99 ms")
        if after:
            # off the load axis: a low recovery rate would squeeze every step into a corner
            ax.annotate("after the steps: " + "; ".join(
                f"{stage_load(s)} → {fmt_num(s.throughput_rps)} rps, p99 "
                f"{fmt_num(s.latency_ms.p99)} ms" for _, s in after),
                (0.01, 0.97), xycoords="axes fraction", color=MUTED, fontsize=7.5,
                va="top", ha="left")
        if p99_limit_ms is not None:
            ax2.axhline(p99_limit_ms, color=RED, linestyle=(0, (4, 3)), linewidth=1)
            ax2.annotate(f"SLA p99 < {fmt_num(p99_limit_ms)} ms", (0.99, p99_limit_ms),
                         xycoords=("axes fraction", "data"), color=RED, fontsize=7.5,
                         va="bottom", ha="right")
        if rps_floor is not None:
            ax.axhline(rps_floor, color=RED, linestyle=":", linewidth=1)
        marked: set[float] = set()
        for name, colour, mx in turning_points(profile):
            if mx in marked:
                continue
            marked.add(mx)
            ax.axvline(mx, color=colour, linewidth=1.2, alpha=0.8)
            ax.annotate(f" {name} @ {fmt_num(mx)}",
                        (mx, 1.04 - 0.07 * len(marked)), xycoords=("data", "axes fraction"), color=colour, fontsize=7.5,
                        va="top", ha="left")
        if xs.min() > 0 and xs.max() / xs.min() >= 4:
            ax.set_xscale("log", base=2)
        loads = sorted({x for x, _ in curve})
        if len(loads) <= 12:
            ax.xaxis.set_major_locator(FixedLocator(loads))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: fmt_num(x)))
            ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel(xlabel)
        ax.set_ylabel("achieved rps", color=PALETTE[0])
        ax2.set_ylabel("p99 (ms)", color=PALETTE[1])
        rps_top = max([*rps, rps_floor or 0.0])
        p99_top = max([*p99, p99_limit_ms or 0.0])
        ax.set_ylim(0, (rps_top * 1.25) or 1.0)
        ax2.set_ylim(0, (p99_top * 1.25) or 1.0)
        ax.set_title(title, loc="left")
        lines = ax.get_legend_handles_labels()
        lines2 = ax2.get_legend_handles_labels()
        fig.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="outside lower center",
                   ncols=4)
        alt = f"{profile.name}: " + "; ".join(
            f"{stage_load(s)} → {fmt_num(s.throughput_rps)} rps, p99 {fmt_num(s.latency_ms.p99)} ms"
            for _, s in curve)
        return Chart(key, title, to_uri(fig), alt)
