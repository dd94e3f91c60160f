"""Cheap recording: the recorder's once-a-second flush loses no request.

(That the bulk HDR path equals one ``record()`` per value is proved in
``tests/results/test_hdr.py``.)"""

from __future__ import annotations

from loadkit.results.recorder import Recorder, StageMeta

def test_recorder_ticks_flush_into_the_stage_histogram_without_losing_a_request() -> None:
    rec = Recorder()
    rec.begin_stage(StageMeta(index=0, label="s"))
    for i in range(1000):
        rec.ok(100 + i, 200)
    first = rec.tick()
    for i in range(500):
        rec.error("timeout", 5000 + i)
    result = rec.end_stage(2.0)
    assert first is not None and first.requests == 1000
    assert (result.requests, result.ok, result.errors) == (1500, 1000, 500)
    assert result.hist_all().count == 1500 and result.hist().count == result.ok
    assert sum(iv.requests for iv in rec.intervals) == 1500
