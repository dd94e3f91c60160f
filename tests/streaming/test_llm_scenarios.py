"""The ready LLM scenarios load, build their bodies, compile, and carry streaming SLAs."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadkit.scenario import build_payloads, compile_profile, load_scenario
from loadkit.scenario.schema import KINDS

ROOT = Path(__file__).resolve().parents[2]
LLM = sorted((ROOT / "scenarios" / "llm").glob("*.yaml")) + [ROOT / "scenarios" /
                                                               "llm-quickstart.yaml"]


def test_there_is_one_llm_scenario_per_profile_kind() -> None:
    assert {p.stem for p in LLM} >= set(KINDS)


@pytest.mark.parametrize("path", LLM, ids=[p.stem for p in LLM])
def test_llm_scenario_streams_from_the_mock_within_a_minute(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.target == "mock" and scenario.request.api == "openai-chat"
    assert scenario.request_spec("http://127.0.0.1:1").stream is not None
    (payloads,) = build_payloads(scenario).values()
    assert len(payloads) == 200
    planned = 0.0
    for profile in scenario.profiles:
        stages = compile_profile(profile, scenario)
        assert all(s.slo is not None for s in stages)
        planned += sum(s.duration_s or 0.0 for s in stages)
        assert any(r.metric.startswith(("ttft", "itl", "tpot", "output_tokens", "goodput",
                                        "slo_")) for r in profile.sla), profile.name
    assert planned <= 60
