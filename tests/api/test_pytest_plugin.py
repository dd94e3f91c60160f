"""The pytest plugin end to end: pytest runs a user's test module in a subprocess.

The first test is the issue's acceptance check: a module that starts a server
and gates on it with ``loadkit_run`` + ``loadkit.assert_sla``, one test under
the scenario's own loose SLA and one under ``sla=["p99 < 1ms"]``, run with
``--junitxml``: pytest exits 1, the loose test passes, the strict one fails
naming the rule.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IRIS = (ROOT / "scenarios" / "data" / "iris.csv").read_text()

SCENARIO = """\
name: gate
target: http://127.0.0.1:9          # each test passes its own target=
request: {method: POST, path: /predict, timeout: 2s, body: {instances: "{{ rows }}"}}
dataset: {path: iris.csv}
checks: {status: [200], json_has: [predictions]}
profiles:
  - {name: steady, kind: throughput, concurrency: 2, duration: 0.5s}   # ~400 requests at 2 ms
sla: [p99 < 500ms, error_rate < 1%]
"""

GATE_TESTS = """\
import loadkit
import pytest
from mock_server.options import from_mapping
from mock_server.serve import BackgroundServer


@pytest.fixture(scope="module")
def server():
    srv = BackgroundServer(from_mapping({"latency": "fixed:2ms"}))
    yield srv.start(timeout_s=30)
    srv.stop()


@pytest.mark.loadkit
def test_loose(loadkit_run, server):
    loadkit.assert_sla(loadkit_run("perf/gate.yaml", target=server))


@pytest.mark.loadkit
def test_strict(loadkit_run, server):
    loadkit.assert_sla(loadkit_run("perf/gate.yaml", target=server, sla=["p99 < 1ms"],
                                   formats="json"))
"""


def _plugin_args() -> list[str]:
    """Installed, the entry point loads the plugin; from a bare checkout, name it."""
    if any(e.name == "loadkit" for e in entry_points(group="pytest11")):
        return []
    return ["-p", "loadkit.pytest_plugin"]


def _suite(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return folder


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(
        # hypothesis' plugin costs ~1 s of imports and is nothing to these suites
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
         "-q",
         f"--basetemp={folder / 'tmp'}", "--rootdir", str(folder), *_plugin_args(), *args],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120)


def _cases(junit: Path) -> dict[str, ET.Element]:
    return {c.get("name", ""): c for c in ET.parse(junit).getroot().iter("testcase")}


def test_a_gate_module_passes_its_loose_sla_and_fails_a_strict_one_naming_the_rule(
        tmp_path: Path) -> None:
    suite = _suite(tmp_path / "suite", {
        "test_gate.py": GATE_TESTS, "perf/gate.yaml": SCENARIO,
        "perf/iris.csv": IRIS})
    proc = _pytest(suite, "--junitxml", str(tmp_path / "junit.xml"), "test_gate.py")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    cases = _cases(tmp_path / "junit.xml")
    loose, strict = cases["test_loose"], cases["test_strict"]
    assert loose.find("failure") is None and loose.find("error") is None
    failure = strict.find("failure")
    assert failure is not None
    message = failure.get("message", "") + (failure.text or "")
    assert "steady: p99 < 1ms failed: observed" in message and "threshold 1 ms" in message
    assert "error_rate" not in failure.get("message", "")   # only the rule that failed
    # the report folder is a JUnit property, and holds every report
    props = {p.get("name"): p.get("value") for p in loose.iter("property")}
    assert props["loadkit_status"] == "pass"
    reports = Path(props["loadkit_reports"])
    assert reports.is_relative_to(tmp_path / "suite" / "tmp")
    assert {"result.json", "junit.xml", "report.html", "summary.md", "timeseries.csv"} <= {
        p.name for p in reports.iterdir()}
    strict_props = {p.get("name"): p.get("value") for p in strict.iter("property")}
    assert strict_props["loadkit_status"] == "fail"


MOCK_TESTS = """\
import loadkit
from loadkit.testing import MockTransport, Reply


def test_mocked(loadkit_run, session, fastsession):
    assert (session, fastsession) == ("my session", "my fastsession")
    result = loadkit_run("gate.yaml", transport=MockTransport(Reply(latency_ms=1)),
                         duration="0.3s", formats="json,junit")
    loadkit.assert_sla(result)
    result = loadkit_run("gate.yaml", transport=MockTransport(Reply(status=503)),
                         duration="0.3s", formats=["json"])
    assert not result.passed and result.exit_code == 1
"""

MOCK_CONFTEST = """\
import pytest


@pytest.fixture
def session():
    return "my session"


@pytest.fixture
def fastsession():
    return "my fastsession"
"""


def test_users_session_fixtures_win_over_locusts_and_loadkit_out_collects_the_reports(
        tmp_path: Path) -> None:
    suite = _suite(tmp_path / "suite", {
        "conftest.py": MOCK_CONFTEST, "test_mocked.py": MOCK_TESTS, "gate.yaml": SCENARIO,
        "iris.csv": IRIS})
    proc = _pytest(suite, "--loadkit-out", str(tmp_path / "out"), "test_mocked.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first, second = sorted((tmp_path / "out").iterdir())
    assert (first.name, second.name) == ("test_mocked.py-test_mocked",
                                         "test_mocked.py-test_mocked-2")
    assert sorted(p.name for p in first.iterdir()) == ["junit.xml", "result.json"]
    assert sorted(p.name for p in second.iterdir()) == ["result.json"]


def test_p_no_loadkit_turns_the_plugin_off(tmp_path: Path) -> None:
    suite = _suite(tmp_path / "suite", {"test_x.py": "def test_x(loadkit_run):\n    pass\n"})
    proc = _pytest(suite, "-p", "no:loadkit", "test_x.py")
    assert proc.returncode == 1
    assert "fixture 'loadkit_run' not found" in proc.stdout
