"""Canary arms are judged by ``judge()``: the scenario's per-request rules, the same verdicts
and Status as ``loadkit run``, on scripted transports (no network; one 1 s stage each)."""

from __future__ import annotations

import json

from loadkit.canary import run_canary
from loadkit.reporters.canary_report import render_canary_json, render_canary_text
from loadkit.results.canary import CanaryConfig, CanaryStage, decision_of_status, status_of_decision
from loadkit.results.status import Status
from loadkit.scenario import scenario_from_text
from loadkit.testing import MockTransport, Reply

SCENARIO = """
name: canary-judge
target: http://127.0.0.1:9
request: {{method: POST, path: /predict, body: {{x: 1}}}}
profiles:
  - {{name: steady, kind: constant-rate, rate: 60, duration: 2s}}
{sla}
"""
# One 1 s stage at 50%: 30 rps a side; the p99-ratio criterion is kept out of the way
# (promote up to 5x) so that the SLA criterion alone decides where it should.
CONFIG = CanaryConfig(stages=(CanaryStage(0.5, 1.0, 20),), warmup_s=0.0, min_side_rps=10.0,
                      promote_p99_ratio=5.0, rollback_p99_ratio=10.0, agreement_sample=0)


def rehearse(sla: str, base_ms: float, cand_ms: float, cand_status: int = 200):
    scenario = scenario_from_text(SCENARIO.format(sla=sla))
    arms = (MockTransport(Reply(latency_ms=base_ms)),
            MockTransport(Reply(latency_ms=cand_ms, status=cand_status)))
    return run_canary(scenario, "http://127.0.0.1:9", "http://127.0.0.1:10", CONFIG,
                      transport=arms)


def test_a_candidate_breaking_a_rule_the_baseline_holds_is_rolled_back_by_the_sla():
    result = rehearse("sla: [p99 < 30ms]", base_ms=15.0, cand_ms=40.0)
    stage = result.stages[0]
    assert result.decision == "rollback" and result.exit_code == 1
    assert stage.criterion("sla").status == "rollback"
    assert [c.name for c in stage.criteria if c.status != "pass"] == ["sla"]
    cand = [v for v in stage.verdicts if v.profile == "candidate"]
    base = [v for v in stage.verdicts if v.profile == "baseline"]
    assert [(v.expr, v.passed) for v in cand] == [("p99 < 30ms", False)]
    assert [(v.expr, v.passed) for v in base] == [("p99 < 30ms", True)]
    assert cand[0].observed >= 40.0                      # the scripted latency, at least
    assert stage.candidate_status == Status.FAIL
    assert "1 broken (rollback)" in render_canary_text(result).splitlines()[6]


def test_both_arms_breaking_a_rule_hold_rather_than_blame_the_candidate():
    result = rehearse("sla: [p99 < 25ms]", base_ms=40.0, cand_ms=40.0)
    sla = result.stages[0].criterion("sla")
    assert (result.decision, sla.status) == ("hold", "hold")
    assert "the baseline breaks p99 < 25ms too" in sla.detail
    assert result.exit_code == 4


def test_load_rules_are_left_out_of_an_arm_and_said_so_and_same_arms_hold_the_rest():
    result = rehearse("sla: [p99 < 200ms, throughput >= 1000rps]", base_ms=5.0, cand_ms=5.0)
    sla = result.stages[0].criterion("sla")
    assert (sla.status, sla.detail) == ("pass", "candidate holds p99 < 200ms")
    # the other criteria may hold when a loaded machine makes the generator lag
    assert result.decision in ("promote", "hold") and "sla" not in result.reason
    assert {(v.profile, v.expr) for v in result.stages[0].verdicts} == {
        ("baseline", "p99 < 200ms"), ("candidate", "p99 < 200ms")}
    assert ("throughput >= 1000rps: not judged on a canary arm (the canary sets each side's "
            "load)") in result.warnings


def test_without_sla_the_default_rule_judges_each_arm():
    result = rehearse("", base_ms=2.0, cand_ms=2.0, cand_status=503)
    cand = [v for v in result.stages[0].verdicts if v.profile == "candidate"]
    assert [(v.expr, v.default, v.passed, v.observed) for v in cand] == [
        ("error_rate < 1%", True, False, 1.0)]
    assert result.stages[0].criterion("sla").status == "rollback"
    assert result.decision == "rollback"
    doc = json.loads(render_canary_json(result))
    assert doc["stages"][0]["candidate_status"] == "fail"
    assert {v["profile"] for v in doc["stages"][0]["verdicts"]} == {"baseline", "candidate"}


def test_decisions_and_statuses_map_both_ways():
    for decision in ("promote", "hold", "rollback"):
        assert decision_of_status(status_of_decision(decision)) == decision
    assert decision_of_status(Status.ERROR) == "hold"
    assert decision_of_status(Status.INTERRUPTED) == "hold"
