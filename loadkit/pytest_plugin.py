"""The pytest plugin: a performance gate is one test.

Registered on install (entry point ``pytest11``, name ``loadkit``; ``-p
no:loadkit`` turns it off)::

    def test_model_meets_its_sla(loadkit_run):
        loadkit.assert_sla(loadkit_run("perf/iris.yaml", target=URL, sla=["p99 < 200ms"]))

``loadkit_run(scenario, **overrides)`` resolves a relative scenario path
against the test file's folder, runs it with ``loadkit.run``'s overrides,
writes every report under the test's temporary folder (or under
``--loadkit-out DIR``, one folder per test), records that folder as the JUnit
property ``loadkit_reports`` (and the run's status as ``loadkit_status``),
adds the run's summary to the test's report section, and returns the judged
RunResult. ``formats=`` picks the reports to write. The ``loadkit`` marker
labels the slow tests (``-m "not loadkit"`` skips them).

Importing this module costs nothing: loadkit itself is imported when the
fixture runs, so suites that never use it do not pay for it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from loadkit.results.model import RunResult

LoadkitRun = Callable[..., "RunResult"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("loadkit", "loadkit performance gates")
    group.addoption("--loadkit-out", metavar="DIR", default=None,
                    help="write each loadkit_run's reports under DIR/<test name> "
                         "(default: the test's temporary folder)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "loadkit: a load test that runs a loadkit scenario (slow; "
                   "deselect with -m 'not loadkit')")


def _safe(nodeid: str) -> str:
    """A folder name for a test id: ``tests/test_x.py::test_y[a-b]`` -> ``test_x.py-test_y-a-b``."""
    name = nodeid.split("/")[-1].replace("::", "-")
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:120] or "test"


def _out_dir(request: pytest.FixtureRequest, n: int) -> Path:
    """The n-th (from 0) run's report folder of this test."""
    suffix = "" if n == 0 else f"-{n + 1}"
    base = request.config.getoption("loadkit_out")
    if base:
        return Path(base) / (_safe(request.node.nodeid) + suffix)
    tmp: Path = request.getfixturevalue("tmp_path")
    return tmp / f"loadkit{suffix}"


def _resolve(scenario: Any, test_file: Path) -> Any:
    if isinstance(scenario, str | os.PathLike):
        path = Path(scenario)
        return path if path.is_absolute() else test_file.parent / path
    return scenario


@pytest.fixture
def loadkit_run(request: pytest.FixtureRequest) -> Iterator[LoadkitRun]:
    """``loadkit_run(scenario, formats=None, **overrides)`` -> the judged RunResult (reports written)."""
    calls = [0]

    def run(scenario: Any, *, formats: str | list[str] | None = None,
            **overrides: Any) -> RunResult:
        import loadkit
        from loadkit.reporters import text

        result = loadkit.run(_resolve(scenario, Path(str(request.node.path))), **overrides)
        out = _out_dir(request, calls[0])
        calls[0] += 1
        loadkit.write_reports(result, out, formats)
        status = "unjudged" if result.status is None else str(result.status)
        request.node.user_properties.append(("loadkit_reports", str(out)))
        request.node.user_properties.append(("loadkit_status", status))
        request.node.add_report_section("call", "loadkit", text.render(result)
                                        + f"\nreports: {out}/\n")
        return result

    yield run
