"""dataset.columns, {{ batch_size }} and dataset.missing: what reaches the body, and what validate says."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from loadkit.errors import DatasetError
from loadkit.scenario import build_payloads, load_scenario

HEAD = "name: t\ntarget: http://127.0.0.1:8080\nprofiles:\n  - {name: lat, kind: latency, requests: 5}\n"
BLANKS = "a,b,c\n1,2,x\n3,,y\n5,6,\n7,8,z\n"


def bodies(path: Path, batch: int = 1) -> list[Any]:
    return [json.loads(b) for b in build_payloads(load_scenario(path))[batch].bodies]


def test_dataset_columns_keeps_only_those_columns_in_that_order(
        write: Callable[..., Path]) -> None:
    path = write(HEAD + "dataset: {path: data.csv, order: sequential, sample: 1, "
                 "columns: [petal_width, sepal_length]}\nrequest: {body: {x: '{{ rows.values }}', "
                 "r: '{{ row }}'}}\n")
    assert bodies(path) == [{"x": [[0.2, 5.1]], "r": {"petal_width": 0.2, "sepal_length": 5.1}}]


def test_batch_size_places_the_batchs_row_count_as_a_number_or_in_text(
        write: Callable[..., Path]) -> None:
    # The Open Inference Protocol's shape [N, 4]: N must be the batch's own size.
    path = write(HEAD + "dataset: {path: data.csv, columns: [sepal_length, sepal_width, "
                 "petal_length, petal_width]}\nrequest:\n  body: {inputs: "
                 "[{name: x, shape: ['{{ batch_size }}', 4], datatype: FP64, data: "
                 "'{{ rows.values }}'}], id: 'b{{ batch_size }}'}\n"
                 "  batch_size: BATCH\n")
    for batch in (1, 3):
        got = bodies(write(path.read_text().replace("BATCH", str(batch)), f"{batch}.yaml"), batch)
        assert {json.dumps(b["inputs"][0]["shape"]) for b in got} == {f"[{batch}, 4]"}
        assert {len(b["inputs"][0]["data"]) for b in got} == {batch}
        assert {b["id"] for b in got} == {f"b{batch}"}


@pytest.fixture
def blanks(write: Callable[..., Path], data_dir: Path) -> Callable[[str], Path]:
    (data_dir / "blanks.csv").write_text(BLANKS)
    return lambda policy: write(HEAD + f"dataset: {{path: blanks.csv, order: sequential"
                                f"{', missing: ' + policy if policy else ''}}}\n"
                                "request: {body: {r: '{{ row }}'}}\n", f"s-{policy}.yaml")


def test_missing_values_are_null_by_default_dropped_or_refused_as_asked(
        blanks: Callable[[str], Path]) -> None:
    got = [b["r"] for b in bodies(blanks(""))]
    assert got[1] == {"a": 3, "b": None, "c": "y"} and got[2]["c"] is None
    assert [b["r"]["a"] for b in bodies(blanks("drop"))] == [1, 7]
    with pytest.raises(DatasetError) as err:
        bodies(blanks("error"))
    assert str(err.value).startswith("dataset.missing: blanks.csv has missing values in "
                                     "'b' (1 of 4 rows), 'c' (1 of 4 rows)")


def test_validate_names_the_columns_with_missing_values(
        blanks: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    from loadkit.cli import _run

    assert _run(["validate", str(blanks(""))]) == 0
    assert ("note: dataset.path blanks.csv: missing values in 'b' (1 of 4 rows), 'c' (1 of 4 "
            "rows): sent as JSON null (dataset.missing: null; error | drop | null)"
            ) in capsys.readouterr().out
    assert _run(["validate", str(blanks("error"))]) == 2
    assert "dataset.missing:" in capsys.readouterr().err
