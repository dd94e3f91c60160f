"""The CI-gate features end to end through ``loadkit run`` (a real process, real exit
codes): stability windows (stable -> decided; never stable -> inconclusive, exit 4)
and abort on fail (a breach after the grace ends the run early, exit 1, full reports)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from loadkit.reporters import text
from tests.e2e.conftest import ROOT, RunScenario, WriteScenario

REPORT_FILES = ("result.json", "report.html", "junit.xml", "summary.md", "timeseries.csv")


def loadkit_run(scenario: Path, out: Path) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "loadkit.cli", "run", str(scenario), "--out", str(out), "--quiet"],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
        timeout=120)
    result = json.loads((out / "result.json").read_text()) if (out / "result.json").exists() else {}
    return proc.returncode, result, proc.stdout + proc.stderr


STABILITY = """
    target: mock
    mock: {{latency: "fixed:10ms", capacity: 4{extra}}}
    request: {{path: /predict, timeout: 5s, body: {{instances: "{{{{ rows }}}}"}}}}
    dataset: {{path: data/iris.csv, seed: 1}}
    checks: {{status: [200]}}
    warmup: 0.5s
    profiles:
      - name: stable
        kind: throughput
        concurrency: 4
        stability: {{windows: 3, window: 1s, tolerance: 20%, max_duration: {max_s}}}
    sla: [error_rate < 1%]
    """


def test_a_steady_step_is_marked_stable_and_the_run_decides(
        write_scenario: WriteScenario, tmp_path: Path) -> None:
    path = write_scenario(STABILITY.format(extra="", max_s="8s"))
    code, result, output = loadkit_run(path, tmp_path / "out")
    stage = [s for s in result["profiles"][0]["stages"] if not s["warmup"]][0]
    assert stage["stable"] is True, output
    assert code == 0 and result["status"] == "pass", output
    assert "; stable after " in result["profiles"][0]["analysis"]["headline"], output


def test_a_step_that_never_settles_is_unstable_and_the_run_inconclusive(
        write_scenario: WriteScenario, tmp_path: Path) -> None:
    # A 0.5 s stall every 1.5 s: one-second windows alternate between stalled and
    # clean, so their p99s never agree within 20%.
    path = write_scenario(STABILITY.format(extra=', stall: "0.5s@every:1.5s"', max_s="5s"))
    code, result, output = loadkit_run(path, tmp_path / "out")
    stage = [s for s in result["profiles"][0]["stages"] if not s["warmup"]][0]
    assert stage["stable"] is False, output
    assert code == 4 and result["status"] == "inconclusive", output
    assert "never stabilised" in output, output
    assert "never stabilised in " in result["profiles"][0]["analysis"]["headline"], output
    assert all((tmp_path / "out" / name).exists() for name in REPORT_FILES)


def test_an_abort_rule_ends_the_run_early_with_exit_1_and_full_reports(
        write_scenario: WriteScenario, tmp_path: Path) -> None:
    # Half the requests fail; the rule may not break in its first second (grace),
    # then the first checked second ends a run planned for 20 s (2000 requests).
    path = write_scenario("""
        target: mock
        mock: {latency: "fixed:2ms", error_rate: 50%}
        request: {path: /predict, timeout: 5s, body: {instances: "{{ rows }}"}}
        dataset: {path: data/iris.csv, seed: 1}
        profiles:
          - name: gate
            kind: constant-rate
            rate: 100rps
            duration: 20s
            sla:
              - {rule: error_rate < 5%, abort: true, grace: 1s}
          - {name: never-reached, kind: latency, requests: 10}
        """)
    out = tmp_path / "out"
    code, result, output = loadkit_run(path, out)
    assert code == 1 and result["status"] == "fail", output
    assert any(w.startswith("aborted: error_rate < 5%") for w in result["warnings"]), output
    gate = result["profiles"][0]
    requests = sum(s["requests"] for s in gate["stages"])
    assert 0 < requests < 1000, output          # ended well before its 2000 planned requests
    assert [p["name"] for p in result["profiles"]] == ["gate"] and result["partial"], output
    assert all((out / name).exists() for name in REPORT_FILES), sorted(os.listdir(out))
    assert "aborted" in output


def test_a_generator_that_cannot_keep_its_schedule_makes_the_run_inconclusive_and_says_why_once(
        run_scenario: RunScenario) -> None:
    # One request in flight at a time against a 10 ms server cannot carry 200 rps:
    # about half the schedule is sent, so the figures describe the generator's limit.
    result = run_scenario("""
        target: mock
        mock: {latency: "fixed:10ms"}
        request: {path: /predict, timeout: 5s, body: {instances: "{{ rows }}"}}
        dataset: {path: data/iris.csv, seed: 1}
        profiles:
          - {name: starved, kind: constant-rate, rate: 200rps, duration: 2s, max_in_flight: 1}
        sla: [error_rate < 1%]
        """)
    assert result.status == "inconclusive" and result.health.fell_behind, result.health
    summary = text.render(result)
    assert "INCONCLUSIVE (exit 4)" in summary, summary
    for reason in result.health.reasons:
        assert summary.count(reason[:60]) == 1, summary
