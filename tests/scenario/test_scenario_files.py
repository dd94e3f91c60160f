"""Every ready scenario under scenarios/ loads, builds its payloads and compiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadkit.errors import ScenarioError
from loadkit.scenario import build_payloads, compile_profile, load_scenario
from loadkit.scenario.schema import KINDS, MOCK_OPTIONS, MOCK_PRESETS

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
STAGING_ENV = {"TARGET_URL": "https://staging.example.com", "API_TOKEN": "s3cret-token-value"}
MOCK_LIMIT_S = 60.0


def test_the_scenarios_folder_has_quickstart_staging_and_one_file_per_kind() -> None:
    names = {p.stem for p in SCENARIOS}
    assert {"quickstart", "staging-example", *KINDS} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_file_loads_builds_payloads_and_compiles(path: Path) -> None:
    scenario = load_scenario(path, env=STAGING_ENV)
    payloads = build_payloads(scenario)
    assert set(payloads) == set(scenario.batch_sizes())
    for batch_size, payload_set in payloads.items():
        assert len(payload_set) > 0
        assert payload_set.batch_size == batch_size
        assert payload_set.payload_bytes == tuple(len(b) for b in payload_set.bodies)
    for profile in scenario.profiles:
        stages = compile_profile(profile, scenario)
        assert stages and [s.index for s in stages] == list(range(len(stages)))
        assert profile.sla, f"{path.name}: profile {profile.name} has no SLA"


@pytest.mark.parametrize("path", [p for p in SCENARIOS if p.stem != "staging-example"],
                         ids=lambda p: p.stem)
def test_mock_scenarios_are_planned_to_finish_within_a_minute(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.target == "mock"
    planned = 0.0
    for profile in scenario.profiles:
        for stage in compile_profile(profile, scenario):
            if stage.stability is not None:
                planned += max(stage.duration_s or 0.0, stage.stability.max_duration_s)
            elif stage.duration_s is not None:
                planned += stage.duration_s
            else:  # a request-count stage: bound it by a pessimistic 20 ms per request
                assert stage.requests is not None
                planned += stage.requests * 0.02 / (stage.concurrency or 1)
    limit = 30.0 if path.stem == "quickstart" else MOCK_LIMIT_S
    assert planned < limit - 5  # leave room for server start-up and readiness


def test_staging_example_takes_url_and_token_from_the_environment() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "staging-example.yaml", env=STAGING_ENV)
    assert scenario.target == "https://staging.example.com"
    assert ("Authorization", "Bearer s3cret-token-value") in scenario.request.headers
    assert scenario.request.path == "/v1/models/iris:predict"  # ${PREDICT_PATH:-...} default


def test_staging_example_without_api_token_names_the_variable_and_the_header() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(ROOT / "scenarios" / "staging-example.yaml",
                      env={"TARGET_URL": "https://staging.example.com"})
    assert str(info.value).startswith("request.headers.Authorization: ")
    assert "API_TOKEN" in str(info.value)


def test_mock_option_names_match_the_mock_server() -> None:
    options = pytest.importorskip("mock_server.options")
    server = {k.replace("-", "_") for k in options.OPTIONS} - {"host", "port"}
    assert set(MOCK_OPTIONS) == server
    assert set(MOCK_PRESETS) == set(options.PRESETS)


@pytest.mark.parametrize("path", [p for p in SCENARIOS if p.stem != "staging-example"],
                         ids=lambda p: p.stem)
def test_mock_blocks_are_accepted_by_the_mock_server(path: Path) -> None:
    options = pytest.importorskip("mock_server.options")
    options.from_mapping(load_scenario(path).mock)
