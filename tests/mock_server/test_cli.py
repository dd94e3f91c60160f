"""``python -m mock_server`` as a launcher sees it: the LISTENING line, signals, exit codes."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"^LISTENING http://127\.0\.0\.1:(\d+)$")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "mock_server", *args], cwd=ROOT, env=env, check=False,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_first_line_is_listening_and_a_signal_stops_it_cleanly(mock_server_proc, sig) -> None:
    url = mock_server_proc(latency="fixed:1ms", model_version="v3")
    port = int(LISTENING.match(f"LISTENING {url}").group(1))  # type: ignore[union-attr]
    assert port > 0
    with urllib.request.urlopen(url + "/health", timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["X-Model-Version"] == "v3"
    url.proc.send_signal(sig)
    assert url.proc.wait(10) == 0
    assert url.proc.stdout is not None and url.proc.stdout.read() == b""  # nothing after the line


def test_bad_options_print_one_line_on_stderr_and_exit_2() -> None:
    done = _run("--port", "0", "--error-rate", "150%")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("mock_server: error: --error-rate: ")


def test_a_port_in_use_prints_one_line_and_exits_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = _run("--port", str(taken.getsockname()[1]))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "cannot listen" in done.stderr


def test_dry_run_prints_the_resolved_options_and_sends_nothing() -> None:
    done = _run("--preset", "overloaded", "--queue", "3", "--dry-run")
    assert done.returncode == 0
    resolved = json.loads(done.stdout)
    assert resolved["capacity"] == 4 and resolved["queue"] == 3
    assert resolved["latency"] == "fixed:25ms"
