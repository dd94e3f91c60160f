"""Profile -> Stages for every kind (pure; no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadkit.scenario import Scenario, Stability, compile_profile, scenario_from_text

HEAD = "name: t\ntarget: mock\n"


def compile_one(profile_yaml: str, extra: str = "") -> tuple[Scenario, list]:
    scenario = scenario_from_text(HEAD + extra + "profiles:\n  - " + profile_yaml + "\n",
                                  env={}, base_dir=Path("."))
    return scenario, compile_profile(scenario.profiles[0], scenario)


def load(stages: list) -> list[tuple]:
    return [(s.label, s.concurrency, s.rate, s.duration_s, s.requests, s.batch_size,
             s.warmup, s.always_run) for s in stages]


def test_latency_runs_one_request_at_a_time_for_n_requests() -> None:
    _, stages = compile_one("{kind: latency, requests: 200}")
    assert load(stages) == [("c=1", 1, None, None, 200, 1, False, False)]


def test_latency_may_run_for_a_duration() -> None:
    _, stages = compile_one("{kind: latency, duration: 30s}")
    assert (stages[0].duration_s, stages[0].requests) == (30.0, None)


def test_warmup_comes_first_with_the_same_load_and_is_flagged() -> None:
    _, stages = compile_one("{kind: throughput, concurrency: 8, duration: 5s}", "warmup: 2s\n")
    assert load(stages) == [("warm-up c=8", 8, None, 2.0, None, 1, True, False),
                            ("c=8", 8, None, 5.0, None, 1, False, False)]
    assert [s.index for s in stages] == [0, 1]


def test_a_profile_warmup_overrides_the_scenario_warmup() -> None:
    _, stages = compile_one("{kind: latency, requests: 5, warmup: 0s}", "warmup: 3s\n")
    assert [s.warmup for s in stages] == [False]
    _, stages = compile_one("{kind: latency, requests: 5, warmup: 500ms}")
    assert stages[0].warmup and stages[0].duration_s == 0.5 and stages[0].requests is None


def test_throughput_batch_sweep_gives_one_stage_per_batch_size() -> None:
    _, stages = compile_one("{kind: throughput, concurrency: 4, duration: 10s, "
                            "batch_size: [1, 8, 32]}")
    assert [(s.label, s.batch_size, s.concurrency) for s in stages] == [
        ("c=4 batch=1", 1, 4), ("c=4 batch=8", 8, 4), ("c=4 batch=32", 32, 4)]


def test_throughput_uses_the_request_batch_size_by_default() -> None:
    _, stages = compile_one("{kind: throughput, concurrency: 4, duration: 10s}",
                            "request: {batch_size: 16}\n")
    assert stages[0].batch_size == 16


def test_throughput_stability_runs_up_to_its_maximum_duration() -> None:
    _, stages = compile_one("{kind: throughput, concurrency: 4, stability: {windows: 4, "
                            "window: 3s, tolerance: 5%, max_duration: 1m}}")
    assert stages[0].stability == Stability(windows=4, window_s=3.0, tolerance=0.05,
                                            max_duration_s=60.0)
    assert stages[0].duration_s is None  # the engine runs it until stable or max_duration


def test_stability_defaults_follow_perf_analyzer_with_duration_as_the_maximum() -> None:
    _, stages = compile_one("{kind: throughput, concurrency: 4, duration: 40s, stability: {}}")
    assert stages[0].stability == Stability(windows=3, window_s=5.0, tolerance=0.10,
                                            max_duration_s=40.0)


def test_ramp_steps_may_ask_for_stability_with_stage_duration_as_the_maximum() -> None:
    _, stages = compile_one("{kind: ramp, concurrency: [1, 2], stage_duration: 20s, "
                            "stability: {window: 2s}}", "warmup: 1s\n")
    assert [(s.duration_s, s.stability) for s in stages] == [
        (1.0, None),
        (None, Stability(window_s=2.0, max_duration_s=20.0)),
        (None, Stability(window_s=2.0, max_duration_s=20.0))]


@pytest.mark.parametrize("spec, steps", [
    ("{start: 1, stop: 64, factor: 2}", [1, 2, 4, 8, 16, 32, 64]),
    ("{start: 1, stop: 50, factor: 2}", [1, 2, 4, 8, 16, 32, 50]),
    ("{start: 2, stop: 10, step: 4}", [2, 6, 10]),
    ("{start: 1, stop: 4, factor: 1.5}", [1, 2, 3, 4]),
    ("[1, 3, 9]", [1, 3, 9]),
    ("8", [8]),
])
def test_ramp_steps_concurrency(spec: str, steps: list[int]) -> None:
    _, stages = compile_one(f"{{kind: ramp, concurrency: {spec}, stage_duration: 10s}}")
    assert [s.concurrency for s in stages] == steps
    assert [s.label for s in stages] == [f"c={c}" for c in steps]
    assert all(s.duration_s == 10.0 and s.rate is None for s in stages)


def test_stress_steps_rate_then_always_runs_recovery() -> None:
    scenario, stages = compile_one(
        "{kind: stress, rate: {start: 100, stop: 400, step: 100}, stage_duration: 10s, "
        "max_in_flight: 500, stop_when: {error_rate: 10%, p99: 2s}, "
        "recovery: {rate: 50rps, duration: 20s}}")
    assert load(stages) == [
        ("100 rps", None, 100.0, 10.0, None, 1, False, False),
        ("200 rps", None, 200.0, 10.0, None, 1, False, False),
        ("300 rps", None, 300.0, 10.0, None, 1, False, False),
        ("400 rps", None, 400.0, 10.0, None, 1, False, False),
        ("recovery 50 rps", None, 50.0, 20.0, None, 1, False, True)]
    assert all(s.max_in_flight == 500 for s in stages)
    stop = scenario.profiles[0].stop_when
    assert stop is not None and (stop.error_rate, stop.p99_ms) == (0.1, 2000.0)


def test_stress_rate_steps_accept_units_and_lists() -> None:
    _, stages = compile_one("{kind: stress, rate: [60rpm, 2/s, 3.5], stage_duration: 1s}")
    assert [s.rate for s in stages] == [1.0, 2.0, 3.5]
    assert [s.label for s in stages] == ["1 rps", "2 rps", "3.5 rps"]


def test_spike_is_before_spike_after() -> None:
    _, stages = compile_one("{kind: spike, rate: 100, spike: {multiplier: 5, duration: 3s}, "
                            "before: 10s, after: 20s}")
    assert [(s.label, s.rate, s.duration_s) for s in stages] == [
        ("before 100 rps", 100.0, 10.0), ("spike 500 rps", 500.0, 3.0),
        ("after 100 rps", 100.0, 20.0)]


@pytest.mark.parametrize("profile, stage", [
    ("{kind: soak, rate: 50rps, duration: 1h, window: 5m}", ("50 rps", None, 50.0, 3600.0)),
    ("{kind: soak, concurrency: 4, duration: 2h}", ("c=4", 4, None, 7200.0)),
])
def test_soak_is_one_long_stage_open_or_closed(profile: str, stage: tuple) -> None:
    _, stages = compile_one(profile)
    assert [(s.label, s.concurrency, s.rate, s.duration_s) for s in stages] == [stage]


def test_soak_window_defaults_to_a_third_of_a_short_run_and_a_minute_of_a_long_one() -> None:
    short, _ = compile_one("{kind: soak, rate: 5, duration: 45s}")
    long, _ = compile_one("{kind: soak, rate: 5, duration: 2h}")
    assert short.profiles[0].window_s == 15.0 and long.profiles[0].window_s == 60.0


def test_constant_rate_is_one_open_stage_with_its_in_flight_bound() -> None:
    _, stages = compile_one("{kind: constant-rate, rate: 200rps, duration: 1m, max_in_flight: 64}")
    assert [(s.label, s.rate, s.duration_s, s.max_in_flight, s.is_open) for s in stages] == [
        ("200 rps", 200.0, 60.0, 64, True)]


def test_profile_sla_replaces_the_global_rule_with_the_same_metric_and_operator() -> None:
    scenario, _ = compile_one("{kind: latency, requests: 5, sla: [p99 < 1s, p50 < 5ms]}",
                              "sla: [p99 < 200ms, error_rate < 1%, "
                              "{rule: throughput >= 5rps, abort: true, grace: 10s}]\n")
    assert [r.expr for r in scenario.sla] == ["p99 < 200ms", "error_rate < 1%",
                                              "throughput >= 5rps"]
    rules = scenario.profiles[0].sla
    assert [r.expr for r in rules] == ["p99 < 1s", "error_rate < 1%", "throughput >= 5rps",
                                       "p50 < 5ms"]
    assert rules[2].abort and rules[2].grace_s == 10.0


def test_an_abort_guard_sits_beside_the_verdict_rule_with_the_same_metric() -> None:
    scenario, _ = compile_one("{kind: latency, requests: 5, sla: [{rule: error_rate < 5%, "
                              "abort: true}]}", "sla: [error_rate < 1%]\n")
    assert [(r.expr, r.abort) for r in scenario.profiles[0].sla] == [
        ("error_rate < 1%", False), ("error_rate < 5%", True)]


def test_profile_name_defaults_to_its_kind_and_breakdown_is_kept() -> None:
    scenario, _ = compile_one("{kind: latency, requests: 5, breakdown: payload_bytes}")
    assert scenario.profiles[0].name == "latency"
    assert scenario.profiles[0].breakdown == "payload_bytes"


def test_a_single_sla_string_is_read_as_a_one_rule_list() -> None:
    scenario, _ = compile_one("{kind: latency, requests: 5, sla: p50 < 5ms}", "sla: p99 < 1s\n")
    assert [r.expr for r in scenario.profiles[0].sla] == ["p99 < 1s", "p50 < 5ms"]
