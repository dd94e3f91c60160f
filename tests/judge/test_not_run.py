"""A profile skipped after an abort or an interrupt keeps its rules: each gets a "did not
run" verdict from the judge, because the result records what was planned."""

from __future__ import annotations

from dataclasses import replace

import loadkit
from loadkit import testing
from loadkit.judge import judge
from loadkit.reporters import text
from loadkit.results import dumps, loads
from loadkit.results.model import PlannedProfile
from loadkit.results.status import Status
from loadkit.scenario import scenario_from_text
from loadkit.testing import MockTransport, Reply

PLANNED = (PlannedProfile("steady", "constant-rate", ("error_rate < 1%",)),
           PlannedProfile("ramp", "ramp", ("p99 < 50ms", "error_rate < 1% @ stage 2")))


def measured(**facts):
    steady = testing.profile("steady", "constant-rate", [testing.stage(0, [5.0] * 100)],
                             sla=["error_rate < 1%"])
    return replace(testing.run_result(steady), planned=PLANNED, **facts)


def test_rules_of_a_profile_skipped_after_an_abort_get_did_not_run_verdicts():
    result = judge(measured(stopped_early="abort: error_rate 100% >= 5%"))
    skipped = [v for v in result.verdicts if v.profile == "ramp"]
    assert [(v.expr, v.observed, v.passed, v.inconclusive, v.judged_stage) for v in skipped] == [
        ("p99 < 50ms", None, False, True, None), ("error_rate < 1%", None, False, True, 2)]
    assert {v.reason for v in skipped} == {"profile did not run: the run stopped early before it"}
    assert result.status == Status.FAIL
    assert ("ramp: did not run (the run stopped early before it); its 2 rule(s) were not "
            "judged") in result.warnings
    rows = [line.split() for line in text.render(result).splitlines()]
    assert [r[:4] for r in rows if r[:2] == ["INCONCLUSIVE", "ramp"]] == [
        ["INCONCLUSIVE", "ramp", "p99", "<"], ["INCONCLUSIVE", "ramp", "error_rate", "<"]]


def test_an_interrupted_run_says_which_profiles_never_ran():
    result = judge(measured(interrupted=True))
    assert result.status == Status.INTERRUPTED
    assert {v.reason for v in result.verdicts if v.profile == "ramp"} == {
        "profile did not run: the run was interrupted before it"}


def test_a_planned_profile_missing_for_no_stated_reason_makes_the_run_inconclusive():
    result = judge(measured())
    assert [v.profile for v in result.verdicts if not v.passed] == ["ramp", "ramp"]
    assert result.status == Status.INCONCLUSIVE


def test_planned_profiles_round_trip_and_results_without_them_load_as_before():
    result = judge(measured(stopped_early="abort"))
    again = loads(dumps(result))
    assert again.planned == PLANNED
    assert judge(again) == result
    unplanned = replace(measured(), planned=())
    assert '"planned"' not in dumps(unplanned)       # files without the key stay as they were
    assert [v.profile for v in judge(loads(dumps(unplanned))).verdicts] == ["steady"]


SCENARIO = """
name: two-profiles
target: http://127.0.0.1:9
request: {method: POST, path: /predict, body: {x: 1}}
fail_fast: 0s
profiles:
  - name: first
    kind: constant-rate
    rate: 40
    duration: 3s
    sla: [{rule: error_rate < 5%, abort: true}, error_rate < 1%]
  - {name: second, kind: latency, requests: 20, sla: [p99 < 100ms]}
"""


def test_a_run_aborted_in_its_first_profile_judges_the_second_as_did_not_run():
    scenario = scenario_from_text(SCENARIO)
    result = loadkit.run(scenario, transport=MockTransport(Reply(status=503)))
    assert [p.name for p in result.profiles] == ["first"]
    assert [p.name for p in result.planned] == ["first", "second"]
    second = [v for v in result.verdicts if v.profile == "second"]
    assert [(v.expr, v.inconclusive, v.reason) for v in second] == [
        ("p99 < 100ms", True, "profile did not run: the run stopped early before it")]
    assert result.status == Status.FAIL and result.exit_code == 1
