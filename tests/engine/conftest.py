"""Fixtures for the engine's integration tests: targets on loopback, transports, helpers.

The mock server (``mock_server``, ``mock_server_proc``) and ``closed_port`` come from
the shared ``tests/conftest.py``; ``tiny`` is the engine's own exact little target.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from loadkit.engine import EngineRun
from loadkit.scenario.plan import PayloadSet
from tests.engine.tiny_server import TinyServer

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


def assert_accounted(run: EngineRun) -> None:
    """requests = ok + errors, and every request is in its stage's histogram."""
    for s in run.stages:
        assert s.requests == s.ok + s.errors, s
        assert s.hist_all().count == s.requests and s.hist().count == s.ok, s
        assert sum(s.error_kinds.values()) == s.errors, s
