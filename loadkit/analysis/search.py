"""Capacity search analysis: the answer, its bracket, the probes and the rule that bound it.

Pure: reads the search profile's probe stages, its per-second windows and its
``SearchRecord`` (the range it searched, the probes the generator could not
drive), judges every probe again (``probe_verdict``) and replays the decisions
(``search_plan``), so the answer ``judge`` derives from a stored or merged result
is the one the run decided on. Returns a ``SearchAnalysis``: the contract's
``max_rate_under_sla`` (or ``max_concurrency_under_sla``), ``bracket``, the probes
in order with their verdicts, the binding rule, the throughput and latency at the
answer, and the headline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from loadkit.analysis.probe_verdict import judge_probe
from loadkit.analysis.search_plan import Decision, Outcome, Probe, decide
from loadkit.results.aggregate import summarize
from loadkit.results.model import ProfileResult, StageResult
from loadkit.results.search import ProbeRecord, RuleCheck, SearchAnalysis, SearchRecord
from loadkit.sla.grammar import Rule
from loadkit.sla.steps import load_of
from loadkit.units import format_latency_ms

WHY_INDETERMINATE = {
    "undecided": "the SLA was within noise of its threshold at {at} after {runs} runs: "
                 "the answer is the bracket",
    "generator_bound": "the generator could not drive {at} ({why}): the answer is a "
                       "lower bound",
    "max_probes": "the probe budget ({n}) ran out before the bracket was within {p}",
    "incomplete": "the search ended before it decided (interrupted)",
}


def probe_stages(profile: ProfileResult) -> list[StageResult]:
    """The probes in run order: the search profile's measured stages."""
    return sorted(profile.measured_stages(), key=lambda s: s.index)


@dataclass(frozen=True)
class _Judged:
    records: list[ProbeRecord]
    probes: list[Probe]
    runs_by_load: dict[float, list[StageResult]]


def probe_record(profile: ProfileResult, runs: Sequence[StageResult], rules: Sequence[Rule],
                 generator_bound: dict[str, str]) -> ProbeRecord:
    """The last of ``runs`` (one load's runs so far, in order) as a ProbeRecord, judged
    on them all pooled with their per-second windows."""
    stage = runs[-1]
    # A run the generator could not drive measured the generator too: never pooled.
    driven = [s for s in runs if str(s.index) not in generator_bound] or [stage]
    indices = {s.index for s in driven}
    windows = [iv for iv in profile.timeseries if iv.stage in indices]
    outcome: Outcome
    outcome, checks = judge_probe(rules, driven, windows)
    why = generator_bound.get(str(stage.index), "")
    if why:
        outcome = "generator_bound"
    pooled = summarize(driven)
    return ProbeRecord(
        stage=stage.index, load=load_of(stage), run=len(runs), outcome=outcome,
        requests=stage.requests, throughput_rps=stage.throughput_rps,
        p50_ms=stage.latency_ms.p50, p99_ms=stage.latency_ms.p99,
        error_rate=round(pooled.error_rate, 6), checks=checks, why=why)


def runs_of_last(stages: Sequence[StageResult]) -> list[StageResult]:
    """The last probe and the runs before it at the same load (a repeated probe)."""
    out: list[StageResult] = []
    for stage in reversed(stages):
        if out and load_of(stage) != load_of(out[0]):
            break
        out.insert(0, stage)
    return out


def judge_probes(profile: ProfileResult, rules: Sequence[Rule],
                 generator_bound: dict[str, str]) -> _Judged:
    """Every probe's outcome, each judged on its load's runs so far, pooled."""
    stages = probe_stages(profile)
    records = [probe_record(profile, runs_of_last(stages[:i + 1]), rules, generator_bound)
               for i in range(len(stages))]
    runs_by_load: dict[float, list[StageResult]] = {}
    for stage in stages:
        runs_by_load.setdefault(load_of(stage), []).append(stage)
    return _Judged(records, [Probe(r.load, r.outcome) for r in records], runs_by_load)


def _fmt_load(load: float | None, open_model: bool) -> str:
    if load is None:
        return "?"
    if not open_model:
        return f"{load:.0f}"
    return f"{load:,.0f}" if load >= 100 else f"{load:.3g}"


def _binding(records: Sequence[ProbeRecord], hi: float | None) -> RuleCheck | None:
    """The rule that broke at the bracket's upper end (the most over its threshold), or,
    when that end is undecided, the rule within noise there."""
    if hi is None:
        return None
    at_hi = [r for r in records if r.load == hi]
    if not at_hi:
        return None
    checks = at_hi[-1].checks
    broken = ([c for c in checks if c.state in ("broke", "no_data")]
              or [c for c in checks if c.state == "undecided"])
    if not broken:
        return None

    def excess(c: RuleCheck) -> float:
        if c.observed is None or c.threshold == 0:
            return float("inf")
        return c.observed / c.threshold

    return max(broken, key=excess)


def _indeterminate(decision: Decision, record: SearchRecord, records: Sequence[ProbeRecord],
                   stop: str) -> str:
    open_model = record.open_model
    unit = " rps" if open_model else ""
    if stop == "undecided" and decision.undecided_at is not None:
        runs = sum(1 for r in records if r.load == decision.undecided_at)
        at = ("c=" if not open_model else "") + _fmt_load(decision.undecided_at, open_model) + unit
        return WHY_INDETERMINATE["undecided"].format(at=at, runs=runs)
    if stop == "generator_bound":
        last = records[-1]
        at = ("c=" if not open_model else "") + _fmt_load(last.load, open_model) + unit
        return WHY_INDETERMINATE["generator_bound"].format(at=at, why=last.why)
    if stop == "max_probes":
        return WHY_INDETERMINATE["max_probes"].format(n=record.space.max_probes,
                                                      p=f"{record.space.precision:.0%}")
    if stop == "incomplete":
        return WHY_INDETERMINATE["incomplete"]
    return ""


def _headline(a: SearchAnalysis, record: SearchRecord, n: int, rule: RuleCheck | None) -> str:
    open_model = record.open_model
    lo, hi = a.bracket

    def load(x: float | None) -> str:
        text = _fmt_load(x, open_model)
        return f"{text} rps" if open_model else f"concurrency {text}"

    span = f"{n} probe{'s' if n != 1 else ''}, {a.duration_s:.0f} s"
    under = f"at {rule.expr}" if rule is not None else "under the SLA"
    stop = a.stop
    if stop == "precision":
        return (f"sustains {load(lo)} {under} (bracket {_fmt_load(lo, open_model)}–"
                f"{_fmt_load(hi, open_model)}, {span})")
    if stop == "max_held":
        return f"sustains at least {load(lo)}, the most searched, under the SLA ({span})"
    if stop == "start_broke":
        seen = ""
        if rule is not None and rule.observed is not None:
            seen = f": {rule.metric} {_value(rule)}"
        return (f"the SLA is not met even at {load(hi)}"
                + (f" ({rule.expr} broken{seen})" if rule is not None else "") + f" ({span})")
    if stop == "generator_bound":
        return f"at least {load(lo)} (generator-bound; {span})" if lo is not None else (
            f"no answer: the generator could not drive the first probe ({span})")
    return (f"indeterminate: between {_fmt_load(lo, open_model) if lo is not None else '0'} and "
            f"{load(hi) if hi is not None else 'the max searched'} ({a.indeterminate}; {span})")


def _value(check: RuleCheck) -> str:
    if check.observed is None:
        return "no data"
    if check.metric == "error_rate":
        return f"{check.observed * 100:.3g}%"
    return format_latency_ms(check.observed)


def analyze_search(profile: ProfileResult, rules: Sequence[Rule]) -> SearchAnalysis:
    """The search's answer, re-derived from its record and probe stages."""
    record = profile.search
    if record is None:
        return SearchAnalysis(headline="no search record: nothing to analyse")
    judged = judge_probes(profile, rules, record.generator_bound)
    decision = decide(record.space, judged.probes)
    stop = decision.stop if decision.done else "incomplete"
    lo, hi = decision.lo, decision.hi
    binding = _binding(judged.records, hi)
    answer_runs = judged.runs_by_load.get(lo, []) if lo is not None else []
    at_answer = summarize(answer_runs) if answer_runs else None
    binding_at_answer = None
    if binding is not None and lo is not None:
        last_at_lo = [r for r in judged.records if r.load == lo][-1]
        binding_at_answer = next((c.observed for c in last_at_lo.checks
                                  if c.expr == binding.expr), None)
    open_model = record.open_model
    analysis = SearchAnalysis(
        model="open" if open_model else "closed",
        unit="rps" if open_model else "concurrency", answer=lo, bracket=(lo, hi),
        stop=stop, indeterminate=_indeterminate(decision, record, judged.records, stop),
        probes=tuple(judged.records),
        binding_rule=binding.expr if binding else None,
        binding_metric=binding.metric if binding else None,
        threshold=binding.threshold if binding else None,
        throughput_rps=at_answer.throughput_rps if at_answer else None,
        p50_ms=at_answer.latency_ms.p50 if at_answer else None,
        p99_ms=at_answer.latency_ms.p99 if at_answer else None,
        binding_observed=binding_at_answer,
        duration_s=round(max(0.0, profile.finished_at - profile.started_at), 3),
        max_rate_under_sla=lo if open_model else None,
        max_concurrency_under_sla=None if open_model else lo)
    return replace(analysis, headline=_headline(analysis, record, len(judged.records), binding))
