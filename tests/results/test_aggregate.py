import numpy as np

from loadkit.results.aggregate import merge_results, summarize
from loadkit.results.hdr import LatencyHistogram
from loadkit.testing import interval, profile, run_result, stage


def test_summary_excludes_warmup_stages():
    warm = stage(0, latencies_us=[50_000] * 100, warmup=True)
    measured = stage(1, latencies_us=[1_000] * 100)
    s = summarize([warm, measured])
    assert s.requests == 100
    assert s.latency_ms.p99 < 2


def test_merging_disjoint_halves_equals_the_whole_within_hdr_precision():
    rng = np.random.default_rng(11)
    vals = rng.lognormal(9, 0.8, 10_000).astype(np.int64) + 1
    a, b = vals[:5_000], vals[5_000:]
    whole = LatencyHistogram()
    whole.record_many(vals)
    merged = merge_results([run_result(profile(stages=[stage(latencies_us=a, concurrency=4)])),
                            run_result(profile(stages=[stage(latencies_us=b, concurrency=4)]))])
    merged_stage = merged.profiles[0].stages[0]
    assert merged_stage.requests == 10_000
    assert merged_stage.concurrency == 8
    assert merged_stage.hist() == whole
    assert merged_stage.latency_ms.p99 == round(whole.percentile_us(99) / 1000, 3)
    assert merged.environment.processes == 2


def test_merged_timeseries_adds_counts_second_by_second():
    t0 = 1_700_000_000.0
    def one(*ivs):
        return run_result(profile(stages=[stage(latencies_us=[10])], timeseries=ivs))

    r1 = one(interval(t0, 0, 5.0, requests=10, t0=t0), interval(t0 + 1, 0, 6.0, requests=20, t0=t0))
    r2 = one(interval(t0 + 1, 0, 8.0, requests=30, t0=t0), interval(t0 + 2, 0, 1.0, requests=5, t0=t0))
    ts = merge_results([r1, r2]).profiles[0].timeseries
    assert [iv.requests for iv in ts] == [10, 50, 5]
    assert [iv.elapsed_s for iv in ts] == [0.0, 1.0, 2.0]
    assert ts[1].max_ms == 8.0                     # the max of 6 and 8, not their sum


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
