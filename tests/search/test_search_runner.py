"""The search loop end to end against a scripted engine (no network): the probes it
runs, the drains it measures, where it stops, and the analysis ``judge`` re-derives
from the stored result (after a JSON round trip) being the one the run decided on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from loadkit import search_runner
from loadkit.analysis import analyze
from loadkit.results.codec import dumps, loads
from loadkit.results.model import RunResult, ScenarioInfo
from loadkit.results.search import SearchAnalysis
from loadkit.scenario import Scenario, build_payloads, load_scenario
from loadkit.sla import evaluate, parse_rule, status_of
from tests.search.builders import ScriptedEngine, probe_loads

SCENARIO = """\
name: t
target: http://127.0.0.1:9
dataset: {path: data.csv, seed: 3}
warmup: 1s
profiles:
  - {name: capacity, kind: search, rate: {start: 50, max: 5000}, precision: 5%,
     stage_duration: 1s}
sla: [p99 < 50ms, throughput >= 10rps]
"""


@pytest.fixture
def scenario(write: Callable[[str], Path]) -> Scenario:
    return load_scenario(write(SCENARIO), env={})


def run(scenario: Scenario, engine: ScriptedEngine, monkeypatch: pytest.MonkeyPatch
        ) -> RunResult:
    monkeypatch.setattr(search_runner, "run_stages", engine)
    profile = scenario.profiles[0]
    measured, union = search_runner.run_search(
        scenario, profile, scenario.request_spec("http://127.0.0.1:9"), build_payloads(scenario))
    judged = analyze(measured, profile.sla)
    return RunResult(scenario=ScenarioInfo(name="t", target="http://127.0.0.1:9"),
                     started_at=measured.started_at, finished_at=measured.finished_at,
                     profiles=(replace(measured, analysis=judged),), health=union.health)


def test_the_search_probes_as_planned_and_drains_after_each_broken_probe(
        scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = ScriptedEngine(capacity=812)
    result = run(scenario, engine, monkeypatch)
    assert probe_loads(engine) == [50, 100, 200, 400, 800, 1600, 1131, 951.2, 872.3, 835.4]
    p = result.profiles[0]
    assert [s.warmup for s in p.stages] == [True] + [False] * 10     # warm-up, then probes
    assert [s.index for s in p.stages] == list(range(11))
    record = p.search
    assert record is not None and record.baseline_p50_ms == pytest.approx(5, rel=2e-3)
    # One drain after each of the five broken probes, settled at the first check.
    assert [d.after_stage for d in record.drains] == [6, 7, 8, 9]
    assert all(d.settled and d.checks == 1 for d in record.drains)
    a = p.analysis
    assert a.max_rate_under_sla == 800 and a.bracket == (800, 835.4)
    assert a.stop == "precision" and a.indeterminate == ""
    assert a.binding_rule == "p99 < 50ms" and a.threshold == 50
    assert a.headline.startswith("sustains 800 rps at p99 < 50ms (bracket 800–835, 10 probes")
    assert [pr.outcome for pr in a.probes] == ["held"] * 5 + ["broke"] * 5


def test_a_stored_result_is_re_derived_to_the_same_answer(
        scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(scenario, ScriptedEngine(capacity=300), monkeypatch)
    back = loads(dumps(result))
    rules = [parse_rule(t) for t in back.profiles[0].sla]
    again = analyze(back.profiles[0], rules)
    assert again == loads(dumps(result)).profiles[0].analysis
    typed = again
    assert isinstance(typed, SearchAnalysis) and typed.answer == 295.3 and typed.bracket == (295.3, 308.4)
    assert len(typed.probes) == 8
    # The SLA verdicts: p99 judged on the lightest probe (first broken at 308.4),
    # the throughput rule at the answer.
    verdicts = evaluate({"capacity": rules}, back)
    assert [v.passed for v in verdicts] == [True, True]
    assert status_of(verdicts, back) == "pass"


def test_a_generator_bound_probe_stops_the_search_at_at_least_the_last_held_load(
        scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = ScriptedEngine(capacity=5000, fell_behind_above=300)
    result = run(scenario, engine, monkeypatch)
    assert probe_loads(engine) == [50, 100, 200, 400, 400, 400]   # retried twice
    a = result.profiles[0].analysis
    assert a.stop == "generator_bound" and a.max_rate_under_sla == 200
    assert a.headline.startswith("at least 200 rps (generator-bound")
    assert "could not drive 400 rps (schedule lag)" in a.indeterminate
    assert status_of(evaluate({"capacity": [parse_rule("p99 < 50ms")]}, result),
                     result) == "inconclusive"


def test_the_lightest_probe_breaking_fails_the_profile(
        scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = ScriptedEngine(capacity=10)
    result = run(scenario, engine, monkeypatch)
    assert probe_loads(engine) == [50]
    a = result.profiles[0].analysis
    assert a.stop == "start_broke" and a.max_rate_under_sla is None
    assert a.headline.startswith("the SLA is not met even at 50 rps (p99 < 50ms broken")
    verdicts = evaluate({"capacity": [parse_rule("p99 < 50ms")]}, result)
    assert status_of(verdicts, result) == "fail"


def test_a_probe_retried_after_a_generator_hiccup_does_not_make_the_run_fall_behind(
        scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = ScriptedEngine(capacity=812, fell_behind_above=300)
    calls = {"n": 0}

    def once(stages: object, *args: object, **kw: object) -> object:
        run_ = engine(stages, *args, **kw)       # type: ignore[arg-type]
        if run_.health.fell_behind:
            calls["n"] += 1
            if calls["n"] > 1:                    # only the first 400 rps run starves
                run_ = replace(run_, health=replace(run_.health, fell_behind=False, reasons=()))
        return run_

    monkeypatch.setattr(search_runner, "run_stages", once)
    profile = scenario.profiles[0]
    measured, union = search_runner.run_search(
        scenario, profile, scenario.request_spec("http://127.0.0.1:9"), build_payloads(scenario))
    assert probe_loads(engine)[:6] == [50, 100, 200, 400, 400, 800]
    assert not union.health.fell_behind
    assert union.health.reasons == ("retried: schedule lag",)
    assert measured.search is not None and list(measured.search.generator_bound) == ["4"]


def test_every_rule_is_judged_at_the_answer_with_its_runs_pooled(
        scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(scenario, ScriptedEngine(capacity=812), monkeypatch)
    rules = [parse_rule(t) for t in result.profiles[0].sla]
    p99, floor = evaluate({"capacity": rules}, result)
    answer = next(s for s in result.profiles[0].stages if s.rate == 800)
    assert (p99.judged_stage, floor.judged_stage) == (answer.index, answer.index)
    assert p99.passed and "at the answer" in p99.reason
    assert p99.first_broken_stage == next(s.index for s in result.profiles[0].stages
                                          if s.rate == 835.4)


def test_a_lightest_load_within_noise_is_inconclusive_not_failed(
        scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    # One stray 503 in each 1000-request run at 50 rps: 0.1% is far under 1%, but the
    # rule here is error_rate < 0.1%: every run straddles it, pooled or not.
    engine = ScriptedEngine(capacity=5000)

    def stray(stages: object, *args: object, **kw: object) -> object:
        run_ = engine(stages, *args, **kw)           # type: ignore[arg-type]
        return replace(run_, stages=tuple(
            replace(s, errors=1, ok=s.ok - 1, error_kinds={"http_5xx": 1})
            if not s.warmup else s for s in run_.stages))

    monkeypatch.setattr(search_runner, "run_stages", stray)
    profile = replace(scenario.profiles[0], sla=(parse_rule("error_rate < 0.1%"),))
    measured, union = search_runner.run_search(
        scenario, profile, scenario.request_spec("http://127.0.0.1:9"), build_payloads(scenario))
    a = analyze(measured, profile.sla)
    assert a.stop == "undecided" and a.bracket == (None, 50)
    judged = RunResult(scenario=ScenarioInfo(name="t", target="x"), started_at=0,
                       finished_at=1, profiles=(replace(measured, analysis=a),))
    (v,) = evaluate({"capacity": list(profile.sla)}, judged)
    assert v.inconclusive and not v.passed and "could not tell" in v.reason
    assert status_of((v,), judged) == "inconclusive"


def test_server_gauges_that_fall_back_below_their_top_have_no_ceiling_step() -> None:
    # A search's probes, lightest first, can peak mid-way (the bisection comes back
    # under the ceiling); telemetry's first_ceiling used to raise StopIteration here.
    from loadkit.analysis.server import first_ceiling
    from loadkit.results.server import ServerSeries
    from tests.search.builders import probe

    steps = [replace(probe(i, load, 10), server_metrics={"queue": ServerSeries("gauge", max=m)})
             for i, (load, m) in enumerate([(100, 1.0), (200, 9.0), (300, 2.0)])]
    assert first_ceiling(steps) is None
