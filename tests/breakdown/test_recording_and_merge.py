"""Recording by input, the result.json round trip and exact merging (no network)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadkit.results.aggregate import merge_results, merge_stages
from loadkit.results.codec import dumps, loads
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import ProfileResult, RunResult, ScenarioInfo
from loadkit.results.recorder import Recorder, StageMeta
from loadkit.results.aggregate import summarize

LABELS = ("payload_bytes 10–20 B", "payload_bytes 30–40 B")
RANGES = ((10.0, 20.0), (30.0, 40.0))
BUCKET_OF = [0, 0, 1, 1, -1]        # payloads 0-1 small, 2-3 large, 4 in no bucket


def _recorder(ranges=RANGES) -> Recorder:
    rec = Recorder(wall_clock=iter(float(t) for t in range(1000)).__next__)
    rec.begin_stage(StageMeta(index=0, label="c=1", concurrency=1))
    rec.begin_breakdown("payload_bytes", LABELS, ranges, BUCKET_OF, "B")
    return rec


def _record(rec: Recorder, small_us: int, large_us: int, n: int) -> None:
    for i in range(n):
        rec.ok_by_input(small_us, 200, i % 2)
        rec.ok_by_input(large_us, 200, 2 + i % 2)
        if i % 10 == 0:
            rec.tick()
    rec.error_by_input("http_5xx", large_us * 2, 503, 3)
    rec.ok_by_input(7, 200, 4)


def test_each_bucket_gets_exactly_its_payloads_latencies_and_errors() -> None:
    rec = _recorder()
    _record(rec, 1_000, 9_000, 50)
    stage = rec.end_stage(1.0)
    small, large = stage.breakdown
    assert (small.requests, small.errors) == (50, 0)
    assert (large.requests, large.errors) == (51, 1)
    assert small.hist().max_us < 1_010 and large.hist().min_us > 8_990
    assert large.hist().max_us >= 17_990
    assert (small.label, small.lo, small.hi, small.unit) == (LABELS[0], 10.0, 20.0, "B")
    # every request is in the stage's whole histogram, the bucketless payload included;
    # its successes' histogram holds all but the one error
    assert stage.requests == 102 == stage.hist_all().count == stage.hist().count + 1


def test_a_plain_stage_has_no_breakdown_and_the_next_stage_starts_plain() -> None:
    rec = _recorder()
    _record(rec, 1_000, 2_000, 5)
    assert rec.end_stage(1.0).breakdown
    rec.begin_stage(StageMeta(index=1, label="c=2", concurrency=2))
    rec.ok(1_000, 200)
    assert rec.end_stage(1.0).breakdown == ()


def test_a_plain_record_in_a_by_input_stage_is_refused_not_misattributed() -> None:
    rec = _recorder()
    rec.ok_by_input(1_000, 200, 0)
    rec.ok(1_000, 200)
    with pytest.raises(RuntimeError, match="without its input"):
        rec.tick()


def _result(stage) -> RunResult:
    profile = ProfileResult(name="p", kind="throughput", stages=(stage,),
                            summary=summarize([stage]))
    return RunResult(scenario=ScenarioInfo(name="s", target="http://x"), started_at=1.0,
                     finished_at=2.0, profiles=(profile,))


def test_breakdown_round_trips_through_result_json_exactly() -> None:
    rec = _recorder()
    _record(rec, 1_000, 9_000, 20)
    result = _result(rec.end_stage(1.0))
    text = dumps(result)
    assert '"breakdown": [' in text and '"label": "payload_bytes 10–20 B"' in text
    back = loads(text)
    assert back == result
    assert dumps(back) == text


def test_merging_stages_adds_bucket_histograms_exactly() -> None:
    a, b = _recorder(), _recorder()
    _record(a, 1_000, 9_000, 30)
    _record(b, 3_000, 5_000, 40)
    sa, sb = a.end_stage(1.0), b.end_stage(1.0)
    merged = merge_stages([sa, sb])
    for k in range(2):
        expect = LatencyHistogram()
        expect.add(sa.breakdown[k].hist())
        expect.add(sb.breakdown[k].hist())
        got = merged.breakdown[k]
        assert got.hist() == expect
        assert got.requests == sa.breakdown[k].requests + sb.breakdown[k].requests
        assert got.errors == (2 if k else 0) and got.latency_ms.p99 == expect.percentile_us(99) / 1000
    assert sum(b.requests for b in merged.breakdown) == merged.requests - 2  # payload 4 x 2


def test_results_with_different_bucket_edges_merge_without_buckets_and_say_so() -> None:
    a, b = _recorder(), _recorder(ranges=((10.0, 20.0), (25.0, 40.0)))
    _record(a, 1_000, 9_000, 5)
    _record(b, 1_000, 9_000, 5)
    merged = merge_results([_result(a.end_stage(1.0)), _result(b.end_stage(1.0))])
    stage = merged.profiles[0].stages[0]
    assert stage.breakdown == ()
    assert stage.requests == 24
    assert any("p: stage 0: latency-by-input buckets differ" in w for w in merged.notes)


def test_results_with_the_same_edges_merge_without_a_warning() -> None:
    a, b = _recorder(), _recorder()
    _record(a, 1_000, 9_000, 5)
    _record(b, 1_000, 9_000, 5)
    merged = merge_results([_result(a.end_stage(1.0)), _result(b.end_stage(1.0))])
    assert len(merged.profiles[0].stages[0].breakdown) == 2
    assert merged.warnings == ()


def test_a_result_without_the_new_field_still_loads() -> None:
    rec = Recorder()
    rec.begin_stage(StageMeta(index=0, label="c=1"))
    rec.ok(1_000, 200)
    result = _result(rec.end_stage(1.0))
    old_text = dumps(result).replace(',\n          "breakdown": []', "")
    assert '"breakdown"' not in old_text
    assert loads(old_text) == result
    assert replace(result).profiles[0].stages[0].breakdown == ()
