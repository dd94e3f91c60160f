"""SLA rules scoped to one stage of a profile: ``{rule: "p99 < 30ms", stage: 2}``.

The index is the one reports print in their step column (``compile_profile``'s: a
warm-up stage, when the profile has one, is 0). A stage the profile does not
measure is refused before anything is sent, naming ``profiles[i].sla[j].stage``.
"""

from __future__ import annotations

import pytest

from loadkit.errors import ScenarioError, SlaSyntaxError
from loadkit.scenario import apply_overrides, compile_profile, scenario_from_text
from loadkit.sla import parse_rule

HEAD = "name: t\ntarget: http://127.0.0.1:8080\n"
RAMP = """\
warmup: 1s
sla: [p99 < 30ms]
profiles:
  - name: ramp
    kind: ramp
    concurrency: [1, 2, 4]
    stage_duration: 2s
    sla:
"""


def _load(sla_lines: str, head: str = HEAD + RAMP):
    return scenario_from_text(head + sla_lines)


def _refused(sla_lines: str, head: str = HEAD + RAMP) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        _load(sla_lines, head)
    assert "\n" not in str(info.value) and info.value.exit_code == 2
    return info.value


def test_a_mapping_with_a_stage_scopes_the_rule_beside_the_profile_wide_one() -> None:
    sc = _load('      - {rule: "p99 < 50ms", stage: 3}\n      - {rule: "p99 < 40ms", stage: 2}\n')
    rules = sc.profiles[0].sla
    # the global rule still judges the steps; each scoped rule has its own stage
    assert [(r.expr, r.stage) for r in rules] == [("p99 < 30ms", None), ("p99 < 50ms", 3),
                                                 ("p99 < 40ms", 2)]
    stages = compile_profile(sc.profiles[0], sc)
    assert [(s.index, s.warmup, s.concurrency) for s in stages][3] == (3, False, 4)


def test_a_scoped_rule_replaces_only_a_rule_scoped_to_the_same_stage() -> None:
    sc = _load('      - {rule: "p99 < 50ms", stage: 3}\n      - "p99 < 20ms"\n'
               '      - {rule: "p99 < 45ms", stage: 3}\n')
    assert [r.text for r in sc.profiles[0].sla] == ["p99 < 20ms", "p99 < 45ms @ stage 3"]


def test_the_written_form_of_a_scoped_rule_is_accepted_and_reads_back() -> None:
    sc = _load('      - "p99 < 50ms @ stage 1"\n')
    rule = sc.profiles[0].sla[1]
    assert rule.stage == 1 and rule.text == "p99 < 50ms @ stage 1"
    assert parse_rule(rule.text) == rule          # how result.json keeps it, for merge


def test_a_stage_out_of_range_names_the_field_and_the_measured_stages() -> None:
    err = _refused('      - "p99 < 50ms"\n      - {rule: "p99 < 50ms", stage: 4}\n')
    assert err.field == "profiles[0].sla[1].stage"
    assert err.problem == ("stage 4 is out of range for profile 'ramp': its measured stages "
                           "are 1-3 (stage 0 is its warm-up), numbered as in the report's step "
                           "column")


def test_the_warm_up_stage_cannot_be_judged() -> None:
    err = _refused('      - {rule: "p99 < 50ms", stage: 0}\n')
    assert err.field == "profiles[0].sla[0].stage"
    assert "stage 0 is the warm-up of profile 'ramp', which no SLA judges" in err.problem


def test_without_a_warm_up_stage_0_is_the_first_measured_stage() -> None:
    sc = _load('      - {rule: "p99 < 50ms", stage: 0}\n', HEAD + RAMP.replace("warmup: 1s", "warmup: 0s"))
    assert sc.profiles[0].sla[1].stage == 0
    err = _refused('      - {rule: "p99 < 50ms", stage: 3}\n',
                   HEAD + RAMP.replace("warmup: 1s", "warmup: 0s"))
    assert "its measured stages are 0-2, numbered" in err.problem


def test_a_batch_sweep_and_a_stress_recovery_count_as_stages() -> None:
    head = HEAD + """\
warmup: 1s
profiles:
  - {name: sweep, kind: throughput, concurrency: 4, duration: 2s, batch_size: [1, 8, 32],
     sla: [{rule: rows_per_s > 100, stage: 3}]}
  - {name: stress, kind: stress, rate: [10, 20], stage_duration: 1s,
     recovery: {rate: 5, duration: 2s}, sla: [{rule: p99 < 100ms, stage: 3}]}
"""
    sc = scenario_from_text(head)
    assert [r.stage for p in sc.profiles for r in p.sla] == [3, 3]
    assert compile_profile(sc.profiles[1], sc)[3].label == "recovery 5 rps"


def test_a_written_stage_out_of_range_names_the_rule() -> None:
    assert _refused('      - "p99 < 50ms @ stage 7"\n').field == "profiles[0].sla[0]"


def test_a_stage_given_twice_must_agree() -> None:
    err = _refused('      - {rule: "p99 < 50ms @ stage 1", stage: 2}\n')
    assert err.field == "profiles[0].sla[0]" and "names stage 1 but stage 2 is given" in str(err)


@pytest.mark.parametrize("value, words", [pytest.param("-1", "must be at least 0", id="negative"),
                                          pytest.param("true", "expected a number", id="bool"),
                                          pytest.param("two", "whole number", id="word")])
def test_a_stage_that_is_not_an_index_is_refused(value: str, words: str) -> None:
    err = _refused(f'      - {{rule: "p99 < 50ms", stage: {value}}}\n')
    assert err.field == "profiles[0].sla[0].stage" and words in str(err)


def test_a_global_rule_cannot_be_scoped_to_a_stage() -> None:
    head = HEAD + "sla:\n  - {rule: p99 < 30ms, stage: 1}\nprofiles:\n  - {kind: latency, requests: 5}\n"
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(head)
    assert info.value.field == "sla[0].stage"
    assert "put this rule in that profile's sla" in info.value.problem


def test_the_sla_flag_cannot_be_scoped_to_a_stage() -> None:
    sc = _load('      - "p99 < 50ms"\n')
    with pytest.raises(SlaSyntaxError, match=r"^--sla: 'p99 < 5ms @ stage 1': a stage belongs"):
        apply_overrides(sc, sla=["p99 < 5ms @ stage 1"])
    # ... and an unscoped --sla rule leaves a scoped one of the same metric alone
    scoped = _load('      - {rule: "p99 < 50ms", stage: 2}\n')
    out = apply_overrides(scoped, sla=["p99 < 5ms"])
    assert [r.text for r in out.profiles[0].sla] == ["p99 < 5ms", "p99 < 50ms @ stage 2"]


def test_an_abort_rule_scoped_to_a_stage_watches_only_that_stage() -> None:
    from loadkit.testing import interval
    from loadkit.runner import _AbortWatch
    from loadkit.scenario import Stage

    watch = _AbortWatch([parse_rule("error_rate < 5%", abort=True, stage=2)])
    failing = interval(1.0, 1, 10.0, errors=50)
    assert watch.check(failing, Stage(1, "c=2", concurrency=2)) is True   # stage 1: not its own
    assert watch.check(failing, Stage(2, "c=4", concurrency=4)) is False
    assert watch.reason.startswith("aborted: error_rate < 5% broken")
