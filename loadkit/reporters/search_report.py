"""How a capacity search reads in every report: its probes table and its probe chart.

Part of the reporters (RunResult -> text): everything here reads the search's stored
analysis (the profile's ``analysis``, a ``SearchAnalysis``) and computes nothing. The text,
Markdown and HTML reports show ``probe_table``; the HTML report adds ``probe_chart``
(offered load against the binding metric, each probe's 95% interval, the threshold
line, the final bracket shaded); JUnit gets ``answer_case`` beside the rules.
"""

from __future__ import annotations

from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from loadkit.reporters._common import errors_cell, fmt_metric, fmt_num
from loadkit.reporters.charts import AMBER, GREEN, MUTED, RED, Chart, figure, short, style, to_uri
from loadkit.results.model import ProfileResult
from loadkit.results.search import ProbeRecord, RuleCheck, SearchAnalysis

VERDICT_WORDS = {"held": "held", "broke": "broke", "undecided": "within noise",
                 "generator_bound": "generator-bound"}
_COLOURS = {"held": GREEN, "broke": RED, "undecided": AMBER, "generator_bound": MUTED}


def search_of(profile: ProfileResult) -> SearchAnalysis | None:
    """The search analysis of ``profile`` (None: not a search, not analysed, or a search
    without its record, which has nothing but a headline)."""
    a = profile.analysis
    return a if isinstance(a, SearchAnalysis) and a.model else None


def _load(a: SearchAnalysis, load: float) -> str:
    return f"{fmt_num(load)} rps" if a.model == "open" else f"c={fmt_num(load)}"


def _binding_check(a: SearchAnalysis, probe: ProbeRecord) -> RuleCheck | None:
    for c in probe.checks:
        if c.expr == a.binding_rule:
            return c
    return probe.checks[0] if probe.checks else None


def _fmt(metric: str, value: float) -> str:
    """A check's value in its unit: a stream's ``ttft_p99`` is in ms as ``p99`` is."""
    if metric == "slo_attainment":
        return f"{fmt_num(value * 100)}%"
    stat = metric.rpartition("_")[2]
    if metric.startswith(("ttft_", "itl_", "tpot_")) and stat in _LATENCY_STATS:
        return f"{fmt_num(value)} ms"
    return fmt_metric(metric, value)


_LATENCY_STATS = frozenset({"p50", "p90", "p95", "p99", "p999", "max", "mean"})


def _interval(check: RuleCheck | None) -> str:
    if check is None or check.observed is None:
        return "no data"
    value = _fmt(check.metric, check.observed)
    if check.low is None or check.high is None or check.low == check.high:
        return value
    return f"{value} [{_fmt(check.metric, check.low)}–{_fmt(check.metric, check.high)}]"


def probe_table(profile: ProfileResult) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """(header, rows): one row per probe run, in run order, with its verdict."""
    a = search_of(profile)
    if a is None:
        return (), []
    metric = a.binding_rule or (a.probes[0].checks[0].expr if a.probes and a.probes[0].checks
                                else "rule")
    header: tuple[str, ...] = ("probe", "load", "run", "verdict", "requests", "rps", "p50 ms", "p99 ms", "errors",
              f"{metric}: observed [95%]")
    by_stage = {s.index: s for s in profile.stages}
    rows: list[tuple[str, ...]] = []
    for n, p in enumerate(a.probes, 1):
        stage = by_stage.get(p.stage)
        errors = errors_cell(stage.errors, stage.requests) if stage is not None else "-"
        rows.append((str(n), _load(a, p.load), str(p.run), VERDICT_WORDS.get(p.outcome, p.outcome),
                     f"{p.requests:,}", fmt_num(p.throughput_rps), fmt_num(p.p50_ms),
                     fmt_num(p.p99_ms), errors, _interval(_binding_check(a, p))))
    return header, rows


def answer_line(a: SearchAnalysis) -> str:
    """The answer in one line for JUnit, its figures exact: the number and its bracket."""
    lo, hi = a.bracket
    bracket = f"{lo if lo is not None else 0:g}–" + (f"{hi:g}" if hi is not None else "not found")
    name = "max_rate_under_sla" if a.model == "open" else "max_concurrency_under_sla"
    answer = f"{a.answer:g}" if a.answer is not None else "none"
    return f"{name} = {answer} (bracket {bracket}, stop: {a.stop})"


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
