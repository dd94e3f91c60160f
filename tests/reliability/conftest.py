"""Fixtures for the end-to-end reliability and security tests.

Targets are the bundled mock server on loopback (``tests/conftest.py``'s
``mock_server``, in this process, for counting tests that read its /metrics, or
``mock_server_proc``, its own process, for the tests that kill it or that run
``loadkit`` itself as a subprocess). ``loadkit`` runs either in-process through
``loadkit.cli._run`` (the real entry point: error mapping, exit codes) or as
``python -m loadkit.cli`` when signals are involved.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

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


@contextmanager
def serve_app(app: Any, ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve an aiohttp ``web.Application`` on a free loopback port, on its own event loop
    in a thread; yields the base URL (``https://`` with ``ssl_context``), stops at exit."""
    from aiohttp import web

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)

        async def main() -> None:
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context).start()
            scheme = "https" if ssl_context is not None else "http"
            box["url"] = f"{scheme}://127.0.0.1:{runner.addresses[0][1]}"
            box["stop"] = asyncio.Event()
            ready.set()
            await box["stop"].wait()
            await runner.cleanup()

        try:
            loop.run_until_complete(main())
        finally:
            loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield box["url"]
    finally:
        loop.call_soon_threadsafe(box["stop"].set)
        thread.join(10)


@dataclass
class CliRun:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli() -> Callable[..., CliRun]:
    """Run ``loadkit ARGS`` in this process through click's CliRunner (the group maps errors
    to their exit codes as the installed command does)."""
    from click.testing import CliRunner

    from loadkit.cli import cli

    def run(*args: str) -> CliRun:
        result = CliRunner().invoke(cli, [str(a) for a in args], prog_name="loadkit")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return CliRun(result.exit_code, result.stdout, result.stderr)

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
