"""Fuzz: whatever YAML or structure is thrown at scenario loading, only loadkit's
usage errors come out (never pydantic's, never a traceback)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadkit.errors import UsageError
from loadkit.scenario import build_payloads, compile_profile
from loadkit.scenario.loader import scenario_from_tree
from loadkit.scenario.source import parse_yaml
from tests.scenario.conftest import CSV

ROOT = Path(__file__).resolve().parents[2]
FIELDS = ["name", "target", "mock", "request", "dataset", "checks", "warmup", "readiness",
          "profiles", "sla", "kind", "rate", "concurrency", "duration", "requests", "body",
          "batch_size", "stage_duration", "stop_when", "recovery", "spike", "path", "sample",
          "stability", "window", "start", "stop", "step", "factor", "rule", "abort", "grace"]
WORDS = ["mock", "http://127.0.0.1:1", "latency", "throughput", "ramp", "stress", "spike",
         "soak", "constant-rate", "10ms", "2s", "-1s", "0", "50rps", "5%", "p99 < 20ms",
         "{{ rows }}", "{{ row.species }}", "{{ rows.values }}", "${HOME}", "${NOPE}",
         "data.csv", "nope.csv", "fast", "", "1m30s", "1e999", "nan", "GET"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(WORDS),
                    st.text(max_size=8))
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=6), st.integers(-2, 2))
trees = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)), max_leaves=25)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "data.csv").write_text(CSV)
    return folder


def exercise(tree: Any, data_dir: Path) -> bool:
    """Load, build payloads and compile; only UsageError subclasses may escape."""
    try:
        scenario = scenario_from_tree(tree, env={"HOME": "/home/x"}, base_dir=data_dir)
        for profile in scenario.profiles:
            compile_profile(profile, scenario)
        build_payloads(scenario)
    except UsageError as exc:
        assert "\n" not in str(exc) and str(exc)
        return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(FIELDS), trees, max_size=8))
def test_random_structures_only_raise_usage_errors(data_dir: Path, tree: dict) -> None:
    exercise(tree, data_dir)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("{}[]:-,'\"#&*!|>\n\t %$@`?~ab1.")), max_size=60))
def test_random_yaml_text_only_raises_usage_errors(data_dir: Path, text: str) -> None:
    try:
        tree = parse_yaml(text)
    except UsageError as exc:
        assert "\n" not in str(exc)
        return
    exercise(tree, data_dir)


QUICKSTART = yaml.safe_load((ROOT / "scenarios" / "quickstart.yaml").read_text())
QUICKSTART["dataset"]["path"] = "data.csv"
QUICKSTART["profiles"] += [
    {"kind": "stress", "rate": {"start": 10, "stop": 50, "step": 10}, "stage_duration": "1s",
     "stop_when": {"error_rate": "5%"}, "recovery": {"rate": 5, "duration": "2s"}},
    {"kind": "spike", "rate": 5, "spike": {"multiplier": 3, "duration": "1s"}},
    {"kind": "soak", "concurrency": 2, "duration": "1m"},
    {"kind": "ramp", "concurrency": {"start": 1, "stop": 8, "factor": 2}, "stage_duration": "1s",
     "stability": {"windows": 3}},
]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, prefix + (i,))
    return out


PATHS = _paths(QUICKSTART)[1:]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(PATHS), st.one_of(trees, st.just("__delete__")))
def test_one_mutated_field_of_a_good_scenario_only_raises_usage_errors(
        data_dir: Path, path: tuple, value: Any) -> None:
    tree = copy.deepcopy(QUICKSTART)
    node = tree
    for part in path[:-1]:
        node = node[part]
    if value == "__delete__":
        del node[path[-1]]
    else:
        node[path[-1]] = value
    exercise(tree, data_dir)


def test_the_unmutated_scenario_loads(data_dir: Path) -> None:
    assert exercise(copy.deepcopy(QUICKSTART), data_dir)



def test_deleting_any_one_field_either_loads_or_is_refused_cleanly(data_dir: Path) -> None:
    outcomes = []
    for path in PATHS:
        tree = copy.deepcopy(QUICKSTART)
        node = tree
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]
        outcomes.append(exercise(tree, data_dir))
    assert any(outcomes) and not all(outcomes)  # optional fields load, required ones don't
