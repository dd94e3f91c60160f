"""Latency by input end to end: the bundled mock server, whose service time grows with
the rows a request carries (``per_row``), behind a real run; bounded to a few seconds.

Each dataset row is one request body holding either 1 or 32 iris rows, so the top
input bucket (32 rows: 1 ms + 16 ms of "inference") must come out measurably slower
than the bottom one (1 row: 1.5 ms), whatever the host's speed.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from loadkit.results.codec import dumps
from loadkit.results.model import StageResult
from loadkit.runner import RunOptions, run
from loadkit.scenario import scenario_from_text

IRIS = [5.1, 3.5, 1.4, 0.2]


def _dataset(tmp_path: Path) -> None:
    lines = []
    for i in range(40):
        n = 32 if i % 2 else 1
        lines.append(json.dumps({"id": i, "n_rows": n, "instances": [IRIS] * n}))
    (tmp_path / "batches.jsonl").write_text("\n".join(lines) + "\n")


def _scenario(tmp_path: Path, profiles: str, body: str = "'{{ row.instances }}'"):
    _dataset(tmp_path)
    return scenario_from_text(
        "name: by-input\ntarget: mock\nmock: {latency: 'fixed:1ms', per_row: 0.5ms}\n"
        f"request: {{path: /predict, timeout: 2s, body: {{instances: {body}}}}}\n"
        "dataset: {path: batches.jsonl, seed: 1}\n"
        "checks: {status: [200], json_has: [predictions]}\nprofiles:\n" + profiles,
        base_dir=tmp_path)


def _check_slow_top(stage: StageResult) -> None:
    bottom, top = stage.breakdown[0], stage.breakdown[-1]
    assert len(stage.breakdown) == 2                 # two distinct inputs: two buckets
    assert bottom.requests > 0 and top.requests > 0
    assert sum(b.requests for b in stage.breakdown) == stage.requests
    # 16 ms of per-row service time separates them; the top bucket's fastest request
    # is already slower than the bottom bucket's median.
    assert top.hist().min_us > 16_000 > bottom.latency_ms.p50 * 1000


def test_closed_and_open_profiles_find_the_big_inputs_slow(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, (
        "  - {name: closed, kind: throughput, concurrency: 4, duration: 1s,"
        " breakdown: payload_bytes}\n"
        "  - {name: open, kind: constant-rate, rate: 60rps, duration: 1s, breakdown: n_rows}\n"))
    result = run(scenario)
    closed, open_ = result.profiles
    _check_slow_top(closed.stages[0])
    _check_slow_top(open_.stages[0])
    assert closed.stages[0].breakdown[0].key == "payload_bytes"
    assert open_.stages[0].breakdown[-1].label == "n_rows 32"
    assert closed.analysis.breakdown.line.startswith(
        "slowest inputs: highest payload_bytes bucket (= ")
    assert open_.analysis.breakdown.line.startswith(
        "slowest inputs: highest n_rows bucket (= 32): p99 ")


def test_two_generator_processes_bucket_their_slices_and_merge_exactly(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "  - {kind: throughput, concurrency: 4, duration: 1s,"
                                   " breakdown: n_rows}\n")
    result = run(scenario, RunOptions(processes=2))
    assert result.environment.processes == 2
    stage = result.profiles[0].stages[0]
    _check_slow_top(stage)          # each process found its slice's buckets by body content
    assert stage.concurrency == 4   # merged from 2 x 2


PLAIN_STAGE_KEYS = {
    "index", "label", "concurrency", "rate", "warmup", "duration_s", "requests", "ok", "errors",
    "error_kinds", "late", "throughput_rps", "rows_per_s", "latency_ms", "histogram",
    "batch_size", "started_at", "status_codes", "overflow", "stable", "in_flight_at_end",
    "role", "latency_all_ms", "histogram_all", "overflow_all",
}


def test_a_run_without_breakdown_has_the_same_result_shape_plus_one_empty_field(
        tmp_path: Path) -> None:
    # other rooms add optional fields (omitted from JSON when empty); these are always there
    assert PLAIN_STAGE_KEYS | {"breakdown"} <= {f.name for f in fields(StageResult)}
    scenario = _scenario(tmp_path, "  - {kind: latency, requests: 20}\n")
    data = json.loads(dumps(run(scenario)))
    stage = data["profiles"][0]["stages"][0]
    assert PLAIN_STAGE_KEYS | {"breakdown"} <= set(stage)
    assert stage["breakdown"] == []
    assert "breakdown" not in data["profiles"][0]["analysis"]
