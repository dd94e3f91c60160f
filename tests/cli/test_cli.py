"""The command line through click's CliRunner: exit codes, files written, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from loadkit.cli import cli
from loadkit.results import read

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = """\
name: cli-test
target: http://127.0.0.1:1
request:
  method: POST
  path: /predict
  timeout: 2s
  body: {{instances: "{{{{ rows }}}}"}}
dataset: {{path: iris.csv, sample: 50, seed: 1}}
checks: {{status: [200], json_has: [predictions]}}
profiles:
  - {{name: latency, kind: latency, requests: {requests}}}
  - {{name: steady, kind: constant-rate, rate: 100, duration: 1s}}
sla:
  - p99 < 500ms
  - error_rate < 1%
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "scenarios" / "data" / "iris.csv", tmp_path / "iris.csv")
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(requests=60))
    return path


def invoke(args: list[str]) -> tuple[int, str, str]:
    """``loadkit ARGS`` through click's CliRunner: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(cli, args, prog_name="loadkit")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception                     # a bug, not an exit: show its traceback
    return result.exit_code, result.stdout, result.stderr


def test_validate_accepts_a_good_scenario_and_sends_nothing(scenario):
    code, out, err = invoke(["validate", str(scenario)])
    assert code == 0, err
    assert out.startswith("ok: cli-test: 2 profile(s)")


def test_validate_refuses_a_broken_field_with_one_line_and_exit_2(scenario):
    scenario.write_text(scenario.read_text().replace("rate: 100", "rate: -5"))
    code, out, err = invoke(["validate", str(scenario)])
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "profiles[1].rate" in err
    assert "Traceback" not in err + out


def test_run_writes_every_report_and_passes(scenario, tmp_path, mock_server):
    url = mock_server(latency="fixed:2ms")
    out_dir = tmp_path / "out"
    code, out, err = invoke(["run", str(scenario), "--target", url, "--out", str(out_dir),
                             "--quiet"])
    assert code == 0, out + err
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "junit.xml", "report.html", "result.json", "summary.md", "timeseries.csv"]
    result = read(str(out_dir / "result.json"))
    assert result.status == "pass"
    assert [p.name for p in result.profiles] == ["latency", "steady"]
    assert result.profiles[0].summary.requests == 60
    assert "latency" in out and "PASS" in out


def test_an_impossible_sla_on_the_command_line_fails_the_run_with_exit_1(scenario, tmp_path,
                                                                          mock_server):
    url = mock_server(latency="fixed:2ms")
    code, out, _ = invoke(["run", str(scenario), "--target", url, "--out", str(tmp_path / "o"),
                           "--quiet", "--sla", "p50<1us", "--profile", "latency"])
    assert code == 1
    verdicts = json.loads((tmp_path / "o" / "result.json").read_text())["verdicts"]
    assert any(v["expr"] == "p50 < 1us" and not v["passed"] for v in verdicts)


def test_a_target_on_a_closed_port_exits_3_with_one_line(scenario, tmp_path):
    code, out, err = invoke(["run", str(scenario), "--out", str(tmp_path / "o"), "--quiet"])
    assert code == 3
    assert "unreachable" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_bad_sla_expression_is_exit_2_naming_the_option(scenario, tmp_path):
    code, _, err = invoke(["run", str(scenario), "--sla", "p99 < fast", "--quiet",
                           "--out", str(tmp_path / "o")])
    assert code == 2
    assert "fast" in err and "Traceback" not in err


def test_json_flag_prints_the_result_on_stdout(scenario, tmp_path, mock_server):
    url = mock_server(latency="fixed:1ms")
    code, out, _ = invoke(["run", str(scenario), "--target", url, "--json", "--profile", "latency",
                           "--out", str(tmp_path / "o")])
    assert code == 0
    assert json.loads(out)["schema"] == "loadkit.result/v2"


def test_report_re_renders_every_format_from_a_result(scenario, tmp_path, mock_server):
    url = mock_server(latency="fixed:1ms")
    invoke(["run", str(scenario), "--target", url, "--quiet", "--profile", "latency",
            "--out", str(tmp_path / "o"), "--format", "json"])
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["result.json"]
    code, out, err = invoke(["report", str(tmp_path / "o" / "result.json"),
                             "--out", str(tmp_path / "r")])
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        "junit.xml", "report.html", "result.json", "summary.md", "timeseries.csv"]


def test_merge_adds_the_requests_of_parallel_generators_exactly(scenario, tmp_path, mock_server):
    url = mock_server(latency="fixed:1ms")
    for name in ("a", "b"):
        code, _, err = invoke(["run", str(scenario), "--target", url, "--quiet",
                               "--profile", "latency", "--out", str(tmp_path / name)])
        assert code == 0, err
    code, out, err = invoke(["merge", str(tmp_path / "a" / "result.json"),
                             str(tmp_path / "b" / "result.json"), "--out", str(tmp_path / "m")])
    assert code == 0, err
    merged = read(str(tmp_path / "m" / "result.json"))
    a = read(str(tmp_path / "a" / "result.json"))
    b = read(str(tmp_path / "b" / "result.json"))
    assert merged.profiles[0].summary.requests == (a.profiles[0].summary.requests
                                                   + b.profiles[0].summary.requests) == 120
    assert merged.environment.processes == 2
    assert {v.expr for v in merged.verdicts} == {"p99 < 500ms", "error_rate < 1%"}


def test_github_step_summary_gets_the_markdown_summary(scenario, tmp_path, mock_server,
                                                      monkeypatch):
    summary = tmp_path / "gh.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    url = mock_server(latency="fixed:1ms")
    code, _, _ = invoke(["run", str(scenario), "--target", url, "--quiet", "--profile", "latency",
                         "--out", str(tmp_path / "o")])
    assert code == 0
    assert "cli-test" in summary.read_text()


def test_unknown_format_is_refused_before_anything_is_sent(scenario, tmp_path):
    code, _, err = invoke(["run", str(scenario), "--format", "pdf", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "--format" in err


def _write_result(path: Path, scale: float, seed: int) -> None:
    import dataclasses

    import numpy as np

    from loadkit.results import dumps
    from loadkit.testing import interval, profile, run_result, stage

    rng = np.random.default_rng(seed)
    lat = (rng.lognormal(np.log(10_000 * scale), 0.3, 3000)).astype(int)
    t0 = 1_700_000_000.0
    ts = [interval(t0 + i, 0, float(np.percentile(lat[i * 100:(i + 1) * 100], 99)) / 1000,
                   t0=t0) for i in range(30)]
    result = run_result(profile(stages=[stage(latencies_us=lat, duration_s=30.0)], timeseries=ts))
    path.write_text(dumps(dataclasses.replace(result, started_at=t0)))


@pytest.mark.parametrize("scale, expected", [(1.0, 0), (1.5, 1)], ids=["same", "50pct-slower"])
def test_compare_exits_0_for_an_equal_candidate_and_1_for_a_slower_one(tmp_path, scale,
                                                                        expected):
    _write_result(tmp_path / "base.json", 1.0, seed=1)
    _write_result(tmp_path / "cand.json", scale, seed=2)
    code, out, err = invoke(["compare", str(tmp_path / "base.json"), str(tmp_path / "cand.json"),
                             "--out", str(tmp_path / "c")])
    assert code == expected, out + err
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [
        "compare.html", "compare.json", "junit.xml"]


def test_compare_refuses_a_bad_threshold_with_exit_2(tmp_path):
    _write_result(tmp_path / "base.json", 1.0, seed=1)
    code, _, err = invoke(["compare", str(tmp_path / "base.json"), str(tmp_path / "base.json"),
                           "--p99", "lots"])
    assert code == 2
    assert err.strip().endswith("--p99: 'lots' is not a percentage (use e.g. 1% or 0.01)"), err
    assert "Traceback" not in err


def test_compare_reads_the_scenario_compare_block_and_a_flag_overrides_it(tmp_path, scenario):
    _write_result(tmp_path / "base.json", 1.0, seed=1)
    _write_result(tmp_path / "slow.json", 1.3, seed=2)
    scenario.write_text(scenario.read_text() + "compare: {p99: null, p95: null, min_windows: 40}\n")
    args = ["compare", str(tmp_path / "base.json"), str(tmp_path / "slow.json"),
            "--scenario", str(scenario), "--json"]
    code, out, _ = invoke(args)
    doc = json.loads(out)
    assert (code, doc["thresholds"]["min_windows"], doc["thresholds"]["p99_increase"]) == (
        4, 40, None)                                 # 30 windows a side < 40: inconclusive
    code, out, _ = invoke([*args, "--p99", "10%"])
    assert json.loads(out)["thresholds"]["p99_increase"] == 0.1


def test_canary_refuses_a_non_http_candidate_before_sending(scenario):
    code, _, err = invoke(["canary", str(scenario), "--baseline", "http://127.0.0.1:1",
                           "--candidate", "ftp://x"])
    assert code == 2
    assert "--candidate" in err


def test_merge_judges_a_rule_scoped_to_a_stage_on_that_stage_again(tmp_path):
    from dataclasses import replace

    from loadkit.testing import latencies, profile, run_result, stage
    from loadkit.results import dumps

    # result.json keeps a scoped rule as "p99 < 50ms @ stage 2"; merge must not
    # widen it to the whole ramp (whose first step is fast and would pass it)
    ramp = profile("ramp", "ramp", [stage(1, latencies(10), concurrency=1),
                                    stage(2, latencies(80), concurrency=2)])
    ramp = replace(ramp, sla=("p99 < 50ms @ stage 2",))
    for i, name in enumerate(("a", "b")):          # two generators: two starts
        (tmp_path / f"{name}.json").write_text(dumps(run_result(ramp, started_at=float(i))))
    code, _, err = invoke(["merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"),
                           "--out", str(tmp_path / "m")])
    assert code == 1, err
    (v,) = read(str(tmp_path / "m" / "result.json")).verdicts
    assert (v.expr, v.scope, v.judged_stage, v.passed) == ("p99 < 50ms", "stage", 2, False)
    assert v.observed == pytest.approx(80, rel=0.01)      # HDR precision
