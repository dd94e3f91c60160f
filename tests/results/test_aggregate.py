import numpy as np

from loadkit.results.aggregate import merge_results, summarize
from loadkit.results.hdr import LatencyHistogram
from tests.results.factories import interval, result_of, stage_from


def test_summary_excludes_warmup_stages():
    warm = stage_from([50_000] * 100, index=0, warmup=True)
    measured = stage_from([1_000] * 100, index=1)
    s = summarize([warm, measured])
    assert s.requests == 100
    assert s.latency_ms.p99 < 2


def test_merging_disjoint_halves_equals_the_whole_within_hdr_precision():
    rng = np.random.default_rng(11)
    vals = rng.lognormal(9, 0.8, 10_000).astype(np.int64) + 1
    a, b = vals[:5_000], vals[5_000:]
    whole = LatencyHistogram()
    whole.record_many(vals)
    merged = merge_results([result_of([stage_from(a.tolist(), concurrency=4)]),
                            result_of([stage_from(b.tolist(), concurrency=4)])])
    stage = merged.profiles[0].stages[0]
    assert stage.requests == 10_000
    assert stage.concurrency == 8
    assert stage.hist() == whole
    assert stage.latency_ms.p99 == round(whole.percentile_us(99) / 1000, 3)
    assert merged.environment.processes == 2


def test_merged_timeseries_adds_counts_second_by_second():
    t0 = 1_700_000_000.0
    r1 = result_of([stage_from([10])], timeseries=[interval(t0, 10, 5.0), interval(t0 + 1, 20, 6.0)])
    r2 = result_of([stage_from([10])], timeseries=[interval(t0 + 1, 30, 8.0), interval(t0 + 2, 5, 1.0)])
    ts = merge_results([r1, r2]).profiles[0].timeseries
    assert [iv.requests for iv in ts] == [10, 50, 5]
    assert [iv.elapsed_s for iv in ts] == [0.0, 1.0, 2.0]
    assert ts[1].max_ms == 12.0


def test_health_of_side_by_side_generators_adds_cpu_and_of_sequential_profiles_takes_the_busiest():
    from loadkit.results.aggregate import merge_health
    from loadkit.results.model import GeneratorHealth

    a = GeneratorHealth(cpu_share=0.5, loop_lag_p99_ms=3.0, connections_opened=64, reconnects=2,
                        reasons=("x",))
    b = GeneratorHealth(cpu_share=0.25, loop_lag_p99_ms=9.0, connections_opened=64,
                        fell_behind=True, reasons=("x", "y"))
    side = merge_health([a, b], concurrent=True)
    seq = merge_health([a, b], concurrent=False)
    assert (side.cpu_share, seq.cpu_share) == (0.75, 0.5)
    for h in (side, seq):
        assert h.connections_opened == 128 and h.reconnects == 2
        assert h.loop_lag_p99_ms == 9.0 and h.fell_behind and h.reasons == ("x", "y")
