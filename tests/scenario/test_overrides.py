"""Command-line overrides: --duration, --concurrency, --rate, --profile, --sla."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadkit.errors import ScenarioError, SlaSyntaxError
from loadkit.scenario import Scenario, apply_overrides, compile_profile, scenario_from_text

TEXT = """
name: t
target: mock
sla: [p99 < 200ms, error_rate < 1%]
profiles:
  - {name: lat, kind: latency, requests: 100}
  - {name: tp, kind: throughput, concurrency: 8, duration: 30s, sla: [p99 < 500ms]}
  - {name: ramp, kind: ramp, concurrency: [1, 2], stage_duration: 10s}
  - {name: stress, kind: stress, rate: [10, 20], stage_duration: 10s}
  - {name: steady, kind: constant-rate, rate: 100, duration: 1m}
  - {name: spike, kind: spike, rate: 10, spike: {multiplier: 2, duration: 2s}}
  - {name: soak, kind: soak, rate: 10, duration: 1h, window: 10m}
  - {name: soakc, kind: soak, concurrency: 3, duration: 1h}
"""


@pytest.fixture
def scenario() -> Scenario:
    return scenario_from_text(TEXT, env={}, base_dir=Path("."))


def test_duration_overrides_each_kind_where_it_means_something(scenario: Scenario) -> None:
    out = apply_overrides(scenario, duration_s=5.0)
    p = {x.name: x for x in out.profiles}
    assert (p["lat"].duration_s, p["lat"].requests) == (5.0, None)
    assert p["tp"].duration_s == p["steady"].duration_s == p["soak"].duration_s == 5.0
    assert p["ramp"].stage_duration_s == p["stress"].stage_duration_s == 5.0
    assert (p["spike"].before_s, p["spike"].after_s, p["spike"].spike.duration_s) == (5.0, 5.0, 2.0)
    assert p["soak"].window_s is not None and p["soak"].window_s * 2 <= 5.0
    assert scenario.profiles[0].requests == 100  # the original is untouched


def test_concurrency_overrides_closed_model_profiles_only(scenario: Scenario) -> None:
    p = {x.name: x for x in apply_overrides(scenario, concurrency=2).profiles}
    assert p["tp"].concurrency == 2 and p["soakc"].concurrency == 2
    assert p["lat"].concurrency == 1 and p["ramp"].concurrency_steps == (1, 2)
    assert p["soak"].concurrency is None


def test_rate_overrides_open_model_profiles_only(scenario: Scenario) -> None:
    p = {x.name: x for x in apply_overrides(scenario, rate=42.0).profiles}
    assert p["steady"].rate == p["spike"].rate == p["soak"].rate == 42.0
    assert p["stress"].rate_steps == (10.0, 20.0) and p["soakc"].rate is None
    stages = compile_profile(p["spike"], scenario)
    assert [s.rate for s in stages] == [42.0, 84.0, 42.0]


def test_profile_selection_keeps_scenario_order(scenario: Scenario) -> None:
    out = apply_overrides(scenario, profiles=["steady", "lat"])
    assert [p.name for p in out.profiles] == ["lat", "steady"]


def test_unknown_profile_name_is_refused_with_a_suggestion(scenario: Scenario) -> None:
    with pytest.raises(ScenarioError, match=r"^--profile: no profile named 'stres'; "
                                            r"did you mean 'stress'\?"):
        apply_overrides(scenario, profiles=["stres"])


def test_sla_flag_replaces_the_rule_with_the_same_metric_and_operator(scenario: Scenario) -> None:
    out = apply_overrides(scenario, sla=["p99<50ms", "p50 < 10ms"])
    assert [r.expr for r in out.sla] == ["p99 < 50ms", "error_rate < 1%", "p50 < 10ms"]
    tp = next(p for p in out.profiles if p.name == "tp")
    assert [r.expr for r in tp.sla] == ["p99 < 50ms", "error_rate < 1%", "p50 < 10ms"]


def test_sla_flag_with_another_operator_is_added(scenario: Scenario) -> None:
    out = apply_overrides(scenario, sla=["p99 <= 300ms"])
    assert [r.expr for r in out.sla] == ["p99 < 200ms", "error_rate < 1%", "p99 <= 300ms"]


def test_bad_sla_flag_is_an_sla_syntax_error(scenario: Scenario) -> None:
    with pytest.raises(SlaSyntaxError, match=r"^--sla: 'p99 < fast'"):
        apply_overrides(scenario, sla=["p99 < fast"])


@pytest.mark.parametrize("kwargs, flag", [
    ({"duration_s": 0.0}, "--duration"), ({"concurrency": 0}, "--concurrency"),
    ({"rate": -1.0}, "--rate"), ({"duration_s": float("nan")}, "--duration"),
])
def test_zero_or_negative_overrides_are_refused(scenario: Scenario, kwargs: dict,
                                                flag: str) -> None:
    with pytest.raises(ScenarioError) as info:
        apply_overrides(scenario, **kwargs)
    assert info.value.field == flag
