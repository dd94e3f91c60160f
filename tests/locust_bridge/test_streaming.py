"""Locust users stream too: TTFT, every gap and tokens land in the same histograms."""

from __future__ import annotations

import textwrap
from pathlib import Path

from loadkit.locust_bridge.launch import run_locust

from .conftest import ROOT, read_json


def test_headless_locust_records_ttft_itl_and_tokens_of_a_streaming_endpoint(
        tmp_path: Path) -> None:
    scenario = tmp_path / "llm.yaml"
    scenario.write_text(textwrap.dedent(f"""\
        name: llm-locust
        target: mock
        mock: {{llm_schedule: "ttft=30ms;gap=5ms;tokens=6"}}
        request: {{api: openai-chat, model: m, timeout: 5s}}
        dataset: {{path: {ROOT / "scenarios" / "data" / "prompts.jsonl"}, sample: 20}}
        slo: {{ttft: 1s}}
        profiles:
          - {{name: quick, kind: throughput, concurrency: 4, duration: 1s}}
        sla: [ttft_p99 < 2s, error_rate < 1%]
        """), encoding="utf-8")
    out = tmp_path / "out"
    code = run_locust(scenario, profile="quick", out_dir=out, mode="headless",
                      extra_args=["--loglevel", "WARNING"])
    assert code == 0
    stage = read_json(out / "result.json")["profiles"][0]["stages"][0]
    assert stage["ok"] > 0 and stage["errors"] == 0
    assert stage["output_tokens"] == 6 * stage["ok"] and stage["tokens_from"] == "usage"
    assert stage["ttft_ms"]["min"] >= 30 and stage["ttft_ms"]["p50"] < stage["latency_ms"]["p50"]
    assert stage["latency_ms"]["min"] >= 30 + 5 * 5       # to the last byte, not the head
    assert stage["slo_attainment"] == 1.0
