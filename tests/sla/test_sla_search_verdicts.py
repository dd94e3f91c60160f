"""A capacity search's rules, judged at its answer (the highest load that held, its runs
pooled), or at its lightest probe when nothing held -- inconclusive there only when
the search itself could not tell."""

from __future__ import annotations

from typing import Any

from loadkit.results.model import Verdict
from loadkit.results.search import ProbeRecord, SearchAnalysis
from loadkit.sla import parse_rule
from loadkit.sla.evaluate import evaluate_profile, search_indeterminate
from loadkit.testing import latencies, profile, run_result, stage


def analysis(lo: float | None, hi: float | None, outcomes: dict[int, str],
             indeterminate: str = "") -> SearchAnalysis:
    """The search's analysis as ``judge`` stores it: bracket and each probe's outcome."""
    probes = tuple(ProbeRecord(stage=i, load=0.0, run=1, outcome=o,  # type: ignore[arg-type]
                               requests=0, throughput_rps=0.0, p50_ms=0.0, p99_ms=0.0,
                               error_rate=0.0) for i, o in outcomes.items())
    return SearchAnalysis(model="open", unit="rps", answer=lo, bracket=(lo, hi),
                          stop="precision", indeterminate=indeterminate, probes=probes)


def probe(index: int, rate: float, p50: float, p99: float, errors: int = 0):
    return stage(index, latencies(p50, p99), rate=rate, errors=errors, role="probe",
                 label=f"probe {index}")


# run order: growth 100 -> 400 (broke), bisection 200 (held), 200 again (pooled)
PROBES = [probe(0, 100, 10, 20), probe(1, 400, 10, 90), probe(2, 200, 10, 30),
          probe(3, 200, 20, 40, errors=10)]


def v(expr: str, metric: str, observed: float | None, threshold: float, passed: bool,
      unit: str, reason: str, **fields: Any) -> Verdict:
    return Verdict(profile="cap", expr=expr, metric=metric, observed=observed,
                   threshold=threshold, passed=passed, unit=unit, reason=reason,
                   scope="operating_point", **fields)


def test_search_rules_are_judged_at_the_answer_with_its_runs_pooled():
    p = profile("cap", "search", PROBES, analysis=analysis(200, 400, {0: "held", 1: "broke",
                                                             2: "undecided", 3: "held"}))
    rules = [parse_rule("p99 < 50ms"), parse_rule("p50 < 15ms"), parse_rule("throughput > 1rps")]
    where = "at the answer, step 3 (200 rps offered), 2 runs pooled"
    assert list(evaluate_profile(p, rules)) == [
        # pooled (step 3 alone has a p99 of 40 ms): 985 successes at 10 ms, 975 at 20 ms,
        # 15 at 30 ms and 15 at 40 ms; step 1 (400 rps) is the first load that broke it
        v("p99 < 50ms", "p99", 30.015, 50.0, True, "ms",
          f"over 1,990 successful requests {where}", judged_stage=3,
          first_broken_stage=1, broken_observed=90.047),
        # broken steps are looked for lightest load first: step 3 (200 rps) before step 1
        v("p50 < 15ms", "p50", 20.015, 15.0, False, "ms",
          f"over 1,990 successful requests {where}", judged_stage=3,
          first_broken_stage=3, broken_observed=20.015),
        # not load-broken: no broken step is looked for
        v("throughput > 1rps", "throughput", 99.5, 1.0, True, "rps",
          f"over 2,000 requests {where}", judged_stage=3),
    ]


def test_a_search_answer_with_one_run_is_judged_on_that_run_alone():
    p = profile("cap", "search", PROBES[:3], analysis=analysis(200, 400, {0: "held", 1: "broke",
                                                                 2: "held"}))
    (verdict,) = evaluate_profile(p, [parse_rule("p99 < 50ms")])
    assert verdict == v("p99 < 50ms", "p99", 30.015, 50.0, True, "ms",
                        "over 1,000 successful requests at the answer, step 2 "
                        "(200 rps offered)", judged_stage=2, first_broken_stage=1,
                        broken_observed=90.047)


def test_a_search_where_nothing_held_is_judged_at_its_lightest_probe():
    probes = [probe(0, 100, 10, 60), probe(1, 50, 10, 70)]
    p = profile("cap", "search", probes, analysis=analysis(None, 50, {0: "broke", 1: "broke"}))
    (verdict,) = evaluate_profile(p, [parse_rule("p99 < 50ms")])
    assert verdict == v("p99 < 50ms", "p99", 70.015, 50.0, False, "ms",
                        "over 1,000 successful requests at the lightest probe, step 1 "
                        "(50 rps offered)", judged_stage=1, first_broken_stage=1,
                        broken_observed=70.015)


def test_nothing_held_and_the_lightest_load_ran_twice_pools_both_runs():
    probes = [probe(0, 100, 10, 60), probe(1, 50, 10, 70), probe(2, 50, 20, 80)]
    p = profile("cap", "search", probes, analysis=analysis(None, 50, {1: "broke", 2: "broke"}))
    (verdict,) = evaluate_profile(p, [parse_rule("p50 < 50ms")])
    assert verdict.reason == ("over 2,000 successful requests at the lightest probe, step 2 "
                              "(50 rps offered), 2 runs pooled")
    assert (verdict.judged_stage, verdict.passed) == (2, True)


def test_nothing_held_and_the_search_could_not_tell_is_inconclusive_not_failed():
    for outcome in ("undecided", "generator_bound"):
        p = profile("cap", "search", [probe(0, 100, 10, 60)],
                    analysis=analysis(None, 100, {0: outcome}, indeterminate="within noise"))
        (verdict,) = evaluate_profile(p, [parse_rule("p99 < 50ms")])
        assert verdict == v("p99 < 50ms", "p99", 60.031, 50.0, False, "ms",
                            "over 1,000 successful requests at the lightest probe, step 0 "
                            "(100 rps offered); the search could not tell at this load",
                            judged_stage=0, first_broken_stage=0, broken_observed=60.031,
                            inconclusive=True)


def test_the_search_could_not_tell_changes_nothing_when_the_rule_is_settled():
    unsure = analysis(None, 100, {0: "undecided"})
    held = profile("cap", "search", [probe(0, 100, 10, 40)], analysis=unsure)
    (ok,) = evaluate_profile(held, [parse_rule("p99 < 50ms")])
    assert ok.passed and not ok.inconclusive
    # no success at all: "no data" fails, whatever the search could tell
    dead = profile("cap", "search", [stage(0, [5.0] * 10, rate=100, errors=10, role="probe")],
                   analysis=unsure)
    (no_data,) = evaluate_profile(dead, [parse_rule("p99 < 50ms")])
    assert (no_data.passed, no_data.inconclusive, no_data.observed) == (False, False, None)
    assert no_data.reason.startswith("no data")
    # an answer was found: a broken rule there fails, even if that probe was undecided
    found = profile("cap", "search", [probe(0, 100, 10, 60)], analysis=analysis(100, 200, {0: "undecided"}))
    (failed,) = evaluate_profile(found, [parse_rule("p99 < 50ms")])
    assert (failed.passed, failed.inconclusive) == (False, False)
    assert failed.reason.endswith("at the answer, step 0 (100 rps offered)")
    # a broken probe was decided: it fails
    broke = profile("cap", "search", [probe(0, 100, 10, 60)], analysis=analysis(None, 100, {0: "broke"}))
    (clear,) = evaluate_profile(broke, [parse_rule("p99 < 50ms")])
    assert (clear.passed, clear.inconclusive) == (False, False)


def test_a_search_without_a_search_analysis_is_judged_at_its_lightest_probe():
    from loadkit.results.analysis import SummaryAnalysis

    probes = [probe(0, 200, 10, 40), probe(1, 100, 10, 60)]
    for stored in (None, SummaryAnalysis(kind="search", headline="no search record")):
        p = profile("cap", "search", probes, analysis=stored)
        (verdict,) = evaluate_profile(p, [parse_rule("p99 < 50ms")])
        assert (verdict.judged_stage, verdict.observed, verdict.passed) == (1, 60.031, False)
        assert not verdict.inconclusive
        assert verdict.reason.endswith("at the lightest probe, step 1 (100 rps offered)")


def test_an_answer_no_probe_ran_at_is_judged_on_the_lightest_probe_alone():
    probes = [probe(0, 100, 10, 20), probe(1, 100, 10, 30), probe(2, 200, 10, 90)]
    p = profile("cap", "search", probes, analysis=analysis(150, 200, {}))
    (verdict,) = evaluate_profile(p, [parse_rule("p99 < 50ms")])
    # not the two runs at 100 rps pooled: the first of them, as a lone fallback
    assert (verdict.judged_stage, verdict.observed) == (0, 20.015)
    assert verdict.reason == ("over 1,000 successful requests at the answer, step 0 "
                              "(100 rps offered)")


def test_a_closed_model_search_names_its_probes_by_concurrency():
    probes = [stage(0, latencies(10, 20), concurrency=4, role="probe"),
              stage(1, latencies(10, 30), concurrency=8, role="probe"),
              stage(2, latencies(10, 90), concurrency=16, role="probe")]
    held = profile("cap", "search", probes, analysis=analysis(8, 16, {}))
    (verdict,) = evaluate_profile(held, [parse_rule("p99 < 50ms")])
    assert verdict.reason == ("over 1,000 successful requests at the answer, step 1 "
                              "(concurrency 8)")
    none = profile("cap", "search", probes[2:], analysis=analysis(None, 16, {}))
    (verdict,) = evaluate_profile(none, [parse_rule("p99 < 50ms")])
    assert verdict.reason.endswith("at the lightest probe, step 2 (concurrency 16)")


def test_a_search_with_no_probe_that_ran_fails_for_lack_of_data():
    p = profile("cap", "search", [stage(0, [], rate=100, role="probe")],
                analysis=analysis(None, None, {}))
    (verdict,) = evaluate_profile(p, [parse_rule("p99 < 50ms")])
    assert verdict == v("p99 < 50ms", "p99", None, 50.0, False, "ms",
                        "no data: no successful requests to judge")


def test_only_an_indeterminate_search_makes_the_run_say_why():
    sure = profile("sure", "search", [probe(0, 100, 10, 20)], analysis=analysis(100, 200, {0: "held"}))
    unsure = profile("unsure", "search", [probe(0, 100, 10, 20)],
                     analysis=analysis(None, 100, {0: "undecided"}, indeterminate="within noise at 100"))
    never = profile("never", "search", [probe(0, 100, 10, 20)])      # no analysis derived
    assert search_indeterminate(run_result(sure, unsure, never)) == [
        "unsure: within noise at 100"]
