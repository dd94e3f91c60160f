"""Issue 16's target end to end: a capacity search against a mock whose ceiling is
known exactly -- 4 inference slots of 20 ms with a 4-deep queue: 4 / 20 ms = 200 rps;
past it the queue fills and the mock answers 503 -- finds it within 10% in at most 14
probes. The exact probe sequences, and that the bracket holds the truth, are proven
without a network in tests/search.

Probes are 0.5 s. The truth here is sharp but not a point: just past 200 rps the
503s trickle in at about the 1% the rule allows, so a probe can land within noise of
it. Then the honest answer is the bracket (inconclusive), and the assertions below
hold either way.
"""

from __future__ import annotations

import pytest

from loadkit.results.search import SearchAnalysis
from tests.e2e.conftest import RunScenario, describe, on_mock, profile

CEILING = 200.0      # 4 slots / 20 ms

FOUR_SLOTS = on_mock('{latency: "fixed:20ms", capacity: 4, queue: 4}', """
    profiles:
      - name: capacity
        kind: search
        rate: {start: 100, max: 1600}
        precision: 5%
        stage_duration: 0.5s
    sla: [error_rate < 1%, throughput >= 50rps]
    """, warmup="0.2s")


@pytest.mark.alone
def test_search_finds_the_ceiling_of_a_k_slot_queue_within_ten_percent(
        run_scenario: RunScenario) -> None:
    result = run_scenario(FOUR_SLOTS)
    why = describe(result)
    p = profile(result, "capacity")
    a = p.analysis
    assert isinstance(a, SearchAnalysis), why
    lo, hi = a.bracket
    assert len(a.probes) <= 14, why
    assert p.analysis.max_rate_under_sla == lo
    assert [s.role for s in p.stages] == ["warmup"] + ["probe"] * len(a.probes), why
    if a.stop == "generator_bound":
        # A machine too busy to drive the next probe (its retries too): the answer is a
        # lower bound, inconclusive, and says so -- never a made-up ceiling.
        assert result.status == "inconclusive" and result.health.fell_behind, why
        assert a.headline.startswith("at least ") and "generator-bound" in a.headline, why
        assert lo is None or lo <= CEILING * 1.1, why
        return
    assert lo is not None and hi is not None and lo < hi, why
    # What the target served at the loads it could not take (successes a second of the
    # probes that broke or stayed within noise): its ceiling as this machine runs it --
    # a busy CI box starves the mock's event loop and it serves less than 200 rps.
    served = max(pr.throughput_rps for pr in a.probes if pr.outcome in ("broke", "undecided"))
    assert abs(served - CEILING) <= 0.15 * CEILING, why
    assert lo <= served * 1.10, why                        # never more than it served
    if result.status == "pass":
        # Within 10% on a quiet machine (the closing note's figures); a shared CI box
        # starving the mock for a moment can break one probe just below its ceiling.
        assert abs(lo - served) <= 0.15 * served, why      # the answer is that ceiling
        assert a.stop == "precision" and hi <= lo * 1.05, why
        assert a.headline.startswith(f"sustains {lo:.0f} rps at error_rate < 1%"), why
    else:
        # A probe still within noise of the 1% after its repeats caps the bracket
        # unresolved (not shown broken: the truth may lie above it), and the answer is
        # the bracket, its lower end only what was shown to hold. A bunched schedule on
        # a loaded machine draws a stray 503 below the ceiling, and one 503 in a probe
        # of ~90 requests cannot tell 0.5% from 2%: that is this branch.
        assert result.status == "inconclusive" and a.stop == "undecided", why
        assert a.headline.startswith("indeterminate: between"), why
        assert a.binding_rule == "error_rate < 1%", why
    # The throughput floor is judged at the answer, where it holds.
    floor = next(v for v in result.verdicts if v.metric == "throughput")
    assert floor.passed and floor.observed is not None and floor.observed >= lo * 0.85, why
