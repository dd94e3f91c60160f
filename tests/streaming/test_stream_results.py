"""Streaming figures in the result: recorded flat, round-tripped, merged exactly, judged."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadkit.errors import SlaSyntaxError
from loadkit.results.aggregate import merge_results
from loadkit.results.codec import dumps, loads, to_data
from loadkit.results.recorder import Recorder, StageMeta
from loadkit.results.model import RunResult, StageResult
from loadkit.sla import parse_rule
from loadkit.sla.evaluate import evaluate
from loadkit.testing import profile, run_result, stage


def stage_from(latencies_us: list[int]) -> StageResult:
    return stage(latencies_us=latencies_us)


def result_of(stages: list[StageResult]) -> RunResult:
    return run_result(profile("throughput", stages=stages))


def recorded(ttfts_us: list[int], gaps_ns: list[list[int]], tokens: int = 5,
             good: list[bool] | None = None, duration_s: float = 2.0) -> StageResult:
    """A stage recorded through the Recorder as the engine records streamed requests."""
    rec = Recorder(wall_clock=lambda: 1_700_000_000.0)
    sink = rec.begin_stage(StageMeta(index=0, label="c=4", concurrency=4))
    stream = sink.begin_streams(slo=good is not None)
    for i, (ttft, gaps) in enumerate(zip(ttfts_us, gaps_ns, strict=True)):
        latency = ttft + sum(gaps) // 1000
        sink.ok(latency, 200)
        stream.add(ttft, gaps, (latency - ttft) // (tokens - 1), tokens, 3, "usage",
                   bool(good and good[i]))
    sink.error("stream_incomplete", 99_000, 200)
    stream.detail("stream_incomplete: the stream ended without data: [DONE]")
    return rec.finish(sink, duration_s)


def test_recorder_keeps_ttft_itl_tpot_histograms_tokens_and_goodput() -> None:
    s = recorded([80_000, 200_000], [[8_000_000] * 4, [20_000_000] * 4], good=[True, False])
    assert s.requests == 3 and s.ok == 2
    assert s.stream_hist("ttft").count == 2 and s.stream_hist("itl").count == 8
    assert s.ttft_ms is not None and s.ttft_ms.p50 == pytest.approx(80, rel=1e-3)
    assert s.itl_ms is not None and s.itl_ms.max == pytest.approx(20, rel=1e-3)
    assert (s.output_tokens, s.input_tokens, s.output_tokens_per_s) == (10, 6, 5.0)
    assert (s.good_requests, s.slo_attainment, s.goodput_rps) == (1, pytest.approx(1 / 3, abs=1e-6),
                                                                  0.5)
    assert s.error_details == {"stream_incomplete: the stream ended without data: [DONE]": 1}


def test_classic_stage_json_has_no_streaming_keys() -> None:
    data = to_data(stage_from([1000, 2000]))
    assert not {"ttft_ms", "output_tokens", "slo_attainment", "ttft_histogram"} & set(data)


def test_streaming_result_round_trips_through_result_json() -> None:
    result = result_of([recorded([80_000], [[8_000_000] * 4], good=[True])])
    text = dumps(result)
    assert '"ttft_ms"' in text and '"itl_histogram"' in text
    assert loads(text) == result and dumps(loads(text)) == text


def test_merge_adds_stream_histograms_and_counts_exactly() -> None:
    a = result_of([recorded([80_000, 90_000], [[8_000_000] * 4] * 2, good=[True, True])])
    b = result_of([recorded([600_000], [[60_000_000] * 4], good=[False])])
    merged = merge_results([a, b]).profiles[0].stages[0]
    assert merged.stream_hist("ttft").count == 3 and merged.stream_hist("itl").count == 12
    assert merged.ttft_ms is not None and merged.ttft_ms.max == pytest.approx(600, rel=1e-3)
    assert (merged.output_tokens, merged.good_requests) == (15, 2)
    assert merged.slo_attainment == pytest.approx(2 / 5, abs=1e-6)   # errors are never good
    summary = merge_results([a, b]).profiles[0].summary
    assert summary.itl_ms == merged.itl_ms and summary.output_tokens == 15


@pytest.mark.parametrize(("expr", "canonical", "unit"), [
    ("ttft_p99 < 500ms", "ttft_p99 < 500ms", "ms"),
    ("itl_p95<0.04s", "itl_p95 < 40ms", "ms"),
    ("tpot_avg < 30ms", "tpot_mean < 30ms", "ms"),
    ("output_tokens_per_s >= 2000 tok/s", "output_tokens_per_s >= 2000", "tokens/s"),
    ("goodput >= 10rps", "goodput >= 10rps", "rps"),
    ("slo_attainment >= 99%", "slo_attainment >= 99%", "fraction"),
])
def test_streaming_sla_rules_parse_to_one_spelling(expr: str, canonical: str, unit: str) -> None:
    rule = parse_rule(expr)
    assert (rule.expr, rule.unit) == (canonical, unit)
    assert parse_rule(rule.expr) == rule


def test_unknown_streaming_metric_is_refused() -> None:
    with pytest.raises(SlaSyntaxError, match="unknown metric 'ttft_p98'.*ttft_P"):
        parse_rule("ttft_p98 < 1s")


def test_streaming_rules_judge_the_streamed_figures_and_fail_without_them() -> None:
    streamed = result_of([recorded([80_000, 90_000], [[8_000_000] * 4] * 2, good=[True, True])])
    classic = result_of([stage_from([1000] * 10)])
    rules = [parse_rule(r) for r in ("ttft_p99 < 100ms", "itl_p50 < 5ms", "goodput >= 1rps",
                                     "slo_attainment >= 60%", "output_tokens_per_s >= 5")]
    got = {v.expr: v.passed for v in evaluate({"throughput": rules}, streamed, min_requests=1)}
    assert got == {"ttft_p99 < 100ms": True, "itl_p50 < 5ms": False, "goodput >= 1rps": True,
                   "slo_attainment >= 60%": True, "output_tokens_per_s >= 5": True}
    missing = evaluate({"throughput": rules[:1]}, classic, min_requests=1)
    assert missing[0].observed is None and not missing[0].passed


def test_slo_attainment_is_absent_without_an_slo() -> None:
    s = recorded([80_000], [[8_000_000] * 4])
    assert (s.slo_attainment, s.goodput_rps, s.good_requests) == (None, None, None)
    assert replace(s, ttft_histogram="").stream_hist("ttft").count == 0
