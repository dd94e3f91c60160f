"""Bad scenario input is refused with one line naming the field path (DESIGN exit 2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from loadkit.errors import DatasetError, ScenarioError, UsageError
from loadkit.scenario import build_payloads, load_scenario

T = "name: t\ntarget: http://127.0.0.1:8080\n"
DS = "dataset: {path: data.csv, seed: 3}\n"
LAT = "profiles:\n  - {name: lat, kind: latency, requests: 10}\n"

# (id, scenario text, expected field path, expected words in the problem)
SCENARIO_ERRORS = [
    ("malformed-yaml", T + "profiles: [\n  {name: a, kind: latency\n", "",
     "scenario.yaml line 5: malformed YAML: expected ',' or '}'"),
    ("malformed-yaml-context", T + "profiles: [\n  {name: a, kind: latency\n", "",
     "flow mapping that starts on line 4"),
    ("tab-indented-yaml", T + "profiles:\n\t- {kind: latency}\n", "", "malformed YAML"),
    ("not-a-mapping", "- just\n- a list\n", "", "must be a mapping"),
    ("empty-file", "", "", "must be a mapping"),
    ("unknown-top-field", T + LAT + "warmpu: 2s\n", "warmpu", "did you mean 'warmup'?"),
    ("unknown-profile-field", T + "profiles:\n  - {kind: throughput, concurency: 8, duration: 5s}\n",
     "profiles[0].concurency", "did you mean 'concurrency'?"),
    ("unknown-field-no-match", T + LAT + "zzz: 1\n", "zzz", "unknown field (fields: name"),
    ("unknown-field-with-a-line-break", T + LAT + 'dataset: {path: data.csv, "\\n": 1}\n',
     "dataset.'\\n'", "unknown field (fields: path"),
    ("unknown-request-field", T + LAT + "request: {methd: GET}\n", "request.methd",
     "did you mean 'method'?"),
    ("unknown-kind", T + "profiles:\n  - {kind: stres, rate: 10, stage_duration: 1s}\n",
     "profiles[0].kind", "did you mean 'stress'?"),
    ("missing-kind", T + "profiles:\n  - {name: a, requests: 10}\n", "profiles[0].kind",
     "required"),
    ("profile-not-mapping", T + "profiles: [7]\n", "profiles[0]", "expected a mapping"),
    ("missing-target", "name: t\n" + LAT, "target", "required"),
    ("missing-profiles", T, "profiles", "required"),
    ("empty-profiles", T + "profiles: []\n", "profiles", "must not be empty"),
    ("wrong-type-concurrency",
     T + "profiles:\n  - {kind: throughput, concurrency: many, duration: 5s}\n",
     "profiles[0].concurrency", "expected a whole number"),
    ("bool-as-count", T + "profiles:\n  - {kind: throughput, concurrency: true, duration: 5s}\n",
     "profiles[0].concurrency", "expected a number"),
    ("fractional-count", T + "profiles:\n  - {kind: latency, requests: 2.5}\n",
     "profiles[0].requests", "whole number"),
    ("zero-concurrency", T + "profiles:\n  - {kind: throughput, concurrency: 0, duration: 5s}\n",
     "profiles[0].concurrency", "must be greater than 0"),
    ("negative-rate", T + LAT + "  - {kind: constant-rate, rate: -5, duration: 5s}\n",
     "profiles[1].rate", "must be greater than 0"),
    ("zero-rate", T + LAT + "  - {kind: lat, name: x}\n  - {kind: constant-rate, rate: 0rps, duration: 5s}\n",
     "profiles[1].kind", "unknown profile kind"),
    ("third-profile-rate", T + LAT + "  - {name: b, kind: latency, requests: 5}\n"
     "  - {kind: constant-rate, rate: 0rps, duration: 5s}\n", "profiles[2].rate",
     "must be greater than 0"),
    ("bad-duration", T + "profiles:\n  - {kind: latency, duration: 5 parsecs}\n",
     "profiles[0].duration", "is not a duration"),
    ("negative-duration", T + "profiles:\n  - {kind: latency, duration: -1s}\n",
     "profiles[0].duration", "must be greater than 0"),
    ("negative-warmup", T + LAT + "warmup: -2s\n", "warmup", "must not be negative"),
    ("bad-rate", T + "profiles:\n  - {kind: constant-rate, rate: fast, duration: 5s}\n",
     "profiles[0].rate", "is not a rate"),
    ("bad-percent", T + "profiles:\n  - {kind: stress, rate: [10], stage_duration: 1s,"
     " stop_when: {error_rate: lots}}\n", "profiles[0].stop_when.error_rate",
     "is not a percentage"),
    ("percent-above-100", T + "profiles:\n  - {kind: throughput, concurrency: 2, "
     "stability: {tolerance: 150%}}\n", "profiles[0].stability.tolerance", "at most 100%"),
    ("empty-stop-when", T + "profiles:\n  - {kind: stress, rate: [10], stage_duration: 1s,"
     " stop_when: {}}\n", "profiles[0].stop_when", "give error_rate, p99 or both"),
    ("ramp-step-zero", T + "profiles:\n  - {kind: ramp, concurrency: [1, 0, 4], stage_duration: 1s}\n",
     "profiles[0].concurrency[1]", "must be greater than 0"),
    ("ramp-range-unknown", T + "profiles:\n  - {kind: ramp, concurrency: {start: 1, stopp: 8,"
     " factor: 2}, stage_duration: 1s}\n", "profiles[0].concurrency.stopp", "did you mean 'stop'?"),
    ("ramp-range-backwards", T + "profiles:\n  - {kind: ramp, concurrency: {start: 8, stop: 1,"
     " step: 1}, stage_duration: 1s}\n", "profiles[0].concurrency", "below start"),
    ("ramp-range-no-step", T + "profiles:\n  - {kind: ramp, concurrency: {start: 1, stop: 8},"
     " stage_duration: 1s}\n", "profiles[0].concurrency", "exactly one of step or factor"),
    ("ramp-range-factor-one", T + "profiles:\n  - {kind: ramp, concurrency: {start: 1, stop: 8,"
     " factor: 1}, stage_duration: 1s}\n", "profiles[0].concurrency", "factor must be greater"),
    ("stress-too-many-steps", T + "profiles:\n  - {kind: stress, rate: {start: 1, stop: 100000,"
     " step: 1}, stage_duration: 1s}\n", "profiles[0].rate", "at most 200"),
    ("latency-without-end", T + "profiles:\n  - {kind: latency}\n", "profiles[0]",
     "give requests or duration"),
    ("soak-rate-and-concurrency", T + "profiles:\n  - {kind: soak, rate: 5, concurrency: 2,"
     " duration: 1m}\n", "profiles[0]", "not both"),
    ("spike-multiplier-one", T + "profiles:\n  - {kind: spike, rate: 5, spike: {multiplier: 1,"
     " duration: 1s}}\n", "profiles[0].spike.multiplier", "greater than 1"),
    ("duplicate-profile-name", T + LAT + "  - {name: lat, kind: latency, requests: 3}\n",
     "profiles[1].name", "duplicate profile name 'lat'"),
    ("bad-sla", T + LAT + "sla: [p99 < 200ms, error_rate < 1%, p99 <]\n", "sla[2]",
     "missing value"),
    ("bad-sla-metric", T + LAT + "sla: [p98 < 200ms]\n", "sla[0]", "unknown metric"),
    ("bad-profile-sla", T + "profiles:\n  - {kind: latency, requests: 5, sla: [p99 << 2ms]}\n",
     "profiles[0].sla[0]", "p99 << 2ms"),
    ("bad-sla-mapping", T + LAT + "sla:\n  - {rule: p99 < 1s, abrot: true}\n", "sla[0].abrot",
     "did you mean 'abort'?"),
    ("bad-sla-grace", T + LAT + "sla:\n  - {rule: p99 < 1s, abort: true, grace: soon}\n",
     "sla[0].grace", "is not a duration"),
    ("non-http-target", "name: t\ntarget: ftp://example.com\n" + LAT, "target",
     "not an http(s) URL"),
    ("hostless-target", "name: t\ntarget: http://\n" + LAT, "target", "not an http(s) URL"),
    ("bad-port-target", "name: t\ntarget: http://host:99999\n" + LAT, "target",
     "not an http(s) URL"),
    ("missing-var", "name: t\ntarget: ${NOPE_NOT_SET}\n" + LAT, "target",
     "environment variable NOPE_NOT_SET is not set"),
    ("missing-var-in-header", T + LAT + "request: {headers: {X-Key: 'k ${NOPE_KEY}'}}\n",
     "request.headers.X-Key", "NOPE_KEY"),
    ("unclosed-var", T + LAT + "description: 'x ${TOKEN'\n", "description", "unclosed ${"),
    ("bad-var-name", "name: ${not-valid}\ntarget: http://h\n" + LAT, "name",
     "not a valid variable reference"),
    ("bad-method", T + LAT + "request: {method: FETCH}\n", "request.method", "not one of GET"),
    ("path-without-slash", T + LAT + "request: {path: predict}\n", "request.path",
     "must start with /"),
    ("header-line-break", T + LAT + "request: {headers: {X-A: \"a\\r\\nEvil: 1\"}}\n",
     "request.headers", "line breaks"),
    ("bad-size", T + LAT + "request: {max_response_bytes: huge}\n", "request.max_response_bytes",
     "is not a size"),
    ("huge-int-duration", T + "profiles:\n  - {kind: latency, duration: " + "9" * 400 + "}\n",
     "profiles[0].duration", "too large"),
    ("zero-timeout", T + LAT + "request: {timeout: 0s}\n", "request.timeout",
     "must be greater than 0"),
    ("bad-status", T + LAT + "checks: {status: [200, 999]}\n", "checks.status[1]",
     "must be at most 599"),
    ("bad-order", T + LAT + "dataset: {path: data.csv, order: shuffled}\n", "dataset.order",
     "not one of random, sequential"),
    ("bad-format-ext", T + LAT + "dataset: {path: data.txt}\n", "dataset.format",
     "cannot tell the format"),
    ("negative-seed", T + LAT + "dataset: {path: data.csv, seed: -1}\n", "dataset.seed",
     "must be at least 0"),
    ("zero-sample", T + LAT + "dataset: {path: data.csv, sample: 0}\n", "dataset.sample",
     "must be greater than 0"),
    ("unknown-mock-option", "name: t\ntarget: mock\nmock: {capacty: 8}\n" + LAT, "mock",
     "did you mean 'capacity'?"),
    ("unknown-mock-preset", "name: t\ntarget: mock\nmock: slow\n" + LAT, "mock",
     "unknown mock preset 'slow'"),
    ("infinite-in-body", T + LAT + "request: {body: {a: [1, .inf]}}\n", "request.body.a[1]",
     "inf cannot be sent"),
    ("unknown-placeholder", T + DS + LAT + "request: {body: {x: '{{ rowz }}'}}\n",
     "request.body.x", "unknown placeholder"),
    ("row-with-batches", T + DS + LAT + "request: {batch_size: 4, body: {x: '{{ row.species }}'}}\n",
     "request.body.x", "takes one row but batch_size 4"),
    ("rows-without-dataset", T + LAT + "request: {body: {x: ['{{ rows }}']}}\n",
     "request.body.x[0]", "needs a dataset"),
    ("rows-inside-text", T + DS + LAT + "request: {body: 'all: {{ rows }}'}\n", "request.body",
     "must be the whole string"),
]


@pytest.mark.parametrize("text, field, words",
                         [pytest.param(t, f, w, id=i) for i, t, f, w in SCENARIO_ERRORS])
def test_bad_scenario_is_refused_with_the_field_path(
        write: Callable[[str], Path], text: str, field: str, words: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(text), env={})
    message = str(info.value)
    assert info.value.field == field, message
    assert words in message
    assert "\n" not in message
    assert info.value.exit_code == 2


DATASET_ERRORS = [
    ("missing-file", DS.replace("data.csv", "nope.csv"), "", "dataset.path: file not found"),
    ("empty-file", DS.replace("data.csv", "empty.csv"), "", "dataset.path: empty.csv: the file is"),
    ("header-only", DS.replace("data.csv", "header.csv"), "", "dataset.path: header.csv: the dataset has no rows"),
    ("garbage-parquet", DS.replace("data.csv", "bad.parquet"), "",
     "dataset.path: bad.parquet: cannot read as parquet"),
    ("missing-column", DS, "request: {body: {x: '{{ rows.petal_lenght }}'}}\n",
     ("request.body.x: column 'petal_lenght' is not in dataset.path data.csv; "
      "did you mean 'petal_length'?")),
    ("missing-row-column", DS, "request: {body: {a: [1, {b: '{{ row.colour }}'}]}}\n",
     "request.body.a[1].b: column 'colour'"),
    ("missing-selected-column", "dataset: {path: data.csv, columns: [species, petals]}\n", "",
     "dataset.columns[1]: column 'petals'"),
    ("missing-breakdown-column", DS,
     "profiles:\n  - {kind: latency, requests: 3, breakdown: text_len}\n",
     "profiles[0].breakdown: column 'text_len'"),
]


@pytest.mark.parametrize("dataset, extra, start",
                         [pytest.param(d, e, s, id=i) for i, d, e, s in DATASET_ERRORS])
def test_bad_dataset_is_refused_naming_the_field(
        write: Callable[[str], Path], data_dir: Path, dataset: str, extra: str,
        start: str) -> None:
    (data_dir / "empty.csv").write_text("")
    (data_dir / "header.csv").write_text("a,b\n")
    (data_dir / "bad.parquet").write_bytes(b"not a parquet file at all")
    profiles = "" if extra.startswith("profiles") else LAT
    with pytest.raises(DatasetError) as info:
        build_payloads(load_scenario(write(T + dataset + profiles + extra), env={}))
    assert str(info.value).startswith(start), str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_missing_dataset_is_refused_at_load_time(write: Callable[[str], Path]) -> None:
    with pytest.raises(DatasetError, match=r"^dataset.path: file not found: gone.csv"):
        load_scenario(write(T + "dataset: {path: gone.csv}\n" + LAT))


def test_missing_scenario_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="scenario file not found"):
        load_scenario(tmp_path / "nope.yaml")


def test_secret_header_value_is_not_echoed_in_a_type_error(write: Callable[[str], Path]) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(T + LAT + "request: {headers: {Authorization: [hunter2-secret]}}\n"))
    assert "hunter2-secret" not in str(info.value)
    assert info.value.field == "request.headers"


def test_credentials_in_a_bad_target_are_not_echoed(write: Callable[[str], Path]) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write("name: t\ntarget: ftp://user:pa55word@host/x?token=abc\n" + LAT))
    assert "pa55word" not in str(info.value) and "abc" not in str(info.value)


def test_a_yaml_anchor_cycle_is_refused(write: Callable[[str], Path]) -> None:
    with pytest.raises(ScenarioError, match="refers to itself"):
        load_scenario(write(T + LAT + "request: {body: &a [1, *a]}\n"))
