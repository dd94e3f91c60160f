"""compare reports: text, JSON, HTML and JUnit of a synthetic Comparison."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace

from loadkit.analysis.compare import compare
from loadkit.reporters.compare_report import (
    render_compare_html,
    render_compare_json,
    render_compare_junit,
    render_compare_text,
)
from loadkit.results import ScenarioInfo
from tests.analysis.test_compare import synthetic_run


def regression():
    base = synthetic_run(seed=1)
    cand = synthetic_run(seed=2, median_ms=13.0)
    cand = replace(cand, scenario=ScenarioInfo(name="<script>x</script>",
                                               target="http://127.0.0.1:1"))
    return compare(base, cand)


def test_text_table_names_the_regressed_metrics():
    text = render_compare_text(regression())
    assert text.startswith("loadkit compare: REGRESSION (exit 1)")
    p99_line = next(line for line in text.splitlines() if " p99 " in line)
    assert "REGRESSION" in p99_line


def test_json_carries_verdict_exit_code_and_every_metric_but_no_histogram():
    doc = json.loads(render_compare_json(regression()))
    assert (doc["schema"], doc["verdict"], doc["exit_code"]) == ("loadkit.compare/v1",
                                                                 "regression", 1)
    stage = doc["stages"][0]
    assert {m["metric"] for m in stage["metrics"]} == {"p50", "p95", "p99", "error_rate",
                                                       "throughput"}
    assert "baseline_histogram" not in stage


def test_junit_fails_one_case_per_regressed_metric():
    root = ET.fromstring(render_compare_junit(regression()))
    failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert "p99 stage 0" in failed and "p95 stage 0" in failed
    assert root.get("failures") == str(len(failed))


def test_junit_reports_inconclusive_as_error():
    result = compare(synthetic_run(seed=1, windows=3), synthetic_run(seed=2, windows=3))
    root = ET.fromstring(render_compare_junit(result))
    assert int(root.get("errors")) > 0 and root.get("failures") == "0"


def test_html_escapes_names_and_inlines_both_charts():
    html = render_compare_html(regression())
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert html.count("data:image/svg+xml;base64,") == 2
