"""The capacity search's decisions against a scripted target whose capacity is known
exactly: a probe holds when its load is at most the capacity, else it breaks. No
network; the probe sequences and counts are exact."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadkit.analysis.search_plan import Decision, Outcome, Probe, SearchSpace, bracket, decide

Target = Callable[[float, int], Outcome]


def capacity(c: float) -> Target:
    return lambda load, run: "held" if load <= c else "broke"


def search(space: SearchSpace, target: Target) -> tuple[list[Probe], Decision]:
    """Run the search against ``target(load, run_of_that_load)`` until it stops."""
    probes: list[Probe] = []
    while True:
        d = decide(space, probes)
        if d.done:
            return probes, d
        assert d.next_load is not None
        run = sum(1 for p in probes if p.load == d.next_load)
        probes.append(Probe(d.next_load, target(d.next_load, run)))
        assert len(probes) <= 200, "the search does not end"


RATE = SearchSpace(start=50, max=5000, precision=0.05)


def test_open_model_search_grows_by_doubling_then_bisects_geometrically() -> None:
    probes, d = search(RATE, capacity(812))
    assert [p.load for p in probes] == [50, 100, 200, 400, 800, 1600, 1131, 951.2, 872.3,
                                        835.4]
    assert [p.outcome for p in probes] == ["held"] * 5 + ["broke"] * 5
    assert (d.lo, d.hi, d.stop) == (800, 835.4, "precision")   # 835.4 <= 800 x 1.05
    assert not d.indeterminate


def test_closed_model_search_ends_on_adjacent_concurrencies() -> None:
    space = SearchSpace(start=1, max=1024, precision=0.05, integral=True)
    probes, d = search(space, capacity(37))
    assert [p.load for p in probes] == [1, 2, 4, 8, 16, 32, 64, 45, 38, 35, 36, 37]
    assert (d.lo, d.hi, d.stop) == (37, 38, "precision")


def test_max_holding_answers_at_least_max() -> None:
    probes, d = search(SearchSpace(start=100, max=500), capacity(10_000))
    assert [p.load for p in probes] == [100, 200, 400, 500]
    assert (d.lo, d.hi, d.stop) == (500, None, "max_held")


def test_start_breaking_stops_after_one_probe() -> None:
    probes, d = search(RATE, capacity(10))
    assert [p.load for p in probes] == [50]
    assert (d.lo, d.hi, d.stop) == (None, 50, "start_broke")


def test_a_probe_within_noise_is_repeated_then_decided_by_its_pooled_runs() -> None:
    # The 800 rps probe is undecided on its first run and held on the pooled second.
    def noisy(load: float, run: int) -> Outcome:
        if load == 800 and run == 0:
            return "undecided"
        return capacity(812)(load, run)

    probes, d = search(RATE, noisy)
    assert [p.load for p in probes][:7] == [50, 100, 200, 400, 800, 800, 1600]
    assert len(probes) == 11 and (d.lo, d.stop) == (800, "precision")


def test_a_probe_still_within_noise_after_its_repeats_bounds_the_bracket_unresolved() -> None:
    # Between 900 and 1000 rps the verdict is noise. 951.2 stays undecided after its
    # two repeats, so it caps the bracket as a broken probe would; the search goes on
    # below it, and ends with an undecided upper end: the answer is the bracket.
    def noisy(load: float, run: int) -> Outcome:
        return "undecided" if 900 <= load <= 1000 else capacity(950)(load, run)

    probes, d = search(SearchSpace(start=50, max=5000, repeats=2), noisy)
    assert [p.load for p in probes] == [50, 100, 200, 400, 800, 1600, 1131, 951.2, 951.2,
                                        951.2, 872.3, 910.9, 910.9, 910.9]
    assert (d.lo, d.hi, d.stop, d.undecided_at) == (872.3, 910.9, "undecided", 910.9)
    assert d.indeterminate


def test_noise_at_the_first_probe_is_an_undecided_answer_below_start() -> None:
    probes, d = search(SearchSpace(start=50, max=5000, repeats=1), lambda load, run: "undecided")
    assert [p.load for p in probes] == [50, 50]
    assert (d.lo, d.hi, d.stop) == (None, 50, "undecided") and d.indeterminate


def test_a_generator_bound_probe_is_retried_then_stops_the_search_at_the_last_held_load(
        ) -> None:
    def weak_generator(load: float, run: int) -> Outcome:
        return "generator_bound" if load > 300 else "held"

    probes, d = search(RATE, weak_generator)
    assert [p.load for p in probes] == [50, 100, 200, 400, 400, 400]     # two repeats first
    assert (d.lo, d.hi, d.stop) == (200, None, "generator_bound") and d.indeterminate


def test_the_probe_budget_ends_a_search_that_cannot_reach_its_precision() -> None:
    probes, d = search(SearchSpace(start=1, max=1e6, precision=0.001, max_probes=14),
                       capacity(777))
    assert len(probes) == 14 and d.stop == "max_probes" and d.indeterminate
    assert d.lo is not None and d.hi is not None and d.lo <= 777 < d.hi


def test_bracket_counts_a_repeated_load_by_its_last_pooled_verdict() -> None:
    probes = [Probe(100, "held"), Probe(200, "undecided"), Probe(200, "broke")]
    assert bracket(probes) == (100, 200, False)
    assert bracket([Probe(100, "held"), Probe(200, "undecided")]) == (100, 200, True)


@settings(max_examples=300, deadline=None)
@given(start=st.floats(1, 1000), span=st.floats(1, 1000), where=st.floats(0, 1),
       precision=st.sampled_from([0.01, 0.02, 0.05, 0.1, 0.2, 0.5]),
       factor=st.sampled_from([1.5, 2.0, 3.0]))
def test_the_bracket_always_holds_the_true_capacity_within_the_precision(
        start: float, span: float, where: float, precision: float, factor: float) -> None:
    top = start * span
    c = start * span ** where                       # somewhere in [start, max]
    space = SearchSpace(start=start, max=top, precision=precision, factor=factor,
                        max_probes=1000)
    probes, d = search(space, capacity(c))
    if d.stop == "max_held":
        assert c >= top * (1 - 1e-9)
        return
    assert d.stop in ("precision", "start_broke"), d
    if d.stop == "start_broke":
        assert c < start
        return
    assert d.lo is not None and d.hi is not None
    assert d.lo <= c < d.hi and d.hi <= d.lo * (1 + precision)
    growth = math.ceil(math.log(span) / math.log(factor)) + 1
    bisection = math.ceil(math.log2(math.log(factor) / math.log1p(precision))) + 1
    assert len(probes) <= growth + bisection


@pytest.mark.parametrize("c", [1, 2, 3, 7, 8, 9, 100, 511, 512, 513, 1023])
def test_closed_model_finds_every_concurrency_exactly(c: int) -> None:
    probes, d = search(SearchSpace(start=1, max=1024, precision=0.001, integral=True,
                                   max_probes=40),
                       capacity(c))
    assert d.lo == c and d.hi == c + 1 and d.stop == "precision"
    assert len(probes) <= 11 + 10      # 11 doublings to 1024, then log2(512) halvings at most


def test_a_generator_starved_for_a_moment_gets_its_probe_again() -> None:
    def hiccup(load: float, run: int) -> Outcome:
        return "generator_bound" if (load, run) == (400, 0) else capacity(812)(load, run)

    probes, d = search(RATE, hiccup)
    assert [p.load for p in probes][:6] == [50, 100, 200, 400, 400, 800]
    assert (d.lo, d.stop) == (800, "precision")
