"""Capacity search values: what a search stores beside its probe stages, and its analysis.

Where it sits: the search runner fills ``SearchRecord`` (the range it was asked to
search and what it measured between probes: the baseline, each drain, the probes
the generator could not drive) into ``ProfileResult.search``; the search analysis
(``analysis/search.py``) derives ``SearchAnalysis`` from that record and the probe
stages alone, so ``judge`` re-derives the same answer from a stored, merged or
re-rendered result. Reporters read the profile's ``analysis`` (a ``SearchAnalysis``)
and compute nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from loadkit.results.analysis.extras import Extras

# A probe's verdict: the SLA held, broke, was within noise of a threshold, or the
# generator could not drive the probe (then nothing is known of the target there).
Outcome = Literal["held", "broke", "undecided", "generator_bound"]


@dataclass(frozen=True)
class SearchSpace:
    """What a search was asked: the load range, the precision and the probe budget.

    The scenario builds it, the search plan decides with it, the result stores it.
    """

    start: float
    max: float
    precision: float = 0.05          # stop when hi <= lo * (1 + precision)
    factor: float = 2.0              # growth per probe until one breaks
    integral: bool = False           # closed model: whole concurrencies
    max_probes: int = 20             # probe runs in all, repeats included
    repeats: int = 2                 # extra runs of a probe within noise of a threshold


@dataclass(frozen=True)
class Drain:
    """The wait after a broken probe: nothing in flight, then lone requests until the
    target's latency is back at its baseline (``settled``) or the bound ran out."""

    after_stage: int             # the broken probe's stage index
    waited_s: float              # settle time measured (0: the first check was at baseline)
    checks: int                  # lone-request checks made
    p50_ms: float                # the last check's median latency
    settled: bool


@dataclass(frozen=True)
class SearchRecord:
    """A search's range and stopping rule, and what was measured between its probes."""

    space: SearchSpace
    stage_duration_s: float = 0.0
    baseline_p50_ms: float | None = None   # lone requests after the warm-up
    drains: tuple[Drain, ...] = ()
    # probe stages the generator could not drive: stage index (as text) -> why
    generator_bound: dict[str, str] = field(default_factory=dict)

    @property
    def open_model(self) -> bool:
        """Rate (requests/s) rather than concurrency."""
        return not self.space.integral


@dataclass(frozen=True)
class RuleCheck:
    """One load-broken rule on one probe (its runs pooled): the value, its confidence
    interval, and whether the interval settles the rule."""

    expr: str
    metric: str
    threshold: float
    observed: float | None
    low: float | None            # 95% interval from the histogram and per-second windows
    high: float | None
    state: str                   # held | broke | undecided | no_data


@dataclass(frozen=True)
class ProbeRecord:
    """One probe run, in run order, with the verdict of its load's runs so far (pooled)."""

    stage: int                   # stage index
    load: float                  # rate (rps) or concurrency
    run: int                     # 1 for a first run, 2.. for repeats at the same load
    outcome: Outcome
    requests: int
    throughput_rps: float
    p50_ms: float
    p99_ms: float
    error_rate: float
    checks: tuple[RuleCheck, ...] = ()
    why: str = ""                # generator_bound: what the generator could not do


@dataclass(frozen=True, kw_only=True)
class SearchAnalysis(Extras):
    """The answer: the highest load that held, the bracket around the truth, and why the
    search stopped (``indeterminate``: the bracket is the answer, not the number).

    ``max_rate_under_sla`` (open model) or ``max_concurrency_under_sla`` (closed) is
    DESIGN.md's name for ``answer``; the other one is None. A profile without a search
    record gets only its headline.
    """

    kind: Literal["search"] = "search"
    model: str = ""              # "open" (rate) | "closed" (concurrency)
    unit: str = ""               # "rps" | "concurrency"
    answer: float | None = None  # highest load that held (None: not even ``start``)
    bracket: tuple[float | None, float | None] = (None, None)
    stop: str = ""               # precision | max_held | start_broke | undecided | ...
    indeterminate: str = ""      # "" or why the answer is a bracket / a lower bound
    probes: tuple[ProbeRecord, ...] = ()
    binding_rule: str | None = None     # the rule that broke at the bracket's upper end
    binding_metric: str | None = None
    threshold: float | None = None
    throughput_rps: float | None = None  # at the answer (its runs pooled)
    p50_ms: float | None = None
    p99_ms: float | None = None
    binding_observed: float | None = None  # the binding metric at the answer
    duration_s: float = 0.0      # wall time of the search, warm-up to last probe
    headline: str = ""
    max_rate_under_sla: float | None = None
    max_concurrency_under_sla: float | None = None

    @property
    def open_model(self) -> bool:
        return self.model == "open"
