import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from loadkit.results.hdr import HIGHEST_US, LatencyHistogram

values = st.lists(st.integers(min_value=0, max_value=HIGHEST_US * 2), max_size=300)


def hist_of(vals):
    h = LatencyHistogram()
    for v in vals:
        h.record(v)
    return h


@given(values)
@settings(max_examples=60, deadline=None)
def test_bulk_recording_equals_one_by_one_recording(vals):
    bulk = LatencyHistogram()
    bulk.record_many(np.array(vals, dtype=np.int64))
    assert bulk == hist_of(vals)
    assert bulk.min_us == hist_of(vals).min_us
    assert bulk.max_us == hist_of(vals).max_us


wide = st.lists(st.one_of(
    st.integers(min_value=-10, max_value=2_000),
    st.integers(min_value=0, max_value=10**7),
    st.integers(min_value=HIGHEST_US - 5, max_value=HIGHEST_US * 3)), max_size=300)


@settings(max_examples=150, deadline=None)
@given(wide, wide)
def test_two_bulk_adds_equal_recording_each_value_including_clamped_ones(first, second):
    one_by_one, bulk = LatencyHistogram(), LatencyHistogram()
    for v in first + second:
        one_by_one.record(v)
    bulk.record_many(first)                                   # a list...
    bulk.record_many(np.asarray(second, dtype=np.int64))      # ...and an array
    assert bulk == one_by_one
    assert (bulk.count, bulk.min_us, bulk.max_us, bulk.overflow) == (
        one_by_one.count, one_by_one.min_us, one_by_one.max_us, one_by_one.overflow)
    assert bulk.encode() == one_by_one.encode()


def test_a_wide_second_of_latencies_in_bulk_equals_recording_each_value():
    values = np.random.default_rng(7).lognormal(9, 1.5, 50_000).astype(np.int64)
    bulk = LatencyHistogram()
    bulk.record_many(values)
    assert bulk == hist_of(values.tolist())
    assert bulk.percentile_us(99.9) == hist_of(values.tolist()).percentile_us(99.9)


def test_bulk_recording_takes_any_iterable_of_ints():
    h = LatencyHistogram()
    h.record_many(v for v in (3, 1, 2))
    assert (h.count, h.min_us, h.max_us) == (3, 1, 3)


@given(values, values)
@settings(max_examples=60, deadline=None)
def test_merging_two_histograms_equals_recording_their_union(a, b):
    merged = hist_of(a)
    merged.add(hist_of(b))
    assert merged == hist_of(a + b)
    assert merged.count == len(a) + len(b)


@given(values)
@settings(max_examples=40, deadline=None)
def test_encoding_round_trips_exactly(vals):
    h = hist_of(vals)
    back = LatencyHistogram.decode(h.encode(), h.overflow)
    assert back == h
    assert back.percentile_us(99) == h.percentile_us(99)


def test_values_above_one_hour_are_clamped_and_counted_not_dropped():
    h = LatencyHistogram()
    h.record(HIGHEST_US * 10)
    h.record_many([HIGHEST_US + 1, 5])
    assert h.count == 3
    assert h.overflow == 2
    assert h.max_us >= HIGHEST_US * 0.999


def test_percentiles_are_within_three_significant_digits():
    rng = np.random.default_rng(3)
    vals = rng.integers(1_000, 900_000, 20_000)
    h = LatencyHistogram()
    h.record_many(vals)
    exact = float(np.percentile(vals, 99, method="inverted_cdf"))
    assert abs(h.percentile_us(99) - exact) / exact < 0.002


def test_empty_histogram_reads_as_zero():
    h = LatencyHistogram()
    assert (h.count, h.percentile_us(99), h.min_us, h.max_us, h.mean_us) == (0, 0, 0, 0, 0.0)


@given(st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=200),
       st.floats(min_value=0.0, max_value=100.0))
@settings(max_examples=12, deadline=None)  # the package side is slow Python loops
def test_fast_statistics_match_the_hdrhistogram_package(vals, pct):
    h = hist_of(vals)
    raw = h._h
    assert h.percentile_us(pct) == raw.get_value_at_percentile(pct)
    assert abs(h.mean_us - raw.get_mean_value()) <= 1e-6 * max(1.0, raw.get_mean_value())
    assert abs(h.stdev_us - raw.get_stddev()) <= 1e-6 * max(1.0, raw.get_stddev())


def test_the_index_tables_are_the_packages_own_equivalent_values():
    # _index_tables computes every index's highest and median equivalent value with
    # numpy; the package computes them one value at a time. Every 7th index, and
    # all of the first and last buckets (the half bucket below 2048 and the clamp).
    from hdrh.histogram import HdrHistogram

    from loadkit.results.hdr import LOWEST_US, SIGNIFICANT_DIGITS, _index_tables

    h = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
    highest, median = _index_tables()
    assert len(highest) == len(median) == h.counts_len
    n = h.counts_len
    for i in sorted({*range(0, n, 7), *range(2100), *range(n - 1100, n)}):
        v = h.get_value_from_index(i)
        assert highest[i] == h.get_highest_equivalent_value(v), i
        assert median[i] == h._hdr_median_equiv_value(v), i
