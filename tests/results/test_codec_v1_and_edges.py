"""The codec's edges: a v1 file read as v2 (and what it cannot say), omitted defaults,
types rebuilt from JSON numbers, and one clear line for every unreadable file."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from loadkit.errors import UsageError
from loadkit.results.codec import V1_NOTE, dumps, from_data, loads, migrate_v1, read, to_data
from loadkit.results.model import (
    SCHEMA,
    SCHEMA_V1,
    LatencySummary,
    RunResult,
    StageResult,
    StopCondition,
    Verdict,
)
from loadkit.results.status import Status
from loadkit.testing import profile, run_result, stage

V1_FILE = Path(__file__).parent / "data" / "v1_result.json"


def _v1_stage(**kw):
    base = {"index": 0, "label": "c=4", "warmup": False, "duration_s": 4.0, "requests": 10,
            "ok": 10, "errors": 0, "latency_ms": {"p99": 9.0}, "histogram": "H",
            "overflow": 1, "throughput_rps": 99.0}
    return {**base, **kw}


def test_a_v1_stage_keeps_its_one_histogram_in_both_places_and_counts_successes_a_second():
    data = {"schema": SCHEMA_V1, "status": "pass", "profiles": [{
        "name": "ramp", "sla": ["p99 < 1s"], "summary": {"ok": 9, "duration_s": 4.0,
                                                         "latency_ms": {"p99": 9.0}},
        "stages": [_v1_stage(label="warm-up", warmup=True),
                   _v1_stage(index=1, ok=9, errors=1),
                   _v1_stage(index=2, label="Recovery c=1")]}]}
    out = migrate_v1(data)
    assert out["schema"] == SCHEMA
    warm, step, recovery = out["profiles"][0]["stages"]
    assert [warm["role"], step["role"], recovery["role"]] == ["warmup", "measured", "recovery"]
    assert step == {**_v1_stage(index=1, ok=9, errors=1), "latency_all_ms": {"p99": 9.0},
                    "histogram_all": "H", "overflow_all": 1, "throughput_rps": 2.25,
                    "role": "measured"}
    assert out["profiles"][0]["sla"] == ["p99 < 1s"] and "sla_origin" not in out["profiles"][0]
    assert out["profiles"][0]["summary"] == {"ok": 9, "duration_s": 4.0, "throughput_rps": 2.25,
                                             "latency_ms": {"p99": 9.0},
                                             "latency_all_ms": {"p99": 9.0}}
    assert out["notes"] == [V1_NOTE]                  # a stage had errors: said once
    assert out["interrupted"] is False and out["stopped_early"] == ""
    assert data["schema"] == SCHEMA_V1 and "role" not in data["profiles"][0]["stages"][0]


def test_a_v1_stage_without_figures_gets_empty_ones_and_keeps_its_throughput():
    out = migrate_v1({"profiles": [{"stages": [{"label": "x", "duration_s": 0, "ok": 5,
                                                "throughput_rps": 7.0}],
                                    "summary": {"duration_s": 0, "throughput_rps": 3.0}}]})
    (st,) = out["profiles"][0]["stages"]
    assert (st["latency_all_ms"], st["histogram_all"], st["overflow_all"]) == ({}, "", 0)
    assert st["throughput_rps"] == 7.0 and st["role"] == "measured"
    assert out["profiles"][0]["summary"] == {"duration_s": 0, "throughput_rps": 3.0,
                                             "latency_all_ms": {}}
    # no ok count: zero successes a second, not one
    out = migrate_v1({"profiles": [{"stages": [{"label": "x", "duration_s": 2.0}],
                                    "summary": {"duration_s": 2.0}}]})
    assert out["profiles"][0]["stages"][0]["throughput_rps"] == 0.0
    assert out["profiles"][0]["summary"]["throughput_rps"] == 0.0
    assert out["notes"] == [] and out["verdicts"] == [] and out["profiles"][0]["sla_origin"]
    # a profile without stages or a summary gets empty ones
    (bare,) = migrate_v1({"profiles": [{"name": "t", "sla": ["p99 < 1s"]}]})["profiles"]
    assert bare == {"name": "t", "sla": ["p99 < 1s"], "stages": [],
                    "summary": {"latency_all_ms": {}}}


def test_a_v1_result_without_rules_is_judged_by_the_default_rule():
    for sla in ([], None):
        p = {"name": "t", "stages": [], "summary": {}}
        if sla is not None:
            p["sla"] = sla
        (prof,) = migrate_v1({"profiles": [p]})["profiles"]
        assert (prof["sla_origin"], prof["sla"]) == ("default", ["error_rate < 1%"])


def test_a_v1_abort_warning_becomes_stopped_early_and_warnings_become_notes():
    out = migrate_v1({"status": "interrupted", "warnings": [
        "slow", "aborted: p99 < 1s broken at 12 s", "aborted: later"],
        "verdicts": [{"profile": "t", "stage": 2, "passed": True}], "profiles": []})
    assert out["interrupted"] is True
    assert out["stopped_early"] == "aborted: p99 < 1s broken at 12 s"
    assert out["notes"] == ["slow", "aborted: p99 < 1s broken at 12 s", "aborted: later"]
    assert out["verdicts"] == [{"profile": "t", "passed": True}]       # v1's stage dropped
    assert migrate_v1({"warnings": ["not aborted: x"]})["stopped_early"] == ""


def test_the_v1_file_loads_with_roles_default_rules_and_the_mixed_latency_note():
    r = read(str(V1_FILE))
    assert r.schema == SCHEMA and r.status is Status.FAIL and len(r.verdicts) == 6
    thr = r.profile("throughput")
    assert [s.role for s in thr.stages] == ["warmup", "measured"]
    assert thr.stages[1].latency_all_ms == thr.stages[1].latency_ms
    assert thr.stages[1].throughput_rps == round(thr.stages[1].ok / thr.stages[1].duration_s, 3)
    assert r.notes[-1] == V1_NOTE and r.notes[0].startswith("the generator fell behind")
    assert loads(dumps(r)) == r


def test_files_that_cannot_be_read_are_one_line_naming_the_file(tmp_path):
    with pytest.raises(UsageError) as err:
        read(str(tmp_path / "missing.json"))
    assert str(err.value) == f"{tmp_path / 'missing.json'}: cannot read (No such file or directory)"
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "loadkit.result/v2", "scenario": {}}')
    with pytest.raises(UsageError) as err:
        read(str(bad))
    assert str(err.value).startswith(f"{bad}: malformed result (")
    with pytest.raises(UsageError) as err:
        loads("{\n  nope", source="r.json")
    assert str(err.value) == "r.json: not valid JSON (Expecting property name enclosed in " \
                             "double quotes at line 2)"
    with pytest.raises(UsageError) as err:
        loads('{"schema": "other/v9"}', source="r.json")
    assert str(err.value) == ("r.json: schema is 'other/v9', expected 'loadkit.result/v2' "
                              "(or 'loadkit.result/v1')")
    with pytest.raises(UsageError) as err:
        loads('{"schema": "loadkit.result/v1", "profiles": 3}')
    assert str(err.value).startswith("result.json: malformed result (")


def test_a_malformed_result_names_what_is_wrong_for_every_kind_of_fault():
    good = json.loads(dumps(run_result(profile(stages=[stage(0, [1.0] * 3)]))))
    faults = {
        "missing field": lambda d: d["scenario"].pop("name"),
        "bad status": lambda d: d.update(status="bogus"),
        "counts": lambda d: d["profiles"][0]["stages"][0].update(ok=7),
        "not a mapping": lambda d: d["profiles"][0]["stages"][0].update(error_kinds=[1]),
    }
    for _name, fault in faults.items():
        data = json.loads(json.dumps(good))
        fault(data)
        with pytest.raises(UsageError, match=r"^result\.json: malformed result \(.+\)$"):
            loads(json.dumps(data))
    assert loads(json.dumps(good)) == loads(dumps(loads(json.dumps(good))))


def test_defaults_marked_omit_are_left_out_and_restored():
    s = stage(0, [1.0])
    data = to_data(s)
    for absent in ("ttft_ms", "output_tokens", "tokens_from", "error_details",
                   "server_timing_ms", "server_timing_missing", "server_metrics",
                   "server_scrapes"):
        assert absent not in data
    assert data["status_codes"] == {"200": 1} and data["breakdown"] == []
    assert list(data)[-1] == "overflow_all"            # omit-able fields go last
    streamed = replace(s, output_tokens=0, tokens_from="usage", error_details={"x": 1},
                       server_timing_missing=2)
    data = to_data(streamed)
    assert (data["output_tokens"], data["tokens_from"], data["error_details"],
            data["server_timing_missing"]) == (0, "usage", {"x": 1}, 2)
    assert list(data)[-4:] == ["output_tokens", "tokens_from", "error_details",
                               "server_timing_missing"]
    assert from_data(StageResult, data) == streamed
    p = to_data(profile(stages=[s]))
    assert "server_timeseries" not in p and "search" not in p and p["stop_when"] is None


def test_values_come_back_with_their_types_from_plain_json_numbers():
    r = run_result(profile(stages=[replace(stage(0, [1.0]), concurrency=3, rate=2.5,
                                           stable=True)]), status=Status.FAIL)
    r = replace(r, profiles=(replace(r.profiles[0], stop_when=StopCondition(p99_ms=250.0),
                                     sla_origin="default"),),
                verdicts=(Verdict("throughput", "p99 < 1s", "p99", None, 1000.0, False),))
    data = json.loads(dumps(r))
    st = data["profiles"][0]["stages"][0]
    st["duration_s"] = 10                               # an integer in the file
    st["latency_ms"]["max"] = 1
    back = from_data(RunResult, data)
    bst = back.profiles[0].stages[0]
    assert type(bst.duration_s) is float and bst.duration_s == 10.0
    assert type(bst.latency_ms.max) is float
    assert type(bst.concurrency) is int and bst.concurrency == 3
    assert type(bst.rate) is float and bst.rate == 2.5
    assert bst.stable is True and bst.error_kinds == {} and type(bst.breakdown) is tuple
    assert back.status is Status.FAIL and back.profiles[0].sla_origin == "default"
    assert back.profiles[0].stop_when == StopCondition(p99_ms=250.0)
    assert back.verdicts[0].observed is None and back.verdicts[0].threshold == 1000.0
    assert back == r
    assert from_data(LatencySummary, {"p99": 3, "unknown": 1}) == LatencySummary(p99=3.0)


def test_result_json_is_indented_unicode_text_and_refuses_nan():
    r = run_result(profile(stages=[stage(0, [1.0])]), name="naïve")
    text = dumps(r)
    assert text.startswith('{\n  "scenario": {\n    "name": "naïve",') and text.endswith("}\n")
    bad = replace(r, started_at=float("nan"))
    with pytest.raises(ValueError):
        dumps(bad)


def test_lists_and_untyped_containers_are_rebuilt_item_by_item():
    from typing import Any

    from loadkit.results.codec import _build

    assert _build(list[float], [1, 2.5]) == [1.0, 2.5] and type(_build(list[float], [1])[0]) is float
    assert _build(list, [1, "a"]) == [1, "a"]
    assert _build(dict, {"a": 1}) == {"a": 1}
    assert _build(Any, {"a": [1]}) == {"a": [1]}


def test_a_v1_stage_shorter_than_a_second_still_gets_its_throughput():
    (st,) = migrate_v1({"profiles": [{"stages": [{"label": "x", "duration_s": 0.5, "ok": 5}],
                                      "summary": {}}]})["profiles"][0]["stages"]
    assert st["throughput_rps"] == 10.0
