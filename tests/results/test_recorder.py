"""The recorder's mid-stage snapshot (what stop conditions judge) and its final stage agree."""

from __future__ import annotations

from loadkit.results.recorder import Recorder, StageMeta


def test_a_snapshot_counts_flushed_and_buffered_requests_and_flushes_nothing():
    rec = Recorder(wall_clock=lambda: 1000.0)
    sink = rec.begin_stage(StageMeta(index=0, label="s", concurrency=2), started_at=1000.0)
    for _ in range(5):
        sink.ok(1_000, 200)
    rec.tick()                                     # these five are in the histogram now
    for _ in range(3):
        sink.ok(3_000, 200)
    sink.error("http_5xx", 9_000, 503)
    sink.error("timeout", 20_000)
    snap = rec.snapshot(sink, 2.0, in_flight=4)
    assert (snap.requests, snap.ok, snap.errors) == (10, 8, 2)
    assert snap.error_kinds == {"http_5xx": 1, "timeout": 1}
    assert snap.in_flight_at_end == 4
    assert snap.throughput_rps > 0
    # nothing flushed: the snapshot read copies (5 flushed, 3 ok + 2 errors still buffered)
    assert (sink.ok_n, sink.errors_n, sink.iv_ok, sink.iv_err) == (5, 0, 3, 2)
    final = rec.finish(sink, 2.0)
    assert (final.requests, final.ok, final.errors) == (10, 8, 2)
    assert final.error_kinds == snap.error_kinds and final.status_codes == snap.status_codes
    assert final.latency_ms == snap.latency_ms


def test_a_stage_whose_counts_do_not_add_up_cannot_be_built_merged_or_loaded():
    import json
    from dataclasses import replace

    import pytest

    import loadkit
    from loadkit.results.aggregate import merge_stages
    from loadkit.testing import latencies, profile, run_result, stage

    good = stage(0, latencies(5, n=10), errors={"http_5xx": 2})
    with pytest.raises(ValueError, match=r"requests \(10\) must equal ok \(9\) \+ errors \(2\)"):
        replace(good, ok=9)
    with pytest.raises(ValueError, match="add up to 1, not errors"):
        replace(good, error_kinds={"http_5xx": 1})
    assert merge_stages([good, good]).requests == 20          # a merge is built the same way
    data = json.loads(loadkit.dumps(run_result(profile(stages=[good]))))
    data["profiles"][0]["stages"][0]["errors"] = 3
    with pytest.raises(loadkit.UsageError, match="malformed result"):
        loadkit.loads(json.dumps(data))
