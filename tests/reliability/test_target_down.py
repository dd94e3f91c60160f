"""The target dies mid-run, never comes up, or comes up late.

Dies mid-run: the run goes on, counts connect errors from that moment, writes
its reports and fails the error-rate SLA (exit 1). Never up: exit 3 and one
line, with or without ``--wait-ready``. Up late: ``--wait-ready`` waits for the
readiness path and the run then starts clean.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from collections.abc import Callable

import pytest

from tests.reliability.conftest import REPORT_FILES, one_line_error, read_result, scenario


@pytest.mark.parametrize("transport", ["fast", "aiohttp"])
def test_a_server_killed_mid_run_turns_into_connect_errors_and_a_failed_sla(
        transport: str, mock_server_proc: Callable[..., Any], run_cli: Callable[..., Any],
        write_scenario: Callable[..., Path], tmp_path: Path) -> None:
    mock = mock_server_proc()
    path = write_scenario(scenario(mock.url, rate=100, duration="2.5s", timeout="500ms",
                                   sla=["error_rate < 1%"]))
    killer = threading.Timer(1.5, mock.kill)
    killer.start()
    out = tmp_path / "out"
    try:
        res = run_cli("run", path, "--out", out, "--transport", transport, "--quiet")
    finally:
        killer.cancel()
    assert res.code == 1, res.out + res.err
    assert "Traceback" not in res.err
    for name in REPORT_FILES:
        assert (out / name).stat().st_size > 0, name
    result = read_result(out)
    stage = result["profiles"][0]["stages"][-1]
    assert stage["requests"] == stage["ok"] + stage["errors"]
    assert stage["ok"] > 0                                    # it worked before the kill
    assert stage["error_kinds"].get("connect", 0) > 0, stage["error_kinds"]
    # The requests in flight at the kill end as reset (on either transport); every
    # request after it is a connect error.
    assert set(stage["error_kinds"]) <= {"connect", "reset"}, stage["error_kinds"]
    assert stage["error_kinds"]["connect"] >= 0.9 * stage["errors"], stage["error_kinds"]
    series = [iv for iv in result["profiles"][0]["timeseries"] if iv["requests"]]
    assert series[0]["ok"] > 0                                # it started well
    assert series[-1]["ok"] == 0 and series[-1]["errors"] > 0  # and ended all errors
    dead = next(i for i, iv in enumerate(series) if iv["ok"] == 0)
    assert all(iv["ok"] == 0 and iv["errors"] > 0 for iv in series[dead:])  # every second
    assert [v["passed"] for v in result["verdicts"]] == [False]


def test_a_target_that_never_comes_up_exits_3_with_one_line(
        run_cli: Callable[..., Any], write_scenario: Callable[..., Path], closed_port: int,
        tmp_path: Path) -> None:
    path = write_scenario(scenario(f"http://127.0.0.1:{closed_port}"))
    res = run_cli("run", path, "--out", tmp_path / "out")
    assert res.code == 3
    line = one_line_error(res.err)
    assert f"127.0.0.1:{closed_port}" in line and "unreachable" in line
    assert not (tmp_path / "out").exists()                   # nothing measured, nothing written


def test_wait_ready_polls_then_gives_up_with_exit_3(
        run_cli: Callable[..., Any], write_scenario: Callable[..., Path], closed_port: int) -> None:
    path = write_scenario(scenario(f"http://127.0.0.1:{closed_port}"))
    res = run_cli("run", path, "--wait-ready", "1s", "--quiet")
    assert res.code == 3
    line = one_line_error(res.err)
    assert "within 1s" in line


def test_wait_ready_gives_up_on_a_server_whose_readiness_never_turns_200(
        mock_server_proc: Callable[..., Any], run_cli: Callable[..., Any],
        write_scenario: Callable[..., Path]) -> None:
    mock = mock_server_proc(cold_start="1h")
    path = write_scenario(scenario(mock.url, readiness={"path": "/ready"}))
    res = run_cli("run", path, "--wait-ready", "1s", "--quiet")
    assert res.code == 3
    line = one_line_error(res.err)
    assert "never became ready" in line and "/ready" in line and "503" in line


def test_wait_ready_waits_out_a_cold_start_and_the_run_is_clean(
        mock_server_proc: Callable[..., Any], run_cli: Callable[..., Any],
        write_scenario: Callable[..., Path], tmp_path: Path) -> None:
    mock = mock_server_proc(cold_start="1s")   # /ready and /predict answer 503 for 1 s
    path = write_scenario(scenario(mock.url, rate=50, duration="1s",
                                   readiness={"path": "/ready"}, sla=["error_rate < 1%"]))
    res = run_cli("run", path, "--wait-ready", "5s", "--out", tmp_path / "out", "--quiet",
                  "--format", "json")
    assert res.code == 0, res.out + res.err
    stage = read_result(tmp_path / "out")["profiles"][0]["stages"][-1]
    assert stage["errors"] == 0 and stage["ok"] > 0
