"""A ``kind: search`` profile in the scenario file: what it compiles to, and the bad
input refused before anything is sent (exit 2, one line naming the field). No network."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from loadkit.errors import ScenarioError
from loadkit.scenario import compile_profile, load_scenario
from loadkit.scenario.overrides import apply_overrides

HEAD = "name: t\ntarget: http://127.0.0.1:9\n"


def search(profile: str, sla: str = "sla: [p99 < 50ms]\n") -> str:
    return HEAD + "profiles:\n  - " + profile + "\n" + sla


def test_an_open_model_search_compiles_to_a_warmup_and_its_first_probe(
        write: Callable[[str], Path]) -> None:
    sc = load_scenario(write(search(
        "{name: cap, kind: search, rate: {start: 50, max: 5000}, precision: 5%, "
        "stage_duration: 2s, warmup: 1s}")), env={})
    p = sc.profiles[0]
    assert p.search is not None and not p.search.integral
    assert (p.search.start, p.search.max, p.search.precision, p.search.factor) == (50, 5000, 0.05, 2)
    assert (p.search.max_probes, p.search.repeats) == (20, 2)
    stages = compile_profile(p, sc)
    assert [(s.warmup, s.rate, s.duration_s) for s in stages] == [(True, 50, 1), (False, 50, 2)]
    assert apply_overrides(sc, duration_s=0.5).profiles[0].stage_duration_s == 0.5


def test_a_closed_model_search_probes_whole_concurrencies(write: Callable[[str], Path]) -> None:
    sc = load_scenario(write(search(
        "{kind: search, concurrency: {start: 1, max: 64, factor: 4}, stage_duration: 1s, "
        "max_probes: 9, repeats: 0}", "sla: [error_rate < 1%]\n")), env={})
    p = sc.profiles[0]
    assert p.name == "search" and p.search is not None and p.search.integral
    assert (p.search.factor, p.search.max_probes, p.search.repeats) == (4, 9, 0)
    assert [s.concurrency for s in compile_profile(p, sc)] == [1]


BAD = [
    ("max-below-start", search("{kind: search, rate: {start: 500, max: 50}, stage_duration: 1s}"),
     "profiles[0].rate", "max (50) is below start (500)"),
    ("zero-precision", search("{kind: search, rate: {start: 5, max: 50}, precision: 0%, "
                              "stage_duration: 1s}"), "profiles[0].precision", "greater than 0"),
    ("precision-above-half", search("{kind: search, rate: {start: 5, max: 50}, precision: 60%, "
                                    "stage_duration: 1s}"), "profiles[0].precision",
     "at most 50%"),
    ("no-load", search("{kind: search, stage_duration: 1s}"), "profiles[0]",
     "give rate or concurrency"),
    ("both-loads", search("{kind: search, rate: {start: 5, max: 50}, concurrency: {start: 1, "
                          "max: 4}, stage_duration: 1s}"), "profiles[0]", "not both"),
    ("no-stage-duration", search("{kind: search, rate: {start: 5, max: 50}}"),
     "profiles[0].stage_duration", "required"),
    ("no-rule-at-all", search("{kind: search, rate: {start: 5, max: 50}, stage_duration: 1s}",
                              ""), "profiles[0].sla", "needs a latency or error-rate rule"),
    ("only-a-throughput-rule", search("{kind: search, rate: {start: 5, max: 50}, "
                                      "stage_duration: 1s}", "sla: [throughput >= 10rps]\n"),
     "profiles[0].sla", "it has only throughput >= 10rps"),
    ("a-rule-scoped-to-a-probe", search("{kind: search, rate: {start: 5, max: 50}, "
                                        "stage_duration: 1s, sla: [{rule: p99 < 9ms, stage: 1}]}"),
     "profiles[0].sla[0].stage", "cannot be scoped"),
]


@pytest.mark.parametrize("text, field, words", [pytest.param(t, f, w, id=i) for i, t, f, w in BAD])
def test_bad_search_input_is_refused_naming_the_field(
        write: Callable[[str], Path], text: str, field: str, words: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(text), env={})
    assert info.value.field == field, str(info.value)
    assert words in str(info.value) and "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_a_global_latency_rule_is_enough_to_search_on(write: Callable[[str], Path]) -> None:
    sc = load_scenario(write(search("{kind: search, rate: {start: 5, max: 50}, stage_duration: 1s, "
                                    "sla: [throughput >= 10rps]}", "sla: [p95 < 20ms]\n")),
                       env={})
    assert [r.expr for r in sc.profiles[0].sla] == ["p95 < 20ms", "throughput >= 10rps"]


def test_locust_refuses_a_search_profile_before_it_starts(write: Callable[[str], Path]) -> None:
    from loadkit.errors import UsageError
    from loadkit.locust_bridge.launch import check_scenario

    path = write(search("{name: cap, kind: search, rate: {start: 5, max: 50}, stage_duration: 1s}"))
    with pytest.raises(UsageError) as info:
        check_scenario(path, "cap")
    assert "'cap' is a capacity search" in str(info.value) and "loadkit run" in str(info.value)
    assert info.value.exit_code == 2
