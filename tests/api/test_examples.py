"""examples/pytest stays runnable: its scenario loads, its tests use the plugin's fixture."""

from __future__ import annotations

import ast
from pathlib import Path

from loadkit.scenario import build_payloads, compile_profile, load_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pytest"


def test_the_example_scenario_loads_and_compiles():
    sc = load_scenario(EXAMPLE / "perf" / "iris.yaml")
    assert len(build_payloads(sc)[1]) == 150
    assert [len(compile_profile(p, sc)) for p in sc.profiles] == [2]    # warm-up + steady


def test_every_example_gate_takes_loadkit_run_and_asserts_the_sla():
    tree = ast.parse((EXAMPLE / "test_perf_gate.py").read_text())
    tests = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name.startswith("test_")]
    assert tests
    for fn in tests:
        assert [a.arg for a in fn.args.args][:1] == ["loadkit_run"], fn.name
        assert "assert_sla" in ast.unparse(fn), fn.name
    workflow = (EXAMPLE / "github-actions.yml").read_text()
    assert "--junitxml=reports/junit.xml" in workflow and "report_paths: reports/junit.xml" in workflow
