"""Loading: ${VAR} substitution, defaults, the request spec and the plain fields."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from loadkit.errors import ScenarioError
from loadkit.scenario import Checks, load_scenario, scenario_from_text
from loadkit.scenario.source import substitute

LAT = "profiles:\n  - {name: lat, kind: latency, requests: 10}\n"


def load(text: str, env: dict[str, str] | None = None):
    return scenario_from_text(text + LAT, env=env or {}, base_dir=Path("."))


@pytest.mark.parametrize("text, env, expected", [
    ("${A}", {"A": "x"}, "x"),
    ("pre-${A}-post", {"A": "x"}, "pre-x-post"),
    ("${A:-dflt}", {}, "dflt"),
    ("${A:-dflt}", {"A": ""}, "dflt"),
    ("${A:-}", {}, ""),
    ("${A:-dflt}", {"A": "set"}, "set"),
    ("$${A}", {"A": "x"}, "${A}"),
    ("cost $5", {}, "cost $5"),
    ("${A}${B}", {"A": "1", "B": "2"}, "12"),
    ("${A}", {"A": "a: b\n- c"}, "a: b\n- c"),
], ids=["plain", "inside", "default", "empty-uses-default", "empty-default", "set-wins",
        "escape", "lone-dollar", "two", "yaml-special-value"])
def test_variables_are_substituted_in_strings(text: str, env: dict, expected: str) -> None:
    assert substitute({"k": [text]}, env) == {"k": [expected]}


def test_a_substituted_number_is_read_as_a_number() -> None:
    sc = scenario_from_text("name: t\ntarget: mock\nprofiles:\n"
                            "  - {kind: throughput, concurrency: '${C}', duration: '${D:-5s}'}\n",
                            env={"C": "12"}, base_dir=Path("."))
    assert (sc.profiles[0].concurrency, sc.profiles[0].duration_s) == (12, 5.0)


def test_a_missing_variable_names_the_variable_and_the_field() -> None:
    with pytest.raises(ScenarioError) as info:
        load("name: t\ntarget: mock\nsla: [p99 < 1s, '${SLA_P99}']\n")
    assert info.value.field == "sla[1]"
    assert "environment variable SLA_P99 is not set" in str(info.value)


def test_keys_and_non_strings_are_left_alone() -> None:
    assert substitute({"${A}": 1, "n": None, "f": 1.5}, {"A": "x"}) == {"${A}": 1, "n": None,
                                                                         "f": 1.5}


def test_the_request_spec_carries_what_the_engine_needs() -> None:
    sc = load("name: t\ntarget: mock\nrequest: {method: put, path: '/v1/x?y=1', timeout: 250ms, "
              "headers: {X-Key: '${K}', X-N: 5}, max_response_bytes: 1MiB}\n"
              "checks: {status: 200, json_has: predictions, body_contains: [ok]}\n"
              "readiness: /ready\n", env={"K": "secret"})
    spec = sc.request_spec("http://127.0.0.1:9", insecure=True)
    assert (spec.target, spec.method, spec.path, spec.timeout_s) == (
        "http://127.0.0.1:9", "PUT", "/v1/x?y=1", 0.25)
    assert spec.headers == (("X-Key", "secret"), ("X-N", "5"))
    assert spec.max_response_bytes == 1024 * 1024 and spec.insecure
    assert spec.checks == Checks(status=(200,), json_has=("predictions",), body_contains=("ok",))
    assert spec.readiness_path == "/ready" and sc.readiness_timeout_s == 30.0
    assert spec.url == "http://127.0.0.1:9/v1/x?y=1"


def test_defaults_are_post_predict_no_warmup_no_readiness() -> None:
    sc = load("target: https://example.com\n")
    assert (sc.request.method, sc.request.path, sc.request.batch_size) == ("POST", "/predict", 1)
    assert sc.warmup_s == 0.0 and sc.readiness_path is None and sc.mock == {}
    assert sc.name == "scenario" and [r.expr for r in sc.sla] == ["error_rate < 1%"]
    assert sc.sla_origin == "default"


def test_the_name_defaults_to_the_file_stem(write: Callable[..., Path]) -> None:
    sc = load_scenario(write("target: mock\n" + LAT, "nightly-gate.yaml"))
    assert sc.name == "nightly-gate" and sc.source is not None


@pytest.mark.parametrize("block, expected", [
    ("mock: flaky\n", {"preset": "flaky"}),
    ("mock: {preset: overloaded, capacity: 2, error-rate: 1%}\n",
     {"preset": "overloaded", "capacity": 2, "error_rate": "1%"}),
    ("mock: {latency: 'fixed:20ms', cold_start: 3s}\n",
     {"latency": "fixed:20ms", "cold_start": "3s"}),
])
def test_the_mock_block_is_a_plain_dict_with_snake_case_keys(block: str, expected: dict) -> None:
    assert load("name: t\ntarget: mock\n" + block).mock == expected


def test_a_bool_mock_value_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"^mock: mock option 'capacity' needs a value"):
        load("name: t\ntarget: mock\nmock: {capacity: true}\n")


def test_readiness_mapping_sets_path_and_timeout() -> None:
    sc = load("name: t\ntarget: mock\nreadiness: {path: /health, timeout: 1m}\n")
    assert (sc.readiness_path, sc.readiness_timeout_s) == ("/health", 60.0)
