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
    assert len(sink.buf) == 5                     # still buffered: the snapshot took a copy
    final = rec.finish(sink, 2.0)
    assert (final.requests, final.ok, final.errors) == (10, 8, 2)
    assert final.error_kinds == snap.error_kinds and final.status_codes == snap.status_codes
    assert final.latency_ms == snap.latency_ms
