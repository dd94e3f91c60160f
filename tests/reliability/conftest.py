"""Fixtures for the end-to-end reliability and security tests.

Targets are the bundled mock server on loopback: in this process (a
``BackgroundServer`` thread, for counting tests that read its /metrics) or as
its own process (for the tests that kill it or that run ``loadkit`` itself as a
subprocess). ``loadkit`` runs either in-process through ``loadkit.cli._run`` (the
real entry point: error mapping, exit codes) or as ``python -m loadkit.cli``
when signals are involved.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
IRIS = ROOT / "scenarios" / "data" / "iris.csv"
CLI = [sys.executable, "-m", "loadkit.cli"]
REPORT_FILES = ("result.json", "report.html", "junit.xml", "summary.md", "timeseries.csv")


def scenario(target: str = "http://127.0.0.1:9", *, rate: float = 100, duration: str = "1s",
             timeout: str = "1s", sla: list[str] | None = None, **top: Any) -> dict[str, Any]:
    """A small constant-rate scenario over the iris dataset, as a mapping to tweak."""
    sc: dict[str, Any] = {
        "name": "reliability",
        "target": target,
        "request": {"method": "POST", "path": "/predict", "timeout": timeout,
                    "body": {"instances": "{{ rows }}"}},
        "dataset": {"path": str(IRIS), "sample": 50, "seed": 1},
        "checks": {"status": [200], "json_has": ["predictions"]},
        "profiles": [{"name": "steady", "kind": "constant-rate", "rate": rate,
                      "duration": duration}],
        "sla": sla or [],
    }
    sc.update(top)
    return sc


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """Write a scenario (a mapping, or raw YAML text) and return its path."""

    def write(content: dict[str, Any] | str, filename: str = "scenario.yaml") -> Path:
        path = tmp_path / filename
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path.write_text(text)
        return path

    return write


@dataclass
class Mock:
    """A running mock server: its base URL and a way to read its counters."""

    url: str

    def metrics(self) -> dict[str, float]:
        """The /metrics samples by name (labels kept in the name)."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=5) as resp:
            text = resp.read().decode()
        out: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def received(self) -> tuple[int, int]:
        """(/predict requests the server finished, /predict requests still in its hands)."""
        m = self.metrics()
        done = sum(v for k, v in m.items() if k.startswith("mock_requests_total{"))
        return int(done), int(m["mock_in_flight_requests"])

    def settled(self, timeout_s: float = 5.0) -> tuple[int, int]:
        """``received()`` once nothing is in flight on the server (or the timeout passed)."""
        end = time.monotonic() + timeout_s
        while True:
            done, in_flight = self.received()
            if in_flight == 0 or time.monotonic() > end:
                return done, in_flight
            time.sleep(0.05)


@pytest.fixture
def mock_server() -> Iterator[Callable[..., Mock]]:
    """``mock_server(**options)``: the mock in a thread of this process; stopped after the test."""
    from mock_server.options import from_mapping
    from mock_server.serve import BackgroundServer

    servers: list[BackgroundServer] = []

    def start(**options: Any) -> Mock:
        srv = BackgroundServer(from_mapping(options))
        url = srv.start()
        servers.append(srv)
        return Mock(url)

    yield start
    for srv in servers:
        srv.stop()


@dataclass
class MockProc:
    url: str
    proc: subprocess.Popen[str]

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(5)


@pytest.fixture
def mock_server_proc() -> Iterator[Callable[..., MockProc]]:
    """``mock_server_proc(**options)``: the mock as its own process (to kill it, or for a
    loadkit subprocess to aim at without sharing a GIL with the test)."""
    from mock_server.options import to_argv

    procs: list[subprocess.Popen[str]] = []

    def start(**options: Any) -> MockProc:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "--port", "0", *to_argv(options)],
            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), text=True,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("LISTENING "), line
        return MockProc(line.split()[1], proc)

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class CliRun:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliRun]:
    """Run ``loadkit ARGS`` in this process through its real entry point (exit-code mapping)."""
    from loadkit.cli import _run

    def run(*args: str) -> CliRun:
        capsys.readouterr()
        code = _run([str(a) for a in args])
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run


def cli_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")


def read_result(out: Path) -> dict[str, Any]:
    return json.loads((out / "result.json").read_text())


def stages_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in result["profiles"] for s in p["stages"]]


def one_line_error(err: str) -> str:
    """The single stderr line of a refused command (asserting there is exactly one)."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


SCRIPT = re.compile(r"<\s*script", re.IGNORECASE)
