"""Read the scenario's dataset with pandas and draw the rows the run will send.

Where it sits: ``payloads.py`` calls ``load_rows`` once, before the run. Values
come out as plain JSON-able Python (numpy scalars unboxed, NaN/NaT -> None,
timestamps -> ISO 8601), so encoding a body never meets a numpy type.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import difflib
import math
from typing import Any

import numpy as np
import pandas as pd

from loadkit.errors import DatasetError
from loadkit.scenario.model import DatasetSpec


def read_frame(spec: DatasetSpec) -> pd.DataFrame:
    """The dataset's rows as the run sends them: ``dataset.columns`` kept, ``dataset.missing``
    applied."""
    return apply_missing(select(read_frame_raw(spec), spec), spec)


def read_frame_raw(spec: DatasetSpec) -> pd.DataFrame:
    """The whole file as a DataFrame; any failure is one DatasetError naming dataset.path."""
    where = f"dataset.path: {spec.shown}"
    if not spec.path.is_file():
        raise DatasetError(f"{where}: file not found (looked at {spec.path})")
    try:
        if spec.format == "csv":
            frame = pd.read_csv(spec.path)
        elif spec.format == "jsonl":
            frame = pd.read_json(spec.path, lines=True)
        elif spec.format == "json":
            frame = pd.read_json(spec.path, orient="records")
        else:
            frame = pd.read_parquet(spec.path)
    except pd.errors.EmptyDataError:
        raise DatasetError(f"{where}: the file is empty") from None
    except Exception as exc:  # noqa: BLE001 - pandas/pyarrow raise many types; all mean "cannot read"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise DatasetError(f"{where}: cannot read as {spec.format}: {first}") from None
    if frame.empty or len(frame.columns) == 0:
        raise DatasetError(f"{where}: the dataset has no rows")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def missing_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Rows with a missing value (blank, NaN, null), per column that has any."""
    counts = frame.isna().sum()
    return {str(c): int(n) for c, n in counts.items() if n}


def apply_missing(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """``dataset.missing``: ``null`` sends a missing value as JSON null (the default),
    ``drop`` leaves out every row that has one, ``error`` refuses the dataset.

    A blank CSV cell reaching a model as ``null`` is usually a 400 from the server, a
    run full of errors that says nothing about its speed; ``loadkit validate`` names
    the columns either way."""
    if spec.missing == "null":
        return frame
    found = missing_counts(frame)
    if not found:
        return frame
    if spec.missing == "error":
        shown = ", ".join(f"{c!r} ({n} of {len(frame)} rows)" for c, n in found.items())
        raise DatasetError(f"dataset.missing: {spec.shown} has missing values in {shown}; set "
                           f"dataset.missing: drop (leave those rows out) or null (send null)")
    kept = frame.dropna()
    if kept.empty:
        raise DatasetError(f"dataset.missing: every row of {spec.shown} has a missing value "
                           f"(in {', '.join(repr(c) for c in found)}); nothing is left to send")
    return kept


def missing_report(spec: DatasetSpec) -> str | None:
    """One line for ``loadkit validate`` about missing values (None: there are none)."""
    frame = select(read_frame_raw(spec), spec)
    found = missing_counts(frame)
    if not found:
        return None
    shown = ", ".join(f"{c!r} ({n} of {len(frame)} rows)" for c, n in found.items())
    fate = {"null": "sent as JSON null", "drop": "those rows left out",
            "error": "refused"}[spec.missing]
    return (f"dataset.path {spec.shown}: missing values in {shown}: {fate} "
            f"(dataset.missing: {spec.missing}; error | drop | null)")


def select(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """Keep ``dataset.columns`` (in that order) when the scenario names them."""
    if not spec.columns:
        return frame
    have = [str(c) for c in frame.columns]
    for i, column in enumerate(spec.columns):
        if column not in have:
            close = difflib.get_close_matches(column, have, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise DatasetError(f"dataset.columns[{i}]: column {column!r} is not in dataset.path "
                               f"{spec.shown}{hint} (columns: {', '.join(have)})")
    return frame.loc[:, list(spec.columns)]


def draw(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """The rows to send, in sending order.

    ``order: random`` shuffles with ``seed`` and keeps the first ``sample`` rows (all
    rows when ``sample`` is unset or larger than the file); ``sequential`` keeps the
    first ``sample`` rows in file order. The same file and seed give the same rows.
    """
    n = len(frame) if spec.sample is None else min(spec.sample, len(frame))
    if spec.order == "sequential":
        return frame.iloc[:n]
    rng = np.random.default_rng(spec.seed)
    idx = rng.permutation(len(frame))[:n]
    return frame.iloc[idx]


def jsonable(value: Any) -> Any:
    """A dataset value as plain JSON-able Python."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, np.generic):
        if isinstance(value, np.datetime64):
            return jsonable(pd.Timestamp(value))
        if isinstance(value, np.timedelta64):
            return jsonable(pd.Timedelta(value))
        return jsonable(value.item())
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (pd.Timedelta, dt.timedelta)):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return jsonable(float(value))
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of JSON-able values, column by column (one conversion per cell)."""
    columns = [str(c) for c in frame.columns]
    converted = [[jsonable(v) for v in frame.iloc[:, i].tolist()] for i in range(frame.shape[1])]
    return [dict(zip(columns, values, strict=True)) for values in zip(*converted, strict=True)]
