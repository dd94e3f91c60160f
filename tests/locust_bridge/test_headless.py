"""Headless Locust as a CI gate: reports and loadkit's exit code (Locust in a subprocess)."""

from __future__ import annotations

import subprocess

from loadkit.locust_bridge.launch import bridge_env, build_locust_command, run_locust

from .conftest import ROOT, read_json


def test_passing_sla_writes_every_report_and_exits_0(scenario_factory, tmp_path):
    scenario = scenario_factory(name="bridge-pass")
    out = tmp_path / "out"
    code = run_locust(scenario, profile="quick", out_dir=out, mode="headless",
                      extra_args=["--loglevel", "WARNING"])
    assert code == 0
    assert {"result.json", "report.html", "junit.xml", "summary.md"} <= {p.name for p in out.iterdir()}
    result = read_json(out / "result.json")
    assert result["status"] == "pass"
    assert result["scenario"]["name"] == "bridge-pass"
    assert result["environment"]["transport"] == "locust-fasthttp"
    (profile,) = result["profiles"]
    assert profile["name"] == "quick" and profile["stages"][0]["concurrency"] == 4
    stage = profile["stages"][0]
    assert stage["requests"] > 0 and stage["requests"] == stage["ok"] + stage["errors"]
    assert stage["histogram"].startswith("HISTF")


def test_failing_sla_exits_1_and_still_writes_reports(scenario_factory, tmp_path):
    scenario = scenario_factory(name="bridge-fail", sla=("p50 < 1us",))
    out = tmp_path / "out"
    cmd = build_locust_command(scenario, profile="quick", out_dir=out, mode="headless",
                               extra_args=["--loglevel", "WARNING"])
    proc = subprocess.run(cmd, env=bridge_env(scenario, profile="quick", out_dir=out),
                          capture_output=True, text=True, timeout=60, cwd=str(ROOT), check=False)
    assert proc.returncode == 1, proc.stderr[-2000:]
    result = read_json(out / "result.json")
    assert result["status"] == "fail"
    assert [v["passed"] for v in result["verdicts"]] == [False]
    assert "FAIL" in proc.stdout                    # loadkit's own table is printed


def test_unknown_profile_is_refused_before_locust_starts(scenario_factory, tmp_path):
    from loadkit.errors import UsageError

    scenario = scenario_factory(name="bridge-bad")
    try:
        run_locust(scenario, profile="nope", out_dir=tmp_path / "o", mode="headless")
    except UsageError as exc:
        assert "nope" in str(exc)
    else:
        raise AssertionError("an unknown profile must be a usage error")
