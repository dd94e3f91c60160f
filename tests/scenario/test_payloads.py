"""Payloads: seeded sampling, batches, templates and JSON encoding of dataset values."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loadkit.errors import DatasetError
from loadkit.scenario import build_payloads, load_scenario
from loadkit.scenario.dataset import jsonable

HEAD = "name: t\ntarget: http://127.0.0.1:8080\n"
LAT = "profiles:\n  - {name: lat, kind: latency, requests: 10}\n"


def bodies(path: Path, batch: int = 1) -> list[Any]:
    return [json.loads(b) for b in build_payloads(load_scenario(path))[batch].bodies]


def test_same_seed_gives_the_same_bodies_and_another_seed_a_different_order(
        write: Callable[..., Path]) -> None:
    text = HEAD + LAT + "dataset: {path: data.csv, seed: SEED}\n"
    first = bodies(write(text.replace("SEED", "7"), "a.yaml"))
    again = bodies(write(text.replace("SEED", "7"), "b.yaml"))
    other = bodies(write(text.replace("SEED", "8"), "c.yaml"))
    assert first == again
    assert first != other
    assert sorted(map(json.dumps, first)) == sorted(map(json.dumps, other))  # same rows


def test_sample_draws_that_many_distinct_rows(write: Callable[..., Path]) -> None:
    got = bodies(write(HEAD + LAT + "dataset: {path: data.csv, sample: 4, seed: 1}\n"))
    rows = [json.dumps(b["instances"][0], sort_keys=True) for b in got]
    assert len(rows) == 4 and len(set(rows)) == 4


def test_sequential_order_keeps_file_order(write: Callable[..., Path]) -> None:
    got = bodies(write(HEAD + LAT + "dataset: {path: data.csv, sample: 3, order: sequential}\n"))
    assert [b["instances"][0]["sepal_length"] for b in got] == [5.1, 4.9, 7.0]


def test_sample_larger_than_the_file_uses_every_row_once(write: Callable[..., Path]) -> None:
    got = bodies(write(HEAD + LAT + "dataset: {path: data.csv, sample: 1000}\n"))
    assert len(got) == 10


@pytest.mark.parametrize("batch, expected_bodies", [(1, 10), (3, 4), (10, 1), (32, 1)])
def test_every_body_carries_exactly_batch_size_rows(
        write: Callable[..., Path], batch: int, expected_bodies: int) -> None:
    path = write(HEAD + LAT + f"dataset: {{path: data.csv}}\nrequest: {{batch_size: {batch}}}\n")
    got = bodies(path, batch)
    assert len(got) == expected_bodies
    assert all(len(b["instances"]) == batch for b in got)


def test_a_batch_size_sweep_builds_one_payload_set_per_size(write: Callable[..., Path]) -> None:
    path = write(HEAD + "dataset: {path: data.csv}\nprofiles:\n"
                 "  - {kind: throughput, concurrency: 2, duration: 1s, batch_size: [1, 4]}\n"
                 "  - {kind: latency, requests: 5}\n")
    payloads = build_payloads(load_scenario(path))
    assert sorted(payloads) == [1, 4]
    assert payloads[4].payload_bytes == tuple(len(b) for b in payloads[4].bodies)
    assert min(payloads[4].payload_bytes) > max(payloads[1].payload_bytes)


@pytest.mark.parametrize("body, expected", [
    ("{instances: '{{ rows }}'}",
     {"instances": [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4,
                     "petal_width": 0.2, "species": "setosa"}]}),
    ("{inputs: '{{ rows.values }}'}", {"inputs": [[5.1, 3.5, 1.4, 0.2, "setosa"]]}),
    ("{x: '{{rows.species}}'}", {"x": ["setosa"]}),
    ("{x: '{{ row.petal_width }}', n: 3, ok: true, none: null}",
     {"x": 0.2, "n": 3, "ok": True, "none": None}),
    ("{q: 'kind={{ row.species }}/{{ row.sepal_length }}'}", {"q": "kind=setosa/5.1"}),
    ("['{{ row }}']", [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4,
                        "petal_width": 0.2, "species": "setosa"}]),
    ("{static: {deep: [1, 2, '{{ rows.sepal_width }}']}}", {"static": {"deep": [1, 2, [3.5]]}}),
], ids=["rows", "rows.values", "rows.column", "row.column", "interpolated", "row", "nested"])
def test_templates_render_rows_into_the_body(write: Callable[..., Path], body: str,
                                             expected: Any) -> None:
    path = write(HEAD + LAT + f"dataset: {{path: data.csv, order: sequential, sample: 1}}\n"
                 f"request: {{body: {body}}}\n")
    assert bodies(path) == [expected]


def test_bodies_are_compact_utf8_json(write: Callable[..., Path]) -> None:
    path = write(HEAD + LAT + "request: {body: {text: 'héllo', list: [1, 2]}}\n")
    (body,) = build_payloads(load_scenario(path))[1].bodies
    assert body == '{"text":"héllo","list":[1,2]}'.encode()


def test_a_body_without_placeholders_is_one_static_body(write: Callable[..., Path]) -> None:
    path = write(HEAD + LAT + "request: {body: {ping: 1}}\n")
    payloads = build_payloads(load_scenario(path))
    assert payloads[1].bodies == (b'{"ping":1}',)
    assert payloads[1].content_type == "application/json"


def test_a_get_without_body_sends_an_empty_body(write: Callable[..., Path]) -> None:
    path = write(HEAD + LAT + "request: {method: get, path: /health}\n")
    payloads = build_payloads(load_scenario(path))
    assert payloads[1].bodies == (b"",) and payloads[1].content_type == ""


def test_a_dataset_without_a_body_sends_rows_as_instances(write: Callable[..., Path]) -> None:
    got = bodies(write(HEAD + LAT + "dataset: {path: data.csv, sample: 1}\n"))
    assert set(got[0]) == {"instances"} and len(got[0]["instances"]) == 1


def test_dataset_columns_select_and_order_the_values(write: Callable[..., Path]) -> None:
    path = write(HEAD + LAT + "dataset: {path: data.csv, order: sequential, sample: 1, "
                 "columns: [species, sepal_length]}\nrequest: {body: {x: '{{ rows.values }}'}}\n")
    assert bodies(path) == [{"x": [["setosa", 5.1]]}]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "i": np.array([1, 2], dtype=np.int64),
        "u8": np.array([3, 250], dtype=np.uint8),
        "f": [1.5, float("nan")],
        "b": np.array([True, False]),
        "t": pd.to_datetime(["2024-01-02T03:04:05", None]),
        "s": ["a", None],
        "n": pd.array([7, None], dtype="Int64"),
        "lst": [[1, 2], [3]],
    })


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "json", "csv"])
def test_numpy_and_pandas_values_encode_as_plain_json(
        write: Callable[..., Path], data_dir: Path, fmt: str) -> None:
    frame = _frame()
    if fmt == "parquet":
        frame.to_parquet(data_dir / "typed.parquet")
    elif fmt in ("jsonl", "json"):
        frame.drop(columns=["t"]).to_json(data_dir / f"typed.{fmt}", orient="records",
                                          lines=fmt == "jsonl")
    else:
        frame.drop(columns=["lst"]).to_csv(data_dir / "typed.csv", index=False)
    path = write(HEAD + LAT + f"dataset: {{path: typed.{fmt}, order: sequential}}\n"
                 "request: {body: '{{ row }}'}\n")
    first, second = bodies(path)
    assert first["i"] == 1 and first["u8"] == 3 and first["f"] == 1.5 and first["b"] is True
    assert second["f"] is None and second["s"] is None and second["n"] is None
    if "t" in first:
        assert first["t"].startswith("2024-01-02") and second["t"] is None
    if fmt == "parquet":
        assert first["lst"] == [1, 2]


@pytest.mark.parametrize("value, expected", [
    (np.int32(5), 5), (np.float32(0.5), 0.5), (np.float64("nan"), None), (float("inf"), None),
    (np.bool_(True), True), (pd.NaT, None), (pd.NA, None), (None, None),
    (pd.Timestamp("2024-05-06T07:08:09"), "2024-05-06T07:08:09"),
    (np.datetime64("2024-05-06"), "2024-05-06T00:00:00"), (pd.Timedelta("1.5s"), 1.5),
    (np.array([1, 2], dtype=np.int16), [1, 2]), (b"\xff\x00", "/wA="), (b"text", "text"),
    ({"k": np.int8(1)}, {"k": 1}),
], ids=lambda v: type(v).__name__)
def test_jsonable_unboxes_numpy_and_pandas_values(value: Any, expected: Any) -> None:
    got = jsonable(value)
    assert got == expected and type(got) is type(expected)
    json.dumps(got, allow_nan=False)


def test_a_corrupt_csv_is_a_dataset_error(write: Callable[..., Path], data_dir: Path) -> None:
    (data_dir / "bad.csv").write_bytes(b"a,b\n1,2\n\"unterminated,3\n")
    with pytest.raises(DatasetError, match=r"^dataset.path: bad.csv: cannot read as csv"):
        build_payloads(load_scenario(write(HEAD + LAT + "dataset: {path: bad.csv}\n")))


def test_the_dataset_path_is_relative_to_the_scenario_file(
        data_dir: Path, tmp_path: Path) -> None:
    sub = data_dir / "nested"
    sub.mkdir()
    (sub / "s.yaml").write_text(HEAD + LAT + "dataset: {path: ../data.csv, sample: 2}\n")
    scenario = load_scenario(sub / "s.yaml")
    assert scenario.dataset is not None and scenario.dataset.path == data_dir / "data.csv"
    assert len(build_payloads(scenario)[1]) == 2


def test_an_explicit_format_reads_a_file_with_any_extension(
        write: Callable[..., Path], data_dir: Path) -> None:
    (data_dir / "rows.txt").write_text((data_dir / "data.csv").read_text())
    got = bodies(write(HEAD + LAT + "dataset: {path: rows.txt, format: CSV, sample: 2}\n"))
    assert len(got) == 2 and "species" in got[0]["instances"][0]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), [1.0, float("-inf")]],
                         ids=["nan", "inf", "nested-minus-inf"])
def test_encode_refuses_nan_and_infinities_whatever_json_library_is_installed(bad: object) -> None:
    from loadkit.scenario.payloads import encode

    with pytest.raises(ValueError):
        encode(bad)
