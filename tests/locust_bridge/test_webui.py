"""The web UI: a swarm through Locust's HTTP API writes loadkit's reports; Chromium sees the scenario."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

from .conftest import ROOT, free_port, read_json, stop

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _wait_http(url: str, timeout_s: float = 30.0) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.read().decode()
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _post(url: str, form: dict[str, str] | None = None) -> dict:
    data = urllib.parse.urlencode(form or {}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST"),
                                timeout=10) as resp:
        return json.loads(resp.read() or b"{}")


def _wait_for(what: str, check, timeout_s: float = 30.0):
    """Poll ``check()`` until it returns something truthy (its value), or fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _loadkit_rows(base: str) -> list[dict]:
    stats = json.loads(_wait_http(base + "/stats/requests"))
    (tab,) = [e for e in stats["extended_stats"] if e["key"] == "loadkit"]
    return [row for row in tab["data"] if row["requests"] > 0]


def _reports(out: Path) -> dict | None:
    """result.json once complete (it parses) and the reports that follow it are there."""
    if not all((out / name).exists() for name in ("result.json", "report.html", "junit.xml")):
        return None
    try:
        return read_json(out / "result.json")
    except ValueError:                      # still being written
        return None


@pytest.fixture
def web_ui(scenario_factory, tmp_path):
    """Locust's UI started as a user does, through the ``loadkit locust`` wrapper.

    Stopped with SIGTERM to the wrapper alone (``stop``), as a pod stop does: Locust
    and the mock server it started must be gone after, and every port they held free.
    """
    scenario = scenario_factory(name="bridge-ui")
    port = free_port()
    out = tmp_path / "out"
    with open(tmp_path / "ui.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "loadkit.cli", "locust", str(scenario),
                                 "--web-port", str(port), "--out", str(out), "--",
                                 "--loglevel", "WARNING"], stdout=log, stderr=subprocess.STDOUT,
                                cwd=str(ROOT))
    base = f"http://127.0.0.1:{port}"
    family: list[psutil.Process] = []
    ports: set[int] = set()
    try:
        _wait_http(base + "/")
        family = psutil.Process(proc.pid).children(recursive=True)
        ports = {c.laddr.port for p in family for c in p.net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN}
        assert port in ports and len(ports) >= 2       # the web UI and the mock server
        yield base, out, proc
    finally:
        stop(proc)
    _, alive = psutil.wait_procs(family, timeout=5)
    for p in alive:
        p.kill()
    assert alive == [], "Locust or its mock server outlived the wrapper's SIGTERM"
    assert [p for p in ports if _listening(p)] == []


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_swarm_and_stop_through_the_ui_api_write_loadkit_reports(web_ui):
    base, out, proc = web_ui
    page = _wait_http(base + "/")
    assert "loadkit · bridge-ui · Locust" in page
    reply = _post(base + "/swarm", {"user_count": "3", "spawn_rate": "3"})
    assert reply["success"], reply
    _wait_for("the live loadkit table to count requests", lambda: _loadkit_rows(base))
    _post(base + "/stop")
    result = _wait_for("result.json and the reports after stop", lambda: _reports(out))
    assert result["profiles"][0]["name"] == "manual"
    assert result["profiles"][0]["stages"][0]["concurrency"] == 3
    assert result["profiles"][0]["summary"]["requests"] > 0
    assert (out / "report.html").exists() and (out / "junit.xml").exists()
    assert stop(proc) == 0                                       # the run passed its SLAs


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed "
                    "(apt-get install -y chromium) — browser check skipped")
def test_chromium_renders_the_ui_with_the_scenario_name(web_ui, tmp_path):
    base, _out, _proc = web_ui
    assert _post(base + "/swarm", {"user_count": "1", "spawn_rate": "1"})["success"]
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           f"--user-data-dir={tmp_path / 'chrome'}", "--virtual-time-budget=8000",
           "--dump-dom", base + "/"]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False).stdout
    assert "<title>loadkit · bridge-ui · Locust</title>" in dom
    assert "loadkit: bridge-ui" in dom             # the tab React rendered from extended_tabs
