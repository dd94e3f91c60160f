"""How a capacity search reads in every report: its probes table and its probe chart.

Part of the reporters (RunResult -> text): everything here reads the search's stored
analysis (the profile's ``analysis``, a ``SearchAnalysis``) and computes nothing. The text,
Markdown and HTML reports show ``probe_table``; the HTML report adds the probe chart
(``probe_chart``, a module of its own: matplotlib is for the HTML report alone);
JUnit gets ``answer_case`` beside the rules.
"""

from __future__ import annotations

from loadkit.reporters._common import errors_cell, fmt_metric, fmt_num
from loadkit.results.model import ProfileResult
from loadkit.results.search import ProbeRecord, RuleCheck, SearchAnalysis

VERDICT_WORDS = {"held": "held", "broke": "broke", "undecided": "within noise",
                 "generator_bound": "generator-bound"}


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
