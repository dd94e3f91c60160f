"""Capacity search decisions: which load to probe next, given the probes so far. Pure.

Where it sits: the search runner (``loadkit/search_runner.py``) asks ``decide`` before
every probe and runs what it says as one engine stage; the search analysis
(``analysis/search.py``) asks it again over the stored probes, so a merged or
re-rendered result re-derives the same bracket and the same reason to stop.

The policy, in the order it is applied:

1. A probe whose verdict was within noise of a threshold (``undecided``) is run
   again at the same load, up to ``repeats`` more times (the repeats are judged
   pooled, so each one narrows the interval). Still undecided, the load is
   *unresolved*: it bounds the bracket from above as a broken probe would (the
   SLA could not be shown to hold there), and the search goes on below it. When
   the bracket's upper end is unresolved at the end, the answer is the bracket,
   not a number: the search stops as ``undecided`` (indeterminate).
2. A probe the generator could not drive (``generator_bound``: it fell behind its
   schedule, e.g. starved of CPU by a neighbour for a moment) is run again, up to
   ``repeats`` more times; still generator-bound, it stops the search: the answer
   is "at least" the highest load that held.
3. Growth: until a probe breaks, the load grows by ``factor`` (capped at
   ``max``). The first probe breaking means the SLA is not met even at ``start``;
   ``max`` holding means the answer is "at least max".
4. Bisection: between the highest load that held (``lo``) and the lowest that
   broke or is unresolved (``hi``), the next probe is their geometric mean (relative precision is
   what the user asked for, and halving the bracket's log-width reaches it in the
   fewest probes), until ``hi <= lo * (1 + precision)`` (closed model: until the
   two concurrencies are adjacent).
5. At most ``max_probes`` probe runs in all (repeats included).

Every new probe lies strictly inside the bracket, so held and broken loads never
interleave: ``lo`` only rises and ``hi`` only falls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from loadkit.results.search import Outcome, SearchSpace

Stop = Literal["", "precision", "max_held", "start_broke", "undecided", "generator_bound",
               "max_probes"]

# Stops whose answer is not the number the user asked for: the profile is inconclusive.
INDETERMINATE: frozenset[str] = frozenset({"undecided", "generator_bound", "max_probes"})


__all__ = ["INDETERMINATE", "Decision", "Outcome", "Probe", "SearchSpace", "Stop", "bracket",
           "decide"]


@dataclass(frozen=True)
class Probe:
    """One probe run: its load and the verdict of its load's runs so far, pooled."""

    load: float
    outcome: Outcome


@dataclass(frozen=True)
class Decision:
    """The next load to probe (None: the search is over), the bracket and why it stopped."""

    next_load: float | None
    lo: float | None                 # highest load that held
    hi: float | None                 # lowest load that broke
    stop: Stop = ""
    repeat: bool = False             # the next probe repeats the last load
    undecided_at: float | None = None

    @property
    def done(self) -> bool:
        return self.next_load is None

    @property
    def indeterminate(self) -> bool:
        return self.stop in INDETERMINATE


def _round_load(value: float, lo: float, hi: float | None, integral: bool) -> float:
    """A probe load strictly between ``lo`` and ``hi``: a whole number of workers, or a
    rate rounded to 4 significant digits unless that would land on a bound."""
    if integral:
        return float(round(value))
    digits = max(0, 3 - int(math.floor(math.log10(abs(value))))) if value > 0 else 0
    rounded = round(value, digits)
    if rounded <= lo or (hi is not None and rounded >= hi):
        return value
    return rounded


def _runs_of_last(probes: Sequence[Probe]) -> int:
    last = probes[-1].load
    n = 0
    for p in reversed(probes):
        if p.load != last:
            break
        n += 1
    return n


def bracket(probes: Sequence[Probe]) -> tuple[float | None, float | None, bool]:
    """(highest load that held, lowest that broke or stayed undecided, whether that upper
    end is undecided); the loads are None when no probe did.

    A load counts by its last run's (pooled) outcome: a repeated probe that ended
    up held is held, whatever its first run said.
    """
    final: dict[float, Outcome] = {}
    for p in probes:
        final[p.load] = p.outcome
    upper = [load for load, o in final.items() if o in ("broke", "undecided")]
    hi = min(upper) if upper else None
    held = [load for load, o in final.items() if o == "held" and (hi is None or load < hi)]
    return (max(held) if held else None), hi, hi is not None and final[hi] == "undecided"


def decide(space: SearchSpace, probes: Sequence[Probe]) -> Decision:
    """The next probe load given ``probes`` (in run order), or why the search is over."""
    if not probes:
        return Decision(next_load=space.start, lo=None, hi=None)
    lo, hi, unresolved = bracket(probes)
    last = probes[-1]
    undecided_at = hi if unresolved else None

    def stop(why: Stop) -> Decision:
        return Decision(next_load=None, lo=lo, hi=hi, stop=why, undecided_at=undecided_at)

    if last.outcome == "generator_bound" and _runs_of_last(probes) > space.repeats:
        return stop("generator_bound")
    if last.outcome in ("undecided", "generator_bound") and _runs_of_last(probes) <= space.repeats:
        if len(probes) >= space.max_probes:
            return stop("max_probes")
        return Decision(next_load=last.load, lo=lo, hi=hi, repeat=True, undecided_at=last.load)
    if hi is None:                                  # growing: nothing broke yet
        top = max(p.load for p in probes)
        if top >= space.max:
            return stop("max_held")
        nxt = min(space.max, top * space.factor)
        if space.integral:
            nxt = min(space.max, max(top + 1, float(round(nxt))))
    elif lo is None:                                # the lightest probe broke
        return stop("undecided" if unresolved else "start_broke")
    else:
        if hi <= lo * (1 + space.precision) or (space.integral and hi - lo <= 1):
            return stop("undecided" if unresolved else "precision")
        nxt = _round_load(math.sqrt(lo * hi), lo, hi, space.integral)
        if space.integral and not lo < nxt < hi:
            nxt = lo + 1 if nxt <= lo else hi - 1
    if len(probes) >= space.max_probes:
        return stop("max_probes")
    return Decision(next_load=nxt, lo=lo, hi=hi)


