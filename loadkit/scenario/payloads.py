"""Pre-encoded request bodies: one PayloadSet per batch size, built once before the run.

Where it sits: the runner calls ``build_payloads(scenario)`` after loading and
before the engine starts, so the hot loop never encodes JSON. Rows are drawn
once (``dataset.py``), cut into batches of ``batch_size`` (the last batch wraps
round to the first rows, so every body carries exactly ``batch_size`` rows and
rows/s stays exact), rendered through the body template and encoded to bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from loadkit.errors import DatasetError
from loadkit.scenario.breakdown import input_breakdown
from loadkit.scenario.dataset import draw, read_frame, records
from loadkit.scenario.fields import did_you_mean
from loadkit.scenario.llm_payloads import build_llm_payloads
from loadkit.scenario.kserve import V2_APIS, build_v2_payloads
from loadkit.scenario.llm_schema import OPENAI_APIS
from loadkit.scenario.model import Scenario
from loadkit.scenario.plan import PayloadSet
from loadkit.scenario.template import Template, compile_template

def encode(value: Any) -> bytes:
    """Compact UTF-8 JSON; NaN and infinities are refused (they are not JSON).

    The standard library on purpose: payloads are encoded once, before the run, so speed
    does not matter here, and orjson would silently write NaN as ``null``.
    """
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _check_columns(template: Template, columns: Sequence[str], shown: str) -> None:
    for column, where in template.columns:
        if column not in columns:
            raise DatasetError(
                f"{where}: column {column!r} is not in dataset.path {shown}"
                f"{did_you_mean(column, columns)} (columns: {', '.join(columns)})")


def _check_breakdown(scenario: Scenario, columns: Sequence[str]) -> None:
    for i, p in enumerate(scenario.profiles):
        if p.breakdown and p.breakdown != "payload_bytes" and p.breakdown not in columns:
            raise DatasetError(
                f"profiles[{i}].breakdown: column {p.breakdown!r} is not in dataset.path "
                f"{scenario.dataset.shown if scenario.dataset else ''}"
                f"{did_you_mean(p.breakdown, columns)} (columns: {', '.join(columns)})")


def _batches(rows: Sequence[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    count = max(1, -(-len(rows) // size))
    return [[rows[(i * size + j) % len(rows)] for j in range(size)] for i in range(count)]


def load_rows(scenario: Scenario) -> tuple[list[dict[str, Any]], list[str]]:
    """The drawn rows (JSON-able dicts) and the dataset's column order; empty without a dataset."""
    if scenario.dataset is None:
        return [], []
    frame = draw(read_frame(scenario.dataset), scenario.dataset)
    return records(frame), [str(c) for c in frame.columns]


def build_payloads(scenario: Scenario) -> dict[int, PayloadSet]:
    """One PayloadSet per batch size any profile uses; raises DatasetError on a bad dataset."""
    if scenario.request.api in OPENAI_APIS:
        return build_llm_payloads(scenario, *load_rows(scenario))
    if scenario.request.api in V2_APIS:
        return build_v2_payloads(scenario, *load_rows(scenario))
    template = compile_template(scenario.request.body)
    rows, columns = load_rows(scenario) if template.uses_rows or scenario.dataset else ([], [])
    if template.uses_rows and scenario.dataset is not None:
        _check_columns(template, columns, scenario.dataset.shown)
    if scenario.dataset is not None:
        _check_breakdown(scenario, columns)
    content_type = "" if template.is_empty else "application/json"
    keys = _breakdown_keys(scenario)
    out: dict[int, PayloadSet] = {}
    for size in scenario.batch_sizes():
        batches: list[list[dict[str, Any]]] = []
        if template.is_empty:
            bodies: list[bytes] = [b""]
        elif not template.uses_rows:
            bodies = [encode(template.render([], columns))]
        else:
            batches = _batches(rows, size)
            bodies = [encode(template.render(batch, columns)) for batch in batches]
        if keys and not batches and rows:
            # A body without rows still has a row behind it for a column breakdown.
            batches = [_batches(rows, size)[0]] * len(bodies)
        out[size] = PayloadSet(batch_size=size, bodies=tuple(bodies), content_type=content_type,
                               payload_bytes=tuple(len(b) for b in bodies),
                               breakdowns=tuple(input_breakdown(key, batches, bodies, where)
                                                for key, where in keys.items()))
    return out


def _breakdown_keys(scenario: Scenario) -> dict[str, str]:
    """Each breakdown key some profile asks for, with the field that asked first."""
    keys: dict[str, str] = {}
    for i, p in enumerate(scenario.profiles):
        if p.breakdown and p.breakdown not in keys:
            keys[p.breakdown] = f"profiles[{i}].breakdown"
    return keys
