"""Issue 16's target end to end: a capacity search against a mock whose ceiling is
known exactly -- 4 inference slots of 20 ms with a 4-deep queue: 4 / 20 ms = 200 rps;
past it the queue fills and the mock answers 503 -- finds it within 10% in at most 14
probes, and when it can decide, its bracket holds the ceiling.

Probes are 0.5 s. The truth here is sharp but not a point: just past 200 rps the
503s trickle in at about the 1% the rule allows, so a probe can land within noise of
it. Then the honest answer is the bracket (inconclusive), and the assertions below
hold either way; the exact probe sequences are proven without a network in
tests/search.
"""

from __future__ import annotations

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


def test_search_finds_the_ceiling_of_a_k_slot_queue_within_ten_percent(
        run_scenario: RunScenario) -> None:
    result = run_scenario(FOUR_SLOTS)
    why = describe(result)
    p = profile(result, "capacity")
    a = SearchAnalysis.of(p.analysis)
    assert a is not None, why
    lo, hi = a.bracket
    assert lo is not None and hi is not None, why
    assert abs(lo - CEILING) <= 0.10 * CEILING, why
    assert len(a.probes) <= 14, why
    assert p.analysis["max_rate_under_sla"] == lo
    assert [s.index for s in p.stages] == list(range(len(a.probes) + 1))   # warm-up + probes
    if result.status == "pass":
        assert a.stop == "precision" and hi <= lo * 1.05, why
        assert lo <= CEILING <= hi * 1.001, why          # the bracket holds the ceiling
        assert a.headline.startswith(f"sustains {lo:.0f} rps at error_rate < 1%"), why
    else:
        # A probe still within noise of the 1% after its repeats caps the bracket
        # unresolved (not shown broken: the truth may lie above it), and the answer is
        # the bracket. On a loaded machine a bunched schedule draws a 503 or two below
        # the ceiling, which is what this branch reports.
        assert result.status == "inconclusive" and a.stop == "undecided", why
        assert a.headline.startswith("indeterminate: between"), why
        assert a.binding_rule == "error_rate < 1%", why
    # The throughput floor is judged at the answer, where it holds.
    floor = next(v for v in result.verdicts if v.metric == "throughput")
    assert floor.passed and floor.observed is not None and floor.observed >= lo * 0.9, why
