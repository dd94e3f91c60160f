"""The CI-gate features end to end through ``loadkit run`` (the CLI's own entry point,
``loadkit.cli._run``: its exit codes, its output, its reports -- in this process, as no
signal is involved: a Python start-up with loadkit's imports costs 2-5 s a run on a
2-core CI box): stability windows (stable -> decided; never stable -> inconclusive,
exit 4) and abort on fail (a breach after the grace ends the run early, exit 1, full
reports)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from loadkit.cli import _run
from loadkit.engine import health
from loadkit.reporters import text
from tests.e2e.conftest import RunScenario, WriteScenario, describe

REPORT_FILES = ("result.json", "report.html", "junit.xml", "summary.md", "timeseries.csv")


def loadkit_run(scenario: Path, out: Path,
                capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    """``loadkit run SCENARIO --out OUT --quiet``: (exit code, result.json, stdout + stderr)."""
    capsys.readouterr()
    code = _run(["run", str(scenario), "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    result = json.loads((out / "result.json").read_text()) if (out / "result.json").exists() else {}
    return code, result, captured.out + captured.err


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
        stability: {{windows: 3, window: 1s, tolerance: 50%, max_duration: {max_s}}}
    sla: [error_rate < 1%]
    """


def test_a_steady_step_is_marked_stable_and_the_run_decides(run_scenario: RunScenario) -> None:
    result = run_scenario(STABILITY.format(extra="", max_s="6s"))
    stage = result.profiles[0].measured_stages()[0]
    why = describe(result)
    assert stage.stable is True, why
    assert result.status == "pass" and result.exit_code == 0, why
    assert "; stable after " in result.profiles[0].analysis.headline, why


def test_a_step_that_never_settles_is_unstable_and_the_run_inconclusive(
        write_scenario: WriteScenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A 0.5 s stall every 1.5 s: every three one-second windows hold a stalled one
    # (p99 ~ hundreds of ms) and a clean one (~13 ms), so their p99s never agree within 50%.
    path = write_scenario(STABILITY.format(extra=', stall: "0.5s@every:1.5s"', max_s="4s"))
    code, result, output = loadkit_run(path, tmp_path / "out", capsys)
    stage = [s for s in result["profiles"][0]["stages"] if not s["warmup"]][0]
    assert stage["stable"] is False, output
    assert code == 4 and result["status"] == "inconclusive", output
    assert "never stabilised" in output, output
    assert "never stabilised in " in result["profiles"][0]["analysis"]["headline"], output
    assert all((tmp_path / "out" / name).exists() for name in REPORT_FILES)


def test_an_abort_rule_ends_the_run_early_with_exit_1_and_full_reports(
        write_scenario: WriteScenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
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
    code, result, output = loadkit_run(path, out, capsys)
    assert code == 1 and result["status"] == "fail", output
    assert any(w.startswith("aborted: error_rate < 5%") for w in result["warnings"]), output
    gate = result["profiles"][0]
    requests = sum(s["requests"] for s in gate["stages"])
    assert 0 < requests < 1000, output          # ended well before its 2000 planned requests
    assert [p["name"] for p in result["profiles"]] == ["gate"] and result["partial"], output
    assert all((out / name).exists() for name in REPORT_FILES), sorted(os.listdir(out))
    assert "aborted" in output


def test_a_generator_that_fell_behind_makes_the_run_inconclusive_and_says_why_once(
        run_scenario: RunScenario, monkeypatch: pytest.MonkeyPatch) -> None:
    # Starving the generator on purpose is not reproducible on a shared box, so the
    # engine's own judgement is forced (the run itself is real): every reason it
    # gives must reach the summary exactly once, and the run cannot pass.
    reason = "stage 100 rps: 50 of 200 requests started over 10 ms late (forced by the test)"
    monkeypatch.setattr(health, "fell_behind_reasons", lambda *args, **kwargs: [reason])
    result = run_scenario("""
        target: mock
        mock: {latency: "fixed:2ms"}
        request: {path: /predict, timeout: 5s, body: {instances: "{{ rows }}"}}
        dataset: {path: data/iris.csv, seed: 1}
        profiles:
          - {name: steady, kind: constant-rate, rate: 100rps, duration: 1s}
        sla: [error_rate < 1%]
        """)
    assert result.status == "inconclusive" and result.health.reasons == (reason,), result.health
    summary = text.render(result)
    assert "INCONCLUSIVE (exit 4)" in summary, summary
    assert summary.count(reason[:60]) == 1, summary
