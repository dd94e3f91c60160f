"""The HTML report's charts of a streaming endpoint: TTFT / ITL distributions and over time.

Part of the html reporter, beside ``charts`` and ``timecharts`` (whose plumbing
it reuses): per profile, TTFT by percentile, and ITL and TPOT by percentile, from their
HDR histograms; TTFT and ITL p50/p99 per second beside output tokens/s; and, for a
profile with several load steps, goodput and tokens/s against the offered load.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from loadkit.reporters._common import fmt_num, stage_load
from loadkit.reporters.charts import (
    MUTED,
    PALETTE,
    Chart,
    figure,
    short,
    spectrum_chart,
    style,
    to_uri,
)
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import ProfileResult


def _merged(profile: ProfileResult, metric: str) -> LatencyHistogram:
    total = LatencyHistogram()
    for st in profile.measured_stages():
        total.add(st.stream_hist(metric))
    return total


def distribution_charts(i: int, profile: ProfileResult) -> list[Chart | None]:
    """TTFT by percentile, then ITL (every gap) and TPOT by percentile: two charts, since a
    first token takes tens or hundreds of times a gap and one axis would flatten the gaps."""
    ttft = _merged(profile, "ttft")
    gaps = [(name, h) for name, h in (("ITL (every gap)", _merged(profile, "itl")),
                                      ("TPOT", _merged(profile, "tpot"))) if h.count]
    name = short(profile.name, 40)
    return [spectrum_chart(f"stream-ttft-{i}", f"{name}: TTFT by percentile",
                           [("TTFT", ttft)] if ttft.count else []),
            spectrum_chart(f"stream-itl-{i}", f"{name}: ITL and TPOT by percentile", gaps,
                           [PALETTE[1], PALETTE[2]])]


def over_time_chart(key: str, profile: ProfileResult) -> Chart | None:
    """TTFT and ITL p50/p99 per second above output tokens/s."""
    ivs = [iv for iv in profile.timeseries if iv.output_tokens is not None]
    if not ivs:
        return None
    t = np.array([iv.elapsed_s for iv in ivs], dtype=float)

    def col(name: str) -> np.ndarray[Any, Any]:
        return np.array([np.nan if getattr(iv, name) is None else getattr(iv, name)
                         for iv in ivs], dtype=float)

    title = f"{short(profile.name, 40)}: TTFT, ITL and tokens/s per second"
    with style():
        fig = figure(8.0, 4.2)
        ax_ttft, ax_itl, ax_tok = fig.subplots(3, 1, sharex=True, height_ratios=(2, 2, 1.3))
        for ax, stem, label in ((ax_ttft, "ttft", "TTFT (ms)"), (ax_itl, "itl", "ITL (ms)")):
            ax.plot(t, col(f"{stem}_p50_ms"), color=PALETTE[2], label="p50", marker=".")
            ax.plot(t, col(f"{stem}_p99_ms"), color=PALETTE[1], label="p99", marker=".")
            ax.set_ylabel(label)
            ax.set_ylim(bottom=0)
        ax_ttft.legend(loc="lower right", ncols=2, bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2)
        ax_ttft.set_title(title, loc="left")
        spans = np.diff(np.append(t, t[-1] + 1.0))
        tokens = np.array([iv.output_tokens or 0 for iv in ivs], dtype=float)
        ax_tok.bar(t, tokens / np.maximum(spans, 1e-9), width=spans * 0.9, align="edge",
                   color=PALETTE[0], linewidth=0)
        ax_tok.set_ylabel("tokens/s")
        ax_tok.set_xlabel("time (s)")
        peak = float(np.nanmax(col("ttft_p99_ms"))) if np.isfinite(col("ttft_p99_ms")).any() else 0
        alt = f"{profile.name}: TTFT p99 per second up to {fmt_num(peak)} ms"
        return Chart(key, title, to_uri(fig), alt)


def goodput_chart(key: str, profile: ProfileResult) -> Chart | None:
    """Goodput and requests/s against each measured step's load (several steps only)."""
    steps = [st for st in profile.measured_stages() if st.streamed]
    if len(steps) < 2:
        return None
    labels = [stage_load(st) for st in steps]
    x = np.arange(len(steps))
    title = f"{short(profile.name, 40)}: goodput and tokens/s against load"
    with style():
        fig = figure()
        ax = fig.add_subplot()
        ax.plot(x, [st.throughput_rps for st in steps], color=MUTED, linestyle="--",
                marker="o", label="requests/s")
        goodput = [st.goodput_rps for st in steps]
        if all(g is not None for g in goodput):
            ax.plot(x, np.array(goodput, dtype=float), color=PALETTE[2], marker="o",
                    label="goodput (met the SLO)")
        ax.set_ylabel("requests/s")
        ax.set_ylim(bottom=0)
        ax2 = ax.twinx()
        ax2.plot(x, np.array([st.output_tokens_per_s or 0.0 for st in steps], dtype=float),
                 color=PALETTE[0], marker="s", label="output tokens/s")
        ax2.set_ylabel("tokens/s")
        ax2.set_ylim(bottom=0)
        ax2.grid(False)
        ax.set_xticks(x, [short(lb, 14) for lb in labels])
        ax.set_xlabel("load step")
        handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
        ax.legend(handles=handles, loc="upper left", ncols=3)
        ax.set_title(title, loc="left")
        alt = (f"{profile.name}: goodput per step "
               + ", ".join(f"{lb} {fmt_num(st.goodput_rps)}" for lb, st in zip(labels, steps,
                                                                                strict=True)))
        return Chart(key, title, to_uri(fig), alt)


def stream_charts(i: int, profile: ProfileResult) -> list[Chart]:
    """Every streaming chart of a profile (none for a classic endpoint)."""
    if not profile.summary.streamed:
        return []
    made = [*distribution_charts(i, profile), over_time_chart(f"stream-time-{i}", profile),
            goodput_chart(f"goodput-{i}", profile)]
    return [c for c in made if c is not None]
