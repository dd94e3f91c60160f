"""Typed analysis records: each kind's record round-trips through result.json, is read
back as its own kind, and a result.json written before the records existed still loads
and re-judges to the same analysis (its keys are the contract)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from loadkit.judge import judge
from loadkit.reporters import junit, markdown, text
from loadkit.results.analysis import (
    BatchRow,
    BreakdownAnalysis,
    BreakdownGroup,
    BucketRow,
    Ceiling,
    ColdStart,
    ConstantRateAnalysis,
    FirstSecond,
    GaugeAt,
    LatencyAnalysis,
    RampAnalysis,
    RampPoint,
    RampStep,
    Recovery,
    ServerAnalysis,
    ServerMove,
    ServerTurn,
    SoakAnalysis,
    SoakWindow,
    SpikeAnalysis,
    StressAnalysis,
    StressPoint,
    StressStep,
    SummaryAnalysis,
    ThroughputAnalysis,
)
from loadkit.results.codec import dumps, loads
from loadkit.results.search import ProbeRecord, RuleCheck, SearchAnalysis
from loadkit.testing import profile, run_result
from tests.results.records import round_trip

STORED = Path(__file__).parent / "data" / "v2_every_kind.json"

SERVER = ServerAnalysis(
    moved=(ServerMove(series="q", kind="gauge", stat="mean", first=0.0, last=2.5, change=None),),
    at=ServerTurn(step=3, gauges={"q": GaugeAt(mean=2.3, max=4.0)},
                  before={"q": GaugeAt(mean=0.2, max=1.0)}, before_step=2),
    first_ceiling=Ceiling(series="busy", step=2, ceiling=4.0), chart=("q", "busy"),
    headline="server at the saturation point (step 3): q 0.2 -> 2.3 (max 4)")
BREAKDOWN = BreakdownAnalysis(key="payload_bytes", unit="B", groups=(BreakdownGroup(
    scope="batch 8", stages=(1, 2), buckets=(
        BucketRow(label="payload_bytes 33–96 B", lo=33.0, hi=96.0, requests=100, errors=1,
                  p50_ms=90.0, p99_ms=95.5),),
    line="batch 8: every request fell in one input bucket"),), line="batch 8: ...")
RAMP_STEP = RampStep(index=1, concurrency=2, requests=200, throughput_rps=199.5, rows_per_s=199.5,
                     p50_ms=10.0, p95_ms=11.0, p99_ms=12.5, error_rate=0.0, efficiency=0.998,
                     meets_sla=False, broken_rules=("p99 < 12ms",), stable=None)
STRESS_STEP = StressStep(index=3, rate=800.0, throughput_rps=610.0, goodput_rps=586.0,
                         achieved=0.7625, p50_ms=10.0, p99_ms=2100.0, max_ms=2300.0,
                         error_rate=0.04, rejected=20, timed_out=20, other_errors=0, late=3,
                         error_kinds={"http_5xx": 20, "timeout": 20},
                         broke=("p99 2.1s >= stop_when 2s",))
RECOVERY = Recovery("recovered", 3.0, 200.0, "p99 < 200 ms from 3 s after the overload")
CHECK = RuleCheck(expr="p99 < 50ms", metric="p99", threshold=50.0, observed=61.0, low=55.0,
                  high=70.0, state="broke")

RECORDS: dict[str, Any] = {
    "latency": LatencyAnalysis(
        requests=200, p50_ms=4.1, p95_ms=5.0, p99_ms=6.3, max_ms=9.0,
        first_second=FirstSecond(requests=3, p50_ms=120.0, max_ms=300.0),
        first_second_vs_steady_p50=29.268, cold_start=ColdStart(0.4, 2.3, 340.0),
        headline="p50 4.1ms", breakdown=BREAKDOWN),
    "throughput": ThroughputAnalysis(
        max_sustained_rps=780.0, max_rows_per_s=4800.0,
        batch_sizes=(BatchRow(step=0, batch_size=1, concurrency=8, throughput_rps=780.0,
                              rows_per_s=780.0, p50_ms=10.0, p99_ms=20.0, p50_ms_per_row=10.0,
                              error_rate=0.0),),
        best_batch_size=32, stable=True, headline="best at batch 32", server=SERVER),
    "constant-rate": ConstantRateAnalysis(offered_rps=200.0, achieved_rps=199.5,
                                          achieved=0.9975, late=3, error_rate=0.0,
                                          headline="199.5 rps of 200 offered"),
    "ramp": RampAnalysis(
        steps=(RAMP_STEP,), knee=RampPoint.of(RAMP_STEP), no_knee=False,
        max_throughput_rps=199.5, max_throughput_concurrency=2, max_concurrency_under_sla=1,
        max_concurrency_under_sla_rps=100.0, first_breaking_step=RampPoint.of(RAMP_STEP),
        headline="saturates at concurrency 2", server=SERVER, breakdown=BREAKDOWN),
    "stress": StressAnalysis(
        steps=(STRESS_STEP,), breaking_point=StressPoint.of(STRESS_STEP),
        max_rate_under_sla=400.0, max_sustained_rps=395.0, max_sustained=None,
        peak_goodput_rps=586.0, peak_goodput_rate=800.0, recovery=RECOVERY, recovery_s=3.0,
        headline="max sustained 395 rps under SLA"),
    "spike": SpikeAnalysis(spike_stage=1, spike_load=1000.0, baseline_p99_ms=20.0,
                           peak_p99_ms=900.0, peak_max_ms=950.0, peak_1s_p99_ms=910.0,
                           spike_requests=1000, spike_errors=30, spike_error_rate=0.03,
                           spike_error_kinds={"http_5xx": 30}, recovery=RECOVERY,
                           recovery_s=3.0, headline="spike to 1000 rps"),
    "spike-by-concurrency": SpikeAnalysis(spike_stage=1, spike_load=64, headline="spike to c=64"),
    "soak": SoakAnalysis(
        window_s=10, first=SoakWindow(seconds=10, requests=1000, errors=0, error_rate=0.0,
                                      p99_ms=10.0, rps=100.0),
        last=SoakWindow(seconds=10, requests=1000, errors=20, error_rate=0.02, p99_ms=15.0,
                        rps=100.0),
        windows=(SoakWindow(start_s=0.0, seconds=10, requests=1000, errors=0, error_rate=0.0,
                            p99_ms=10.0, rps=100.0),),
        p99_drift_ms=5.0, p99_drift=0.5, error_rate=0.002, error_trend="rising",
        error_rate_slope_per_min=0.0012, headline="p99 10ms -> 15ms",
        steady=ConstantRateAnalysis(kind="soak", offered_rps=100.0, achieved_rps=99.8,
                                    achieved=0.998, late=0, error_rate=0.002, headline="99.8 rps")),
    "search": SearchAnalysis(
        model="open", unit="rps", answer=800.0, bracket=(800.0, 835.4), stop="precision",
        probes=(ProbeRecord(stage=1, load=800.0, run=1, outcome="held", requests=800,
                            throughput_rps=800.0, p50_ms=5.0, p99_ms=40.0, error_rate=0.0,
                            checks=(CHECK,)),),
        binding_rule="p99 < 50ms", binding_metric="p99", threshold=50.0, throughput_rps=800.0,
        p50_ms=5.0, p99_ms=40.0, binding_observed=40.0, duration_s=12.0,
        headline="sustains 800 rps", max_rate_under_sla=800.0),
    "custom": SummaryAnalysis(kind="custom", headline="100 rps"),
    "empty ramp": RampAnalysis(headline="no measured steps"),
}


@pytest.mark.parametrize("name", list(RECORDS))
def test_every_kind_round_trips_through_result_json_as_its_own_record(name: str) -> None:
    record = RECORDS[name]
    back = round_trip(record)
    assert type(back) is type(record)
    assert back == record


def test_an_unjudged_profile_keeps_its_empty_analysis_object() -> None:
    text = dumps(run_result(profile("p", "throughput")))
    assert json.loads(text)["profiles"][0]["analysis"] == {}
    assert loads(text).profiles[0].analysis is None


def test_an_unknown_kind_is_read_as_a_summary_record() -> None:
    data = json.loads(dumps(run_result(profile("p", "custom", analysis=RECORDS["custom"]))))
    data["profiles"][0]["analysis"] = {"kind": "tomorrows-kind", "headline": "h", "new_key": 1}
    back = loads(json.dumps(data)).profiles[0].analysis
    assert back == SummaryAnalysis(kind="tomorrows-kind", headline="h")


def test_the_contract_keys_of_a_search_answer_are_written() -> None:
    data = json.loads(dumps(run_result(profile("s", "search", analysis=RECORDS["search"]))))
    analysis = data["profiles"][0]["analysis"]
    assert analysis["max_rate_under_sla"] == 800.0 and analysis["bracket"] == [800.0, 835.4]


def _superset(old: Any, new: Any, path: str = "analysis") -> list[str]:
    """Where ``new`` lost a key of ``old`` or changed a value (added keys are allowed)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [p for k in old for p in ([f"{path}.{k} missing"] if k not in new
                                         else _superset(old[k], new[k], f"{path}.{k}"))]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [p for i, (a, b) in enumerate(zip(old, new, strict=True))
                for p in _superset(a, b, f"{path}[{i}]")]
    return [] if old == new and type(old) is type(new) else [f"{path}: {old!r} -> {new!r}"]


def test_a_result_written_before_typed_records_loads_and_rejudges_to_the_same_analysis() -> None:
    # Written by loadkit 6ea6837 (analysis as loose dicts): one profile of every kind
    # (latency with a cold start, a batch sweep, constant rate, a ramp with server
    # metrics, stress with recovery, spike, soak, latency by input, a custom kind).
    stored_text = STORED.read_text(encoding="utf-8")
    stored = loads(stored_text)
    kinds = {p.name: type(p.analysis) for p in stored.profiles}
    assert kinds == {"latency": LatencyAnalysis, "sweep": ThroughputAnalysis,
                     "steady": ConstantRateAnalysis, "ramp": RampAnalysis,
                     "stress": StressAnalysis, "spike": SpikeAnalysis, "soak": SoakAnalysis,
                     "by-size": ThroughputAnalysis, "custom": SummaryAnalysis}
    assert stored.profile("latency").cold_start == ColdStart(0.4, 2.3, 340.0)
    rejudged = judge(stored)
    assert rejudged.profiles == stored.profiles
    old = json.loads(stored_text)["profiles"]
    new = json.loads(dumps(rejudged))["profiles"]
    for before, after in zip(old, new, strict=True):
        assert _superset(before["analysis"], after["analysis"]) == [], before["name"]
    for render in (text.render, markdown.render, junit.render):
        assert render(rejudged) == render(stored)
