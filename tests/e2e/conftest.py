"""End-to-end fixtures: a scenario written to tmp_path, run through loadkit against the mock.

Every test here goes the user's way (the scenario written by ``tests/conftest.py``'s
``write_scenario``, beside ``data/iris.csv``): YAML -> ``load_scenario`` -> ``loadkit.run`` (or
the CLI) with ``target: mock``, so the runner starts the bundled mock server in
its own process (as ``loadkit run`` does). A server in a thread of the test
process would share the GIL with the generator and put its own scheduling delay
into every latency and capacity figure these tests check.

Load is kept short (1-2 s steps): these tests check that each profile's answer is
right in kind and size, not that a figure is precise to the last percent.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from loadkit.results.model import ProfileResult, RunResult
from loadkit.runner import RunOptions, run
from loadkit.scenario import Scenario, load_scenario
from tests.conftest import scenario_file

ROOT = Path(__file__).resolve().parents[2]

WriteScenario = Callable[[str], Path]     # tests/conftest.py's write_scenario, given YAML text
RunScenario = Callable[..., RunResult]


def run_yaml(text: str, folder: Path, **options: object) -> RunResult:
    """Write ``text`` into ``folder`` (``scenario_file``) and run it: for module-scoped
    fixtures, which cannot use the function-scoped ``write_scenario``."""
    return run(load_scenario(scenario_file(folder, text)), RunOptions(**options))  # type: ignore[arg-type]


def on_mock(mock: str, rest: str, *, checks: str = "{status: [200]}",
            warmup: str | None = None) -> str:
    """A scenario against the bundled mock with ``mock`` options, the iris rows as the
    body, and ``rest`` (profiles, sla; dedented) after it."""
    head = (f"target: mock\nmock: {mock}\n"
            'request: {path: /predict, timeout: 5s, body: {instances: "{{ rows }}"}}\n'
            "dataset: {path: data/iris.csv, seed: 1}\n"
            + (f"checks: {checks}\n" if checks else "")
            + (f"warmup: {warmup}\n" if warmup else ""))
    return head + textwrap.dedent(rest)


@pytest.fixture
def run_scenario(write_scenario: WriteScenario) -> RunScenario:
    """Load the YAML and run it through ``loadkit.run``; returns the evaluated RunResult."""

    def go(text: str, **options: object) -> RunResult:
        scenario: Scenario = load_scenario(write_scenario(text))
        return run(scenario, RunOptions(**options))  # type: ignore[arg-type]

    return go


def profile(result: RunResult, name: str) -> ProfileResult:
    return next(p for p in result.profiles if p.name == name)


def describe(result: RunResult) -> str:
    """Every profile's headline and steps, for assertion messages (what a user would read)."""
    lines = [f"status {result.status}; warnings {list(result.warnings)}"]
    for p in result.profiles:
        lines.append(f"{p.name}: {p.analysis.headline if p.analysis else None}")
        for s in p.stages:
            load = f"c={s.concurrency}" if s.concurrency else f"{s.rate:g} rps"
            lines.append(f"  {s.index} {load}{' warm-up' if s.warmup else ''}: "
                         f"{s.requests} req, {s.throughput_rps:.0f} rps, p50 {s.latency_ms.p50:.1f} "
                         f"p99 {s.latency_ms.p99:.1f} ms, errors {dict(s.error_kinds)}, "
                         f"late {s.late}, stable {s.stable}")
    return "\n".join(lines)
