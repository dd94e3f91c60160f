"""A capacity search in every report: the headline, the probes table, the probe chart
(HTML), the answer as a JUnit test case. The result comes from the scripted engine
(tests/search/builders.py), so every figure is exact. No network."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from loadkit.reporters import html, junit, markdown, text
from loadkit.results.model import RunResult
from loadkit.scenario import load_scenario
from loadkit.sla import evaluate, parse_rule, status_of
from tests.search.builders import ScriptedEngine
from tests.scenario.conftest import CSV
from tests.search.test_search_runner import SCENARIO, run


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """One scripted search for every report here (built once: the reports only read it)."""
    folder = tmp_path_factory.mktemp("search-reports")
    (folder / "data.csv").write_text(CSV)
    (folder / "scenario.yaml").write_text(SCENARIO)
    scenario = load_scenario(folder / "scenario.yaml", env={})
    with pytest.MonkeyPatch.context() as monkeypatch:
        result = run(scenario, ScriptedEngine(capacity=812), monkeypatch)
    rules = [parse_rule(t) for t in result.profiles[0].sla]
    verdicts = evaluate({"capacity": rules}, result)
    return replace(result, verdicts=verdicts, status=status_of(verdicts, result))


def test_the_terminal_summary_has_the_headline_and_one_row_per_probe(searched: RunResult) -> None:
    out = text.render(searched)
    assert "capacity: sustains 800 rps at p99 < 50ms (bracket 800–835, 10 probes" in out
    rows = [line for line in out.splitlines() if re.match(r"\s+\d+\s+\d+ rps\s+1\s", line)]
    assert len(rows) == 10
    assert rows[4].split()[:5] == ["5", "800", "rps", "1", "held"]
    assert rows[5].split()[:5] == ["6", "1600", "rps", "1", "broke"]


def test_markdown_carries_the_probes_table(searched: RunResult) -> None:
    out = markdown.render(searched)
    assert "**capacity** probes:" in out
    assert "| 10 | 835 rps | 1 | broke |" in out


def test_junit_has_the_answer_as_a_test_case(searched: RunResult) -> None:
    root = ET.fromstring(junit.render(searched).split("\n", 1)[1])
    case = root.find(".//testcase[@name='max_rate_under_sla']")
    assert case is not None and case.find("error") is None
    out = case.find("system-out")
    assert out is not None and out.text is not None
    assert out.text.startswith("max_rate_under_sla = 800 (bracket 800–835.4, stop: precision)")
    assert root.get("tests") == "3"


def test_the_html_report_draws_the_probe_chart(searched: RunResult) -> None:
    page = html.render(searched)
    assert 'data-chart="probes-0"' in page
    assert "probe 6 at 1600 rps: broke" in page
    assert "p99 &lt; 50ms: observed [95%]" in page
