"""The probe chart of a capacity search in the HTML report: offered load against the
binding metric, each probe's 95% interval, the threshold line, the final bracket
shaded. Reads the stored ``SearchAnalysis`` (``search_report`` has the tables); apart
from it because it needs matplotlib, which only the HTML report should import.
"""

from __future__ import annotations

from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from loadkit.reporters._common import fmt_num
from loadkit.reporters.charts import AMBER, GREEN, MUTED, RED, Chart, figure, short, style, to_uri
from loadkit.reporters.search_report import (VERDICT_WORDS, _binding_check, _interval, _load,
                                             search_of)
from loadkit.results.model import ProfileResult

_COLOURS = {"held": GREEN, "broke": RED, "undecided": AMBER, "generator_bound": MUTED}


def probe_chart(key: str, profile: ProfileResult) -> Chart | None:
    """Offered load -> the binding metric per probe, with the threshold and the bracket."""
    a = search_of(profile)
    if a is None or not a.probes:
        return None
    points = [(p, _binding_check(a, p)) for p in a.probes]
    points = [(p, c) for p, c in points if c is not None and c.observed is not None]
    if not points:
        return None
    check0 = points[0][1]
    assert check0 is not None
    metric = check0.metric
    percent = metric in ("error_rate", "slo_attainment")
    scale = 100.0 if percent else 1.0
    ylabel = f"{metric.replace('_', ' ')} (%)" if percent else f"{metric} (ms)"
    xlabel = "offered rate (rps)" if a.model == "open" else "concurrency"
    title = f"{short(profile.name, 40)}: probes, {xlabel} → {metric}"
    with style():
        fig = figure(8.0, 3.4)
        ax = fig.add_subplot()
        lo, hi = a.bracket
        if lo is not None and hi is not None:
            ax.axvspan(lo, hi, color=GREEN if not a.indeterminate else AMBER, alpha=0.15,
                       label=f"bracket {fmt_num(lo)}–{fmt_num(hi)}")
        for n, (p, c) in enumerate(points, 1):
            assert c is not None and c.observed is not None
            y = c.observed * scale
            low = (c.low if c.low is not None else c.observed) * scale
            high = (c.high if c.high is not None else c.observed) * scale
            colour = _COLOURS.get(p.outcome, MUTED)
            ax.errorbar([p.load], [y], yerr=[[max(0.0, y - low)], [max(0.0, high - y)]],
                        fmt="o", color=colour, capsize=2, markersize=5)
            ax.annotate(str(n), (p.load, y), textcoords="offset points",
                        xytext=(4, 4 + 8 * (p.run - 1)), fontsize=7, color=colour)
        threshold = a.threshold if a.threshold is not None else check0.threshold
        ax.axhline(threshold * scale, color=RED, linestyle=(0, (4, 3)), linewidth=1,
                   label=a.binding_rule or check0.expr)
        for outcome, colour in _COLOURS.items():
            if any(p.outcome == outcome for p, _ in points):
                ax.plot([], [], "o", color=colour, label=VERDICT_WORDS[outcome])
        loads = [p.load for p, _ in points]
        if min(loads) > 0 and max(loads) / min(loads) >= 4:
            ax.set_xscale("log", base=2)
            ticks = sorted(set(loads))
            if len(ticks) > 8:     # the growth probes only: bisection crowds the bracket
                first_up = next((i for i, p in enumerate(a.probes) if p.outcome != "held"),
                                len(a.probes) - 1)
                ticks = sorted({p.load for p in a.probes[:first_up + 1]})
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: fmt_num(x)))
            ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ys = [c.observed * scale for _, c in points if c is not None and c.observed]
        if ys and min(ys) > 0 and max(ys) / min(ys) > 20:   # an overload dwarfs the rest
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _p: fmt_num(y)))
        else:
            ax.set_ylim(bottom=0)
        ax.set_title(title, loc="left")
        fig.legend(loc="outside lower center", ncols=6)
        alt = f"{profile.name}: " + "; ".join(
            f"probe {n} at {_load(a, p.load)}: {VERDICT_WORDS.get(p.outcome, p.outcome)}, "
            f"{_interval(c)}" for n, (p, c) in enumerate(points, 1))
        return Chart(key, title, to_uri(fig), alt)
