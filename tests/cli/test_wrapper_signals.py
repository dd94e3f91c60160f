"""SIGTERM to a wrapper command reaches what it started: nothing orphaned, every port free.

``kill -TERM`` reaches one process (a Kubernetes pod stop, loadkit as PID 1), unlike
Ctrl-C in a terminal, which reaches the whole foreground process group.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
from tests.locust_bridge.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_listening(proc: subprocess.Popen[bytes], port: int, timeout_s: float) -> None:
    ends = time.monotonic() + timeout_s
    while not _listening(port):
        assert proc.poll() is None, "the wrapper exited early"
        assert time.monotonic() < ends, f"port {port} never opened"
        time.sleep(0.05)


def _term_and_check(proc: subprocess.Popen[bytes], ports: list[int]) -> None:
    family = psutil.Process(proc.pid).children(recursive=True)
    assert family, "the wrapper started no child"
    proc.send_signal(signal.SIGTERM)                    # to the wrapper alone
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    gone, alive = psutil.wait_procs(family, timeout=5)
    for p in alive:
        p.kill()
    assert alive == [], "children outlived the wrapper"
    assert [p for p in ports if _listening(p)] == []


def test_sigterm_to_loadkit_mock_server_stops_the_server_and_frees_its_port() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "loadkit.cli", "mock-server", "--port",
                             str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _wait_listening(proc, port, 20)
    _term_and_check(proc, [port])


# `loadkit locust`: the web UI tests (tests/locust_bridge/test_webui.py) start Locust through
# the wrapper and stop it with SIGTERM to the wrapper alone, checking the same way.
