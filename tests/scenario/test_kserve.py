"""request.api: kserve-v2 -- Open Inference Protocol bodies from the dataset, checks on outputs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from loadkit.engine import run_stages
from loadkit.errors import DatasetError, ScenarioError
from loadkit.scenario import build_payloads, load_scenario
from loadkit.scenario.plan import Checks, Stage
from tests.engine.conftest import assert_accounted
from tests.reliability.conftest import serve_app

HEAD = "name: t\ntarget: http://127.0.0.1:8080\nprofiles:\n  - {name: lat, kind: latency, requests: 5}\n"
FEATURES = "[sepal_length, sepal_width, petal_length, petal_width]"


def v2(write: Callable[..., Path], extra: str = "", columns: str = FEATURES,
       batch: int = 3) -> Path:
    return write(HEAD + f"dataset: {{path: data.csv, order: sequential, columns: {columns}}}\n"
                 f"request: {{api: kserve-v2, model: iris, batch_size: {batch}{extra}}}\n")


def test_the_body_is_one_tensor_of_the_batch_with_its_shape_and_the_path_names_the_model(
        write: Callable[..., Path]) -> None:
    sc = load_scenario(v2(write))
    assert sc.request.path == "/v2/models/iris/infer"
    assert sc.checks.json_has == ("outputs",)
    first = json.loads(build_payloads(sc)[3].bodies[0])
    assert first == {"inputs": [{"name": "input-0", "shape": [3, 4], "datatype": "FP64",
                                 "data": [5.1, 3.5, 1.4, 0.2, 4.9, 3.0, 1.4, 0.2,
                                          7.0, 3.2, 4.7, 1.4]}]}


@pytest.mark.parametrize(("columns", "datatype"), [
    ("[species]", "BYTES"), ("[sepal_length]", "FP64")])
def test_the_datatype_is_the_columns(write: Callable[..., Path], columns: str,
                                     datatype: str) -> None:
    body = json.loads(build_payloads(load_scenario(v2(write, columns=columns, batch=1)))[1]
                      .bodies[0])
    assert body["inputs"][0]["datatype"] == datatype
    assert body["inputs"][0]["shape"] == [1, 1]


def test_request_body_fields_are_merged_into_each_body(write: Callable[..., Path]) -> None:
    path = v2(write, ", body: {parameters: {content_type: np}, inputs: [{name: predict}]}")
    body = json.loads(build_payloads(load_scenario(path))[3].bodies[0])
    assert body["parameters"] == {"content_type": "np"}
    assert body["inputs"][0]["name"] == "predict" and body["inputs"][0]["shape"] == [3, 4]


def test_a_kserve_v2_scenario_without_a_model_name_is_refused(write: Callable[..., Path]) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(HEAD + "dataset: {path: data.csv}\nrequest: {api: kserve-v2}\n"))
    assert "request.model" in str(err.value)


def test_a_missing_value_cannot_go_into_a_tensor(write: Callable[..., Path],
                                                 data_dir: Path) -> None:
    (data_dir / "gaps.csv").write_text("a,b\n1,2\n3,\n")
    path = write(HEAD + "dataset: {path: gaps.csv}\nrequest: {api: kserve-v2, model: m}\n")
    with pytest.raises(DatasetError) as err:
        build_payloads(load_scenario(path))
    assert "dataset.missing: drop" in str(err.value)


def test_json_has_finds_a_v2_output_by_its_name() -> None:
    answer = b'{"model_name": "iris", "outputs": [{"name": "predict", "shape": [1], ' \
             b'"datatype": "INT64", "data": [0]}]}'
    assert Checks(json_has=("outputs.predict.data",)).failure(200, answer) is None
    assert Checks(json_has=("outputs.proba",)).failure(200, answer) == "check_failed"


def _v2_server(seen: list[dict[str, Any]]) -> web.Application:
    async def infer(request: web.Request) -> web.Response:
        doc = await request.json()
        seen.append(doc)
        (tensor,) = doc["inputs"]
        rows, cols = tensor["shape"]
        if rows * cols != len(tensor["data"]):
            return web.json_response({"error": "shape does not match data"}, status=400)
        return web.json_response({"model_name": request.match_info["model"], "outputs": [
            {"name": "predict", "shape": [rows], "datatype": "INT64", "data": [0] * rows}]})

    app = web.Application()
    app.router.add_post("/v2/models/{model}/infer", infer)
    return app


@pytest.mark.parametrize("transport", ["fast", "aiohttp"])
def test_both_transports_drive_a_v2_server_with_every_answer_checked(
        transport: str, write: Callable[..., Path]) -> None:
    seen: list[dict[str, Any]] = []
    with serve_app(_v2_server(seen)) as url:
        sc = load_scenario(v2(write, ", body: {inputs: [{name: x}]}"))
        request = sc.request_spec(url)
        request = type(request)(**{**request.__dict__, "checks": Checks(
            status=(200,), json_has=("outputs.predict",))})
        run = run_stages([Stage(0, "s", concurrency=2, requests=6, batch_size=3)], request,
                         build_payloads(sc), transport=transport, handle_signals=False)
    assert_accounted(run)
    assert run.stages[0].ok == 6
    assert {d["inputs"][0]["shape"][0] for d in seen} == {3}
