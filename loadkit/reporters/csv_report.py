"""timeseries.csv: every profile's per-second Intervals in one long table (pandas).

A streaming endpoint's run adds ``ttft_p50_ms, ttft_p99_ms, itl_p50_ms,
itl_p99_ms, output_tokens`` (empty in a second without a stream); a classic
run's file keeps exactly ``COLUMNS``.

One row per profile-second, so a spreadsheet or ``pandas.read_csv`` can pivot by
profile or stage without knowing loadkit. ``stage`` is the stage's load label
(``c=16``, ``200 rps``; ``warmup`` is appended for warm-up stages). A run with
``server_metrics`` adds one ``server:SERIES`` column per charted server series
(its latest scraped value at the second's end; empty before its first scrape).
"""

from __future__ import annotations

import pandas as pd

from loadkit.reporters import server_view
from loadkit.reporters._common import stage_load, stage_of
from loadkit.reporters._streams import SECOND_COLUMNS
from loadkit.results.model import RunResult

COLUMNS = ("profile", "t", "elapsed_s", "stage", "requests", "ok", "errors", "rps",
           "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms")


def frame(result: RunResult) -> pd.DataFrame:
    """The timeseries of every profile as a DataFrame with ``COLUMNS``."""
    rows = []
    extra = list(dict.fromkeys(k for p in result.profiles for k in server_view.csv_columns(p)))
    server_rows: list[dict[str, float]] = []
    for p in result.profiles:
        server_rows += server_view.as_of(p, extra) if extra else []
        labels: dict[int, str] = {}
        for s in p.stages:
            labels[s.index] = stage_load(s) + (" warmup" if s.warmup else "")
        for iv in p.timeseries:
            stage = labels.get(iv.stage)
            if stage is None:
                found = stage_of(p, iv.stage)
                stage = stage_load(found) if found else str(iv.stage)
            rows.append((p.name, iv.t, iv.elapsed_s, stage, iv.requests, iv.ok, iv.errors,
                         iv.rps, iv.p50_ms, iv.p90_ms, iv.p95_ms, iv.p99_ms, iv.max_ms))
    df = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    if any(iv.output_tokens is not None for p in result.profiles for iv in p.timeseries):
        for name in SECOND_COLUMNS:
            df[name] = pd.array([getattr(iv, name) for p in result.profiles
                                 for iv in p.timeseries],
                                dtype="Int64" if name == "output_tokens" else "Float64")
    for key in extra:
        df["server:" + key] = pd.array([r.get(key) for r in server_rows], dtype="Float64")
    return df.astype({"profile": "string", "t": "float64", "elapsed_s": "float64",
                      "stage": "string", "requests": "int64", "ok": "int64",
                      "errors": "int64", "rps": "float64", "p50_ms": "float64",
                      "p90_ms": "float64", "p95_ms": "float64", "p99_ms": "float64",
                      "max_ms": "float64"})


def render(result: RunResult) -> str:
    """CSV text with a header; floats at 3 decimals so the file is stable across runs."""
    text = frame(result).to_csv(index=False, lineterminator="\n", float_format="%.3f")
    return str(text)
