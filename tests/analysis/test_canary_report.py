"""canary reports: text, JSON, HTML and JUnit of a synthetic CanaryResult."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from loadkit.analysis.canary import decide_stage
from loadkit.results.canary import AgreementSample, CanaryConfig, CanaryResult, CanaryStage
from loadkit.reporters.canary_report import (
    render_canary_html,
    render_canary_json,
    render_canary_junit,
    render_canary_text,
)
from tests.analysis.test_canary_decision import stage
from loadkit.testing import interval


def result() -> CanaryResult:
    spec = CanaryStage(0.01, 2.0, 50)
    ok = decide_stage(0, spec, stage(2000, seed=1), stage(100, seed=2),
                      AgreementSample(50, 50), baseline_windows=[interval(0, 0, 11.0, requests=10)],
                      candidate_windows=[interval(0, 0, 12.0, requests=10)])
    bad = decide_stage(1, CanaryStage(0.05, 2.0, 50), stage(2000, seed=1),
                       stage(100, 30.0, seed=2),
                       AgreementSample(50, 40, mismatches=("input 3: <b>x</b> vs y",)))
    return CanaryResult(scenario="s", baseline_url="http://127.0.0.1:1",
                        candidate_url="http://127.0.0.1:2", config=CanaryConfig(),
                        load="rate 100 rps", stages=(ok, bad), decision="rollback",
                        reason="stage 2 (5%): " + bad.reason, started_at=1.7e9, finished_at=1.7e9)


def test_text_has_one_row_per_stage_and_the_reason():
    text = render_canary_text(result())
    assert text.startswith("loadkit canary: ROLLBACK (exit 1)")
    assert "PROMOTE" in text and "ROLLBACK" in text.splitlines()[7]
    assert "disagreement: input 3" in text


def test_json_round_trips_decision_and_criteria():
    doc = json.loads(render_canary_json(result()))
    assert (doc["schema"], doc["decision"], doc["exit_code"]) == ("loadkit.canary/v1",
                                                                  "rollback", 1)
    assert [s["decision"] for s in doc["stages"]] == ["promote", "rollback"]
    assert {c["name"] for c in doc["stages"][1]["criteria"]} >= {"p99_ratio", "agreement"}


def test_junit_marks_rollback_criteria_as_failures():
    root = ET.fromstring(render_canary_junit(result()))
    failed = {c.get("name") for c in root.iter("testcase") if c.find("failure") is not None}
    assert {"p99_ratio @ 5%", "agreement @ 5%"} <= failed


def test_html_escapes_model_output():
    html = render_canary_html(result())
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "data:image/svg+xml;base64," in html
