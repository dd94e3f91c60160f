"""Ctrl-C and SIGTERM: a `loadkit run` subprocess stops soon, keeps what it measured.

First signal: the run stops within 5 s, writes result.json with ``"partial": true``
and every report, and exits 130. A second SIGINT aborts at once (exit 130).
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any
from collections.abc import Callable

import psutil
import pytest

from tests.conftest import signal_delivered, wait_until
from tests.reliability.conftest import CLI, REPORT_FILES, cli_env, read_result, scenario

STOP_WITHIN_S = 5.0


def start_run(path: Path, out: Path) -> subprocess.Popen[str]:
    """Start `loadkit run` and return once its load has begun (a progress line)."""
    proc = subprocess.Popen([*CLI, "run", str(path), "--out", str(out)], env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:                     # plain progress lines: stderr is not a TTY
        if "rps" in line:
            return proc
    proc.wait(5)
    raise AssertionError(f"the run never started (exit {proc.returncode})")


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=STOP_WITHIN_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"loadkit did not stop within {STOP_WITHIN_S:g}s") from None
    return proc.returncode, out, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_run_and_keeps_a_partial_result(
        sig: signal.Signals, mock_server_proc: Callable[..., Any],
        write_scenario: Callable[..., Path], tmp_path: Path) -> None:
    mock = mock_server_proc(latency="fixed:5ms")
    sc = scenario(mock.url, rate=100, duration="60s", sla=["error_rate < 1%"])
    sc["profiles"].append({"name": "never", "kind": "throughput", "concurrency": 2,
                           "duration": "60s"})
    out = tmp_path / "out"
    proc = start_run(write_scenario(sc), out)
    proc.send_signal(sig)
    code, stdout, stderr = finish(proc)
    assert code == 130, stderr
    assert "Traceback" not in stderr
    for name in REPORT_FILES:
        assert (out / name).stat().st_size > 0, name
    result = read_result(out)
    assert result["partial"] is True
    assert result["status"] == "interrupted"
    assert [p["name"] for p in result["profiles"]] == ["steady"]     # the next one never ran
    stage = result["profiles"][0]["stages"][-1]
    assert stage["requests"] > 0
    assert stage["requests"] == stage["ok"] + stage["errors"]
    assert "partial" in (out / "report.html").read_text().lower()


def test_a_second_sigint_aborts_at_once(
        mock_server_proc: Callable[..., Any], write_scenario: Callable[..., Path],
        tmp_path: Path) -> None:
    # Every request hangs, so a graceful stop would wait out its grace for them.
    mock = mock_server_proc(hang_rate="100%", hang="1h")
    sc = scenario(mock.url, rate=50, duration="60s", timeout="30s")
    out = tmp_path / "out"
    proc = start_run(write_scenario(sc), out)
    proc.send_signal(signal.SIGINT)
    # two signals sent back to back would merge into one in the kernel
    wait_until("the first SIGINT to be delivered", lambda: signal_delivered(proc.pid, signal.SIGINT))
    proc.send_signal(signal.SIGINT)
    code, _, stderr = finish(proc)
    assert code == 130
    assert "Traceback" not in stderr
    assert "loadkit: aborted; no reports written" in stderr
    assert not (out / "result.json").exists()     # aborted: no grace, nothing written


def test_sigterm_while_waiting_for_readiness_exits_130_and_stops_the_mock(
        write_scenario: Callable[..., Path], tmp_path: Path) -> None:
    sc = scenario("mock", mock={"cold_start": "1h"}, readiness={"path": "/ready"})
    proc = subprocess.Popen([*CLI, "run", str(write_scenario(sc)), "--wait-ready", "60s",
                             "--out", str(tmp_path / "out")],
                            env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    me = psutil.Process(proc.pid)
    mocks: list[psutil.Process] = wait_until("the mock server child", lambda: [
        c for c in me.children(recursive=True) if "mock_server" in " ".join(c.cmdline())])
    ports = wait_until("the mock server to listen", lambda: {
        c.laddr.port for c in mocks[0].net_connections("tcp") if c.status == psutil.CONN_LISTEN})
    # loadkit's probes are short connections (closed at once: TIME_WAIT, owned by no
    # process), so look system-wide for any connection to the mock's port
    wait_until("loadkit to start probing the mock", lambda: any(
        c.raddr and c.raddr.port in ports for c in psutil.net_connections("tcp")))
    proc.send_signal(signal.SIGTERM)
    code, _, stderr = finish(proc)
    assert code == 130, stderr
    # nothing but the one line: no traceback, no "Exception ignored in: <coroutine ...>"
    # from a probe coroutine left suspended when the loop closed
    assert stderr.strip().splitlines() == ["loadkit: aborted; no reports written"], stderr
    _, alive = psutil.wait_procs(mocks, timeout=STOP_WITHIN_S)
    assert not alive, "the mock server outlived loadkit"
