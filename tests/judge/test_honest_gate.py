"""The gate against services that fail in ordinary ways (short real runs on the mock)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from loadkit.cli import _run
from loadkit.results import read

SCENARIO = """\
name: honest
target: http://127.0.0.1:9
request: {{path: /predict, body: {{instances: [[5.1, 3.5, 1.4, 0.2]]}}}}
profiles:
  - {{name: steady, kind: throughput, concurrency: 8, duration: {duration}}}
{sla}"""


def _go(tmp_path: Path, url: str, sla: str, duration: str = "1s") -> tuple[int, Path]:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(sla=sla, duration=duration))
    out = tmp_path / "out"
    code = _run(["run", str(path), "--target", url, "--out", str(out), "--quiet",
                 "--format", "json"])
    return code, out / "result.json"


def test_fast_failures_do_not_hide_slow_successes(
        tmp_path: Path, mock_server: Callable[..., str]) -> None:
    # 60% immediate 503s, 40% successes after 100 ms: every request together has a
    # p50 near 1 ms and ~2x the throughput; the successes have p50 100 ms.
    url = mock_server(latency="fixed:100ms", unavailable_rate=0.6)
    code, out = _go(tmp_path, url, "sla: [p50 < 50ms, throughput >= 120rps]\n")
    result = read(str(out))
    p50, thr = result.verdicts
    assert code == 1 and result.status == "fail"
    assert not p50.passed and p50.observed is not None and p50.observed >= 99
    assert not thr.passed and thr.observed is not None and thr.observed < 120
    stage = result.profiles[0].stages[0]
    assert stage.latency_all_ms.p50 < 50 < stage.latency_ms.p50   # nothing measured is lost
    assert stage.hist_all().count == stage.requests == stage.ok + stage.errors


def test_a_scenario_without_sla_fails_at_100_percent_errors(
        tmp_path: Path, mock_server: Callable[..., str]) -> None:
    url = mock_server(unavailable_rate=1.0)
    code, out = _go(tmp_path, url, "", duration="500ms")
    result = read(str(out))
    (v,) = result.verdicts
    assert code == 1 and v.default and v.expr == "error_rate < 1%" and v.observed == 1.0
    assert any("default rule" in w for w in result.warnings)


def test_a_run_failing_from_its_start_stops_early_and_names_its_errors(
        tmp_path: Path, mock_server: Callable[..., str],
        capsys: pytest.CaptureFixture[str]) -> None:
    url = mock_server()
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: typo\ntarget: http://127.0.0.1:9\nfail_fast: 1s\n"
        "request: {path: /predcit, body: {instances: [[5.1, 3.5, 1.4, 0.2]]}}\n"
        "profiles:\n  - {name: steady, kind: constant-rate, rate: 50, duration: 4s}\n"
        "sla: [p99 < 1s]\n")
    started = time.monotonic()
    code = _run(["run", str(path), "--target", url, "--out", str(tmp_path / "o"), "--quiet",
                 "--format", "json"])
    took = time.monotonic() - started
    out = capsys.readouterr().out
    result = read(str(tmp_path / "o" / "result.json"))
    assert code == 1 and result.status == "fail" and took < 3.5
    assert result.stopped_early.startswith("stopped early:") and "100%" in result.stopped_early
    errors = out[out.index("\nerrors\n"):]
    assert "steady: http_4xx" in errors and "404 ×" in errors and "POST /predcit" in errors
