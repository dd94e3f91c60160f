"""Golden files for the text formats, plus the checks a CI reader relies on.

Regenerate after an intended change with ``LOADKIT_UPDATE_GOLDEN=1 pytest tests/reporters``
and review the diff.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import replace

import pandas as pd

from loadkit.reporters import csv_report, json_report, junit, markdown
from loadkit.results.codec import loads
from loadkit.results.model import RunResult, Verdict
from tests.reporters.conftest import check_golden


def test_json_report_matches_golden_and_round_trips_exactly(result: RunResult) -> None:
    text = json_report.render(result)
    check_golden("result.json", text)
    assert loads(text) == result
    assert json_report.render(loads(text)) == text


def test_junit_matches_golden(result: RunResult) -> None:
    check_golden("junit.xml", junit.render(result))


def test_junit_counts_one_testcase_per_verdict_with_failures_and_errors(result: RunResult) -> None:
    root = ET.fromstring(junit.render(result))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "2", "1")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["loadkit.throughput", "loadkit.ramp"]
    for suite in suites.values():
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("errors", "-1")) == sum(c.find("error") is not None for c in cases)
    ramp = suites["loadkit.ramp"].findall("testcase")
    assert {c.get("classname") for c in ramp} == {"loadkit.ramp"}
    assert ramp[0].get("name") == "p99 < 200ms @ step 2 (c=4)"
    failure = ramp[0].find("failure")
    assert failure is not None
    assert failure.get("message") == "observed 212 ms > threshold 200 ms; in step 2 (c=4)"
    # A ramp rule judged on its lightest step: where it first broke varies from run to
    # run, so it is in the message, not the test's name (CI tracks tests by name).
    assert ramp[1].get("name") == "p99 < 200ms" and ramp[1].find("failure") is None
    out = ramp[1].find("system-out")
    assert out is not None and "first broken at step 2" in (out.text or "")
    error = ramp[2].find("error")
    assert error is not None and error.get("type") == "inconclusive"
    assert "too few requests" in (error.get("message") or "")


def test_junit_throughput_failure_says_observed_is_below_the_floor(result: RunResult) -> None:
    root = ET.fromstring(junit.render(result))
    case = root.find("testsuite/testcase[@name='throughput >= 1000rps']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "observed 900 rps < threshold 1000 rps"


def test_junit_survives_markup_and_control_characters_in_names(result: RunResult) -> None:
    nasty = 'bad"<&>\x01name'
    v = Verdict(nasty, "p99 < 200ms", "p99", None, 200.0, False, "ms")
    text = junit.render(replace(result, verdicts=(v,)))
    root = ET.fromstring(text)          # still well-formed XML
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("classname") == 'loadkit.bad"<&>?name'
    failure = case.find("failure")
    assert failure is not None and "no data" in (failure.get("message") or "")


def test_junit_of_a_run_without_rules_is_an_empty_valid_report(result: RunResult) -> None:
    root = ET.fromstring(junit.render(replace(result, verdicts=())))
    assert root.get("tests") == "0" and root.findall("testsuite") == []


def test_markdown_matches_golden(result: RunResult) -> None:
    check_golden("summary.md", markdown.render(result))


def test_markdown_escapes_pipes_and_html_from_names(result: RunResult) -> None:
    prof = replace(result.profiles[0], name="a|b<script>")
    text = markdown.render(replace(result, profiles=(prof,), verdicts=()))
    row = next(line for line in text.splitlines() if line.startswith("| a"))
    assert "a\\|b&lt;script&gt;" in row
    assert "<script>" not in text


def test_csv_matches_golden(result: RunResult) -> None:
    check_golden("timeseries.csv", csv_report.render(result))


def test_csv_has_one_row_per_profile_second_with_the_documented_columns(result: RunResult) -> None:
    df = pd.read_csv(io.StringIO(csv_report.render(result)))
    assert tuple(df.columns) == csv_report.COLUMNS
    assert len(df) == sum(len(p.timeseries) for p in result.profiles)
    assert df.groupby("profile")["requests"].sum().to_dict() == {
        p.name: sum(iv.requests for iv in p.timeseries) for p in result.profiles}
    assert set(df[df.profile == "ramp"].stage) == {"c=1", "c=2", "c=4"}
    assert (df.requests == df.ok + df.errors).all()


def test_csv_of_a_result_without_profiles_is_just_the_header(result: RunResult) -> None:
    text = csv_report.render(replace(result, profiles=()))
    assert text == ",".join(csv_report.COLUMNS) + "\n"
