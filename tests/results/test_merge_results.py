"""Merging whole results: what may be added up, and what the merged result keeps."""

from __future__ import annotations

from dataclasses import replace

from loadkit.results.aggregate import merge_problems, merge_profiles, merge_results
from loadkit.results.model import Environment, Verdict
from loadkit.results.status import Status
from loadkit.testing import T0, latencies, profile, run_result, stage


def _result(values=(1.0,) * 4, *, start=T0, name="s", target="http://127.0.0.1:1",
            sla=("p99 < 1s",), profile_name="throughput"):
    return run_result(profile(profile_name, stages=[stage(0, list(values))], sla=sla),
                      name=name, target=target, started_at=start, finished_at=start + 10)


def test_results_of_one_scenario_against_one_target_may_be_merged():
    assert merge_problems([_result(), _result([2.0] * 4)]) == []
    assert merge_problems([_result()]) == []


def test_the_same_run_twice_is_refused_by_the_names_given_or_by_position():
    a = _result()
    assert merge_problems([a, _result([2.0] * 3), a]) == [
        "result 1 and result 3 are the same run (merging it with itself would double every "
        "count)"]
    assert merge_problems([a, a], names=["x.json", "y.json"]) == [
        "x.json and y.json are the same run (merging it with itself would double every count)"]


def test_a_run_is_the_same_only_when_its_times_and_histograms_all_match():
    a = _result()
    assert merge_problems([a, replace(a, finished_at=a.finished_at + 1)]) == []
    assert merge_problems([a, replace(a, started_at=a.started_at - 1)]) == []
    assert merge_problems([a, _result([3.0] * 4)]) == []      # same times, other histogram


def test_other_scenarios_targets_or_rules_are_each_named():
    a = _result()
    b = _result(name="other", target="http://127.0.0.1:2", sla=("p99 < 2s",),
                values=[5.0] * 4)
    assert merge_problems([a, b, _result(values=[7.0])]) == [
        "the results come from different scenarios: s, other",
        "the results come from different targets: http://127.0.0.1:1, http://127.0.0.1:2",
        "profile 'throughput' has different SLA rules in different results",
    ]


def test_a_merged_result_is_unjudged_and_adds_what_the_generators_measured():
    a = replace(_result(), verdicts=(Verdict("throughput", "p99 < 1s", "p99", 1.0, 1000.0,
                                             True),),
                status=Status.PASS, warnings=("w",), notes=("n1", "n2"),
                environment=Environment(processes=2, transport="fast"))
    b = replace(_result([2.0] * 6, start=T0 - 5), notes=("n2", "n3"), partial=True,
                interrupted=True, stopped_early="aborted: error_rate",
                environment=Environment(processes=3))
    c = replace(_result([3.0] * 2, start=T0 + 5), stopped_early="later")
    m = merge_results([a, b, c])
    assert (m.started_at, m.finished_at) == (T0 - 5, T0 + 15)
    assert (m.verdicts, m.status, m.warnings) == ((), None, ())
    assert m.notes == ("n1", "n2", "n3")
    assert m.partial and m.interrupted
    assert m.stopped_early == "aborted: error_rate"
    assert m.environment == Environment(processes=6, transport="fast")
    assert m.profiles[0].stages[0].requests == 12
    assert m.scenario == a.scenario
    clean = merge_results([_result(), _result([2.0])])
    assert not clean.partial and not clean.interrupted and clean.stopped_early == ""
    assert merge_results([a]).notes == ("n1", "n2")


def test_profiles_merge_by_name_in_first_seen_order():
    a = run_result(profile("ramp", stages=[stage(0, [1.0])]),
                   profile("steady", stages=[stage(0, [2.0] * 2)]))
    b = run_result(profile("steady", stages=[stage(0, [3.0] * 3)]),
                   profile("spike", stages=[stage(0, [4.0] * 4)]))
    m = merge_results([a, b])
    assert [p.name for p in m.profiles] == ["ramp", "steady", "spike"]
    assert [p.summary.requests for p in m.profiles] == [1, 5, 4]
    assert m.profiles[1] == merge_profiles([a.profiles[1], b.profiles[0]])


def test_a_stage_whose_input_buckets_differ_keeps_none_and_a_note_says_so():
    from tests.results.test_merge_exact import _bucket

    s0 = stage(0, [1.0])
    a1 = replace(stage(1, [1.0]), breakdown=(_bucket("payload_bytes", 0, 10, [1_000]),))
    b1 = replace(stage(1, [1.0]), breakdown=(_bucket("payload_bytes", 0, 12, [1_000]),))
    a = run_result(profile("p", stages=[s0, a1, stage(2, [1.0])]))
    b = run_result(profile("p", stages=[s0, b1]), started_at=5.0)
    m = merge_results([replace(a, notes=("before",)), b])
    assert m.notes == ("before", "p: stage 1: latency-by-input buckets differ between the "
                       "results (other input keys or edges); the merged stage keeps none")
    assert m.profiles[0].stages[1].breakdown == ()


def test_merging_no_results_is_refused():
    import pytest

    with pytest.raises(ValueError, match="^nothing to merge$"):
        merge_results([])


def test_a_merged_result_carries_the_generators_health_side_by_side():
    from loadkit.results.model import GeneratorHealth

    a = replace(_result(), health=GeneratorHealth(cpu_share=0.5, connections_opened=3))
    b = replace(_result([2.0]), health=GeneratorHealth(cpu_share=0.25, connections_opened=4,
                                                       fell_behind=True, reasons=("lag",)))
    h = merge_results([a, b]).health
    assert (h.cpu_share, h.connections_opened, h.fell_behind, h.reasons) == (
        0.75, 7, True, ("lag",))


def test_merging_adds_the_errors_of_every_generator_into_stage_and_summary():
    a = run_result(profile(stages=[stage(0, latencies(5, n=10), errors={"http_5xx": 2})]))
    b = run_result(profile(stages=[stage(0, latencies(5, n=20), errors={"timeout": 3,
                                                                       "http_5xx": 1})]),
                   started_at=1.0)
    m = merge_results([a, b]).profiles[0]
    for figures in (m.stages[0], m.summary):
        assert (figures.requests, figures.ok, figures.errors) == (30, 24, 6)
        assert figures.error_kinds == {"http_5xx": 3, "timeout": 3}
        assert figures.error_rate == 0.2
