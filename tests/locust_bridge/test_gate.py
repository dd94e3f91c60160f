"""The gate's pure logic: exact merge of worker parts, planned load, verdicts, exit codes."""

from __future__ import annotations

import json

import numpy as np

from loadkit.locust_bridge import gate
from loadkit.locust_bridge.schedule import plan_shape
from loadkit.results.aggregate import summarize
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import ProfileResult
from loadkit.results.recorder import Recorder, StageMeta
from loadkit.scenario import scenario_from_text
from loadkit.scenario.plan import Stage
from loadkit.sla import parse_rule

SCENARIO = """
name: gate-test
target: http://user:pw@127.0.0.1:9/?token=abc
request: {method: POST, path: /predict}
profiles:
  - {name: steady, kind: constant-rate, rate: 100, duration: 2s}
sla: [p99 < 50ms]
"""


def _part(latencies_us, *, duration_s=2.0, index=0) -> ProfileResult:
    rec = Recorder()
    rec.begin_stage(StageMeta(index=index, label="s", rate=50.0))
    for v in latencies_us:
        rec.ok(int(v))
    rec.end_stage(duration_s)
    return ProfileResult(name="x", kind="manual", stages=tuple(rec.stages),
                         summary=summarize(rec.stages))


def _scenario():
    return scenario_from_text(SCENARIO)


def test_merged_count_is_the_sum_and_p99_is_the_unions():
    rng = np.random.default_rng(3)
    a, b = rng.lognormal(8, 0.5, 3000), rng.lognormal(9, 0.7, 2000)
    steps = plan_shape([Stage(index=0, label="s", rate=100, duration_s=2)], user_rps=10)
    merged = gate.merge_parts([_part(a), _part(b)], name="steady", kind="constant-rate",
                              steps=steps)
    union = LatencyHistogram()
    union.record_many(np.concatenate([a, b]).astype(int))
    stage = merged.stages[0]
    assert stage.requests == 5000
    assert stage.hist().percentile_us(99) == union.percentile_us(99)
    assert (stage.rate, stage.concurrency) == (100, None)     # the plan's load, not the sum


def test_by_hand_stage_takes_the_peak_user_count():
    merged = gate.merge_parts([_part([1000] * 10)], name="manual", kind="manual", steps=None,
                              manual_users=7)
    assert merged.stages[0].concurrency == 7


def test_rate_stage_that_fell_short_makes_the_run_inconclusive():
    steps = plan_shape([Stage(index=0, label="s", rate=100, duration_s=2)], user_rps=10)
    profile = gate.merge_parts([_part([1000] * 100)], name="steady", kind="constant-rate",
                               steps=steps)                       # 50 rps of 100 asked
    result = gate.build_result(_scenario(), profile, rules=[parse_rule("p99 < 50ms")],
                               steps=steps, target="http://user:pw@127.0.0.1:9/?token=abc",
                               started_at=0.0, finished_at=2.0, processes=2)
    assert result.status == "inconclusive"
    assert result.health.fell_behind
    assert result.exit_code == 4
    assert gate.CLOSED_MODEL_WARNING in result.warnings


def test_failing_rule_fails_and_the_target_is_redacted():
    profile = gate.merge_parts([_part([80_000] * 300)], name="steady", kind="constant-rate",
                               steps=None, manual_users=3)
    result = gate.build_result(_scenario(), profile, rules=[parse_rule("p99 < 50ms")],
                               steps=None, target="http://user:pw@127.0.0.1:9/?token=abc",
                               started_at=0.0, finished_at=2.0, processes=1)
    assert result.status == "fail" and result.exit_code == 1
    assert "pw" not in result.scenario.target and "abc" not in result.scenario.target


def test_interrupted_run_exits_130():
    profile = gate.merge_parts([], name="manual", kind="manual", steps=None)
    result = gate.build_result(_scenario(), profile, rules=[], steps=None, target="x",
                               started_at=0.0, finished_at=1.0, processes=1, partial=True)
    assert result.status == "interrupted" and result.exit_code == 130


def test_by_hand_runs_are_judged_by_the_global_rules():
    rules = gate.rules_for(_scenario(), None)
    assert [r.expr for r in rules] == ["p99 < 50ms"]


def test_outputs_include_result_json_and_every_report(tmp_path):
    profile = gate.merge_parts([_part([1000] * 50)], name="manual", kind="manual", steps=None)
    result = gate.build_result(_scenario(), profile, rules=gate.rules_for(_scenario(), None),
                               steps=None, target="http://127.0.0.1:9", started_at=0.0,
                               finished_at=1.0, processes=1)
    names = {p.name for p in gate.write_outputs(result, tmp_path)}
    assert {"result.json", "report.html", "junit.xml", "summary.md"} <= names
    assert json.loads((tmp_path / "result.json").read_text())["status"] == "pass"


def test_a_query_token_in_the_request_path_never_reaches_the_result():
    scenario = scenario_from_text(SCENARIO.replace("path: /predict", "path: \"/predict?api_key=s3cr3tk3y\""))
    profile = gate.merge_parts([_part([1000] * 50)], name="manual", kind="manual", steps=None)
    result = gate.build_result(scenario, profile, rules=[], steps=None,
                               target="http://127.0.0.1:9", started_at=0.0, finished_at=1.0,
                               processes=1)
    assert "s3cr3tk3y" not in result.scenario.path
    assert result.scenario.path.startswith("/predict?api_key=")


def test_the_web_ui_tab_after_stop_shows_the_stages_the_verdict_and_the_report_folder():
    profile = gate.merge_parts([_part([1000] * 50 + [90_000] * 5)], name="steady",
                               kind="constant-rate", steps=None)
    result = gate.build_result(_scenario(), profile, rules=[parse_rule("p99 < 50ms")],
                               steps=None, target="http://127.0.0.1:9", started_at=1.0,
                               finished_at=3.0, processes=1)
    rows = gate.tab_rows(result, "reports/x")
    assert rows[0]["requests"] == 55 and rows[0]["p99"] >= 50
    verdict = rows[-1]
    assert verdict["stage"] == "verdict" and verdict["label"].startswith("FAIL (exit 1)")
    assert "p99 < 50ms" in verdict["label"] and verdict["requests"] == "reports: reports/x"
