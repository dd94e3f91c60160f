"""``request.api: kserve-v2``: bodies of the Open Inference Protocol (KServe V2) JSON API.

Where it sits: ``model.py`` gives a ``kserve-v2`` request its path
(``/v2/models/{request.model}/infer``) and its default check (the answer has
``outputs``); ``payloads.build_payloads`` hands the scenario here. Triton,
KServe, Seldon's MLServer and TorchServe answer this API.

Each body is one input tensor built from a batch of the dataset's rows:
``{"inputs": [{"name": "input-0", "shape": [batch, columns], "datatype": ..., "data":
[...]}]}``, the data flattened row-major (the form every server accepts), the
columns those of ``dataset.columns`` (in that order) or all of them. The datatype
is the columns': INT64 when every value is a whole number, FP64 when they are
numbers, BOOL for booleans, else BYTES (strings). A missing value cannot sit in
a tensor: such a dataset is refused (``dataset.missing: drop`` leaves those rows
out). Fields of ``request.body`` (e.g. ``parameters``, or ``inputs[0].name`` by
giving an ``inputs`` list of one object) are merged into each body. For any
other tensor layout, write the body as a template with ``{{ batch_size }}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loadkit.errors import DatasetError, ScenarioError
from loadkit.scenario.plan import PayloadSet

if TYPE_CHECKING:
    from loadkit.scenario.model import Scenario

from loadkit.scenario.llm_schema import V2_APIS as V2_APIS
DEFAULT_INPUT = "input-0"


def v2_path(model: str | None) -> str:
    if not model:
        raise ScenarioError("request.model", "api kserve-v2 needs the model's name (the path "
                            "is /v2/models/{model}/infer)")
    return f"/v2/models/{model}/infer"


def datatype_of(values: list[Any]) -> str:
    """The V2 datatype that carries every value exactly."""
    if all(isinstance(v, bool) for v in values):
        return "BOOL"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "INT64"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "FP64"
    return "BYTES"


def build_v2_payloads(scenario: Scenario, rows: list[dict[str, Any]],
                      columns: list[str]) -> dict[int, PayloadSet]:
    """One PayloadSet per batch size, each body one [batch, columns] tensor."""
    from loadkit.scenario.payloads import _batches, encode   # payloads imports this module

    shown = scenario.dataset.shown if scenario.dataset else ""
    if not rows:
        raise DatasetError("dataset: api kserve-v2 builds its inputs from a dataset's rows; "
                           "add dataset.path")
    values = [row[c] for row in rows for c in columns]
    if any(v is None for v in values):
        gaps = sorted({c for row in rows for c in columns if row[c] is None})
        raise DatasetError(f"dataset.missing: {shown} has missing values in "
                           f"{', '.join(repr(c) for c in gaps)}, which a kserve-v2 tensor "
                           f"cannot carry; set dataset.missing: drop")
    dtype = datatype_of(values)
    extra = dict(scenario.request.body) if isinstance(scenario.request.body, dict) else {}
    given = extra.pop("inputs", None)
    tensor_extra = given[0] if isinstance(given, list) and given and isinstance(given[0], dict) \
        else {}
    out: dict[int, PayloadSet] = {}
    for size in scenario.batch_sizes():
        bodies = []
        for batch in _batches(rows, size):
            tensor = {"name": DEFAULT_INPUT, "shape": [len(batch), len(columns)],
                      "datatype": dtype, **tensor_extra,
                      "data": [row[c] for row in batch for c in columns]}
            bodies.append(encode({"inputs": [tensor], **extra}))
        out[size] = PayloadSet(batch_size=size, bodies=tuple(bodies),
                               content_type="application/json",
                               payload_bytes=tuple(len(b) for b in bodies))
    return out
