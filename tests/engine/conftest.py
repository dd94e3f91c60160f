"""Fixtures for the engine's integration tests: targets on loopback, transports, helpers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from loadkit.engine import EngineRun
from loadkit.scenario.plan import PayloadSet
from tests.engine.tiny_server import TinyServer

ROOT = Path(__file__).resolve().parents[2]
IRIS_ROW = b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}'
PAYLOADS = {1: PayloadSet(1, (IRIS_ROW,))}


@pytest.fixture(params=["aiohttp", "fast"])
def transport(request: pytest.FixtureRequest) -> str:
    """Every engine integration test runs once per transport (fast: once it exists)."""
    if request.param == "fast":
        pytest.importorskip("loadkit.engine.fast_transport")
    return str(request.param)


@pytest.fixture
def tiny() -> Iterator[Callable[..., TinyServer]]:
    """Start TinyServer(**options) on a free loopback port; stopped after the test."""
    servers: list[TinyServer] = []

    def start(**options: Any) -> TinyServer:
        srv = TinyServer(**options).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


@pytest.fixture
def mock_process() -> Iterator[Callable[..., str]]:
    """The bundled mock server in its own process (``python -m mock_server``).

    For the measurement tests: a server in a thread of the test process would
    share its GIL with the generator and add its own scheduling delay to every
    latency the test checks.
    """
    procs: list[subprocess.Popen[str]] = []

    def start(**options: Any) -> str:
        from mock_server.options import to_argv

        proc = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "--port", "0", *to_argv(options)],
            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), text=True,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("LISTENING "), line
        return line.split()[1]

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def assert_accounted(run: EngineRun) -> None:
    """requests = ok + errors, and every request is in its stage's histogram."""
    for s in run.stages:
        assert s.requests == s.ok + s.errors, s
        assert s.hist().count == s.requests, s
        assert sum(s.error_kinds.values()) == s.errors, s
