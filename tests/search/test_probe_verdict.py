"""A probe against its rules: held, broke, or within noise of a threshold (repeat it).
Latencies are recorded into real HDR histograms at known values, so every interval
is exact. No network."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadkit.analysis.probe_verdict import judge_probe
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import LatencySummary
from loadkit.sla import parse_rule
from tests.search.builders import probe, window

P99 = [parse_rule("p99 < 50ms")]


def ms(*values: float) -> object:
    """Values as the histogram reads them back (3 significant digits)."""
    return pytest.approx(values, rel=2e-3)


def test_a_probe_far_below_the_threshold_held() -> None:
    outcome, (check,) = judge_probe(P99, [probe(1, 100, 10)], [])
    assert outcome == "held" and check.state == "held"
    assert (check.observed, check.low, check.high) == ms(10, 10, 10)


def test_a_probe_far_above_the_threshold_broke() -> None:
    outcome, (check,) = judge_probe(P99, [probe(1, 100, 10, tail=0.05, tail_ms=80)], [])
    assert outcome == "broke" and (check.observed, check.low) == ms(80, 80)


def test_a_p99_whose_rank_interval_straddles_the_threshold_is_undecided() -> None:
    # 1.5% of 1000 requests at 60 ms: the p99 is 60 ms, but its 95% rank interval
    # (98.4%..99.6%) reaches into the 10 ms requests: more requests could tell.
    outcome, (check,) = judge_probe(P99, [probe(1, 100, 10, tail=0.015, tail_ms=60)], [])
    assert outcome == "undecided"
    assert (check.observed, check.low, check.high) == ms(60, 10, 60)


def test_pooled_repeats_narrow_the_interval_until_it_decides() -> None:
    runs = [probe(1, 100, 10, tail=0.015, tail_ms=60, n=1000),
            probe(2, 100, 10, tail=0.015, tail_ms=60, n=1000)]
    assert judge_probe(P99, runs[:1], [])[0] == "undecided"
    # 3000 requests: 99% +- 0.36% stays inside the 1.5% tail.
    runs.append(probe(3, 100, 10, tail=0.015, tail_ms=60, n=1000))
    outcome, (check,) = judge_probe(P99, runs, [])
    assert outcome == "broke" and (check.low,) == ms(60)


def test_seconds_that_disagree_widen_the_interval_past_the_threshold() -> None:
    # The histogram alone says 40 ms, clearly under 50; the per-second p99s swing
    # 20..80 ms, so the probe cannot be called held.
    stage = probe(1, 100, 40)
    windows = [window(1, v) for v in (20, 80, 20, 80, 40)]
    assert judge_probe(P99, [stage], [])[0] == "held"
    outcome, (check,) = judge_probe(P99, [stage], windows)
    assert outcome == "undecided"
    assert check.low is not None and check.high is not None
    assert check.low < 40 < 50 < check.high


def test_windows_of_other_probes_are_not_read() -> None:
    stage = probe(1, 100, 40)
    assert judge_probe(P99, [stage], [window(1, 40)] * 5)[0] == "held"


@pytest.mark.parametrize("errors, n, state", [(0, 500, "held"), (5, 500, "undecided"),
                                              (50, 500, "broke"), (2, 5000, "held")],
                         ids=["none", "at-the-threshold", "far-above", "far-below"])
def test_an_error_rate_is_judged_with_its_wilson_interval(errors: int, n: int, state: str) -> None:
    rules = [parse_rule("error_rate < 1%")]
    outcome, (check,) = judge_probe(rules, [probe(1, 100, 10, n=n, errors=errors)], [])
    assert check.state == state and outcome == state


def test_a_probe_with_no_successful_request_broke() -> None:
    stage = probe(1, 100, 10, n=50, errors=50)
    rules = [parse_rule("p99 < 50ms"), parse_rule("error_rate < 50%")]
    outcome, checks = judge_probe(rules, [stage], [])
    assert outcome == "broke" and checks[1].state == "broke"


def test_throughput_and_scoped_rules_are_not_what_a_probe_is_judged_on() -> None:
    rules = [parse_rule("p99 < 50ms"), parse_rule("throughput >= 10000rps")]
    outcome, checks = judge_probe(rules, [probe(1, 100, 10)], [])
    assert outcome == "held" and [c.expr for c in checks] == ["p99 < 50ms"]


def test_a_stream_rule_reads_its_own_histogram_and_interval() -> None:
    # Latency to the last byte is 400 ms; TTFT is 40 ms for 98.5% and 120 ms for 1.5%:
    # the TTFT p99 (120 ms) has a rank interval reaching back into the 40 ms requests.
    ttft = LatencyHistogram()
    ttft.record(40_000, 985)
    ttft.record(120_000, 15)
    stage = replace(probe(1, 10, 400), output_tokens=16_000, ttft_histogram=ttft.encode(),
                    ttft_ms=LatencySummary.of(ttft))
    outcome, (check,) = judge_probe([parse_rule("ttft_p99 < 100ms")], [stage], [])
    assert outcome == "undecided" and check.metric == "ttft_p99"
    assert (check.observed, check.low, check.high) == ms(120, 40, 120)
    clear = judge_probe([parse_rule("ttft_p99 < 200ms")], [stage], [])[0]
    assert clear == "held"
