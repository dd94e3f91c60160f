"""Cheap recording keeps HDR semantics exact: bulk adds equal one record() per value."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from loadkit.results.hdr import HIGHEST_US, LatencyHistogram
from loadkit.results.recorder import Recorder, StageMeta, record_bulk

latencies = st.lists(st.one_of(
    st.integers(min_value=-10, max_value=2_000),
    st.integers(min_value=0, max_value=10**7),
    st.integers(min_value=HIGHEST_US - 5, max_value=HIGHEST_US * 3)), max_size=300)


@settings(max_examples=150, deadline=None)
@given(latencies, latencies)
def test_bulk_recording_equals_recording_each_value(first: list[int], second: list[int]) -> None:
    one_by_one, bulk = LatencyHistogram(), LatencyHistogram()
    for v in first + second:
        one_by_one.record(v)
    record_bulk(bulk, first)
    record_bulk(bulk, np.asarray(second, dtype=np.int64))
    assert bulk == one_by_one
    assert (bulk.count, bulk.min_us, bulk.max_us, bulk.overflow) == (
        one_by_one.count, one_by_one.min_us, one_by_one.max_us, one_by_one.overflow)
    assert bulk.encode() == one_by_one.encode()


def test_a_wide_second_of_latencies_is_recorded_exactly() -> None:
    values = np.random.default_rng(7).lognormal(9, 1.5, 50_000).astype(np.int64)
    expected = LatencyHistogram()
    expected.record_many(values)
    got = LatencyHistogram()
    record_bulk(got, values)
    assert got == expected


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
    assert result.hist().count == 1500
    assert sum(iv.requests for iv in rec.intervals) == 1500
