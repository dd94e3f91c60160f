"""loadkit.testing's RunResult builder derives every figure as a real run's recorder does."""

from __future__ import annotations

import pytest

from loadkit.results import dumps, loads
from loadkit.testing import interval, latencies, profile, run_result, stage


def test_a_built_stage_counts_requests_ok_errors_and_status_codes_exactly():
    s = stage(2, latencies_us=[9000, 9000] + [1000] * 8, errors={"timeout": 1, "http_5xx": 1},
              concurrency=4, duration_s=2.0, batch_size=3)
    assert (s.index, s.requests, s.ok, s.errors) == (2, 10, 8, 2)
    assert s.error_kinds == {"http_5xx": 1, "timeout": 1}
    assert s.status_codes == {"200": 8, "503": 1}         # a timeout has no status
    assert (s.throughput_rps, s.rows_per_s) == (4.0, 12.0)  # 8 ok / 2 s; 8 ok x 3 rows / 2 s
    assert s.hist_all().count == 10 and s.latency_all_ms.max == pytest.approx(9.0, rel=1e-3)
    assert s.hist().count == 8 and s.latency_ms.max == pytest.approx(1.0, rel=1e-3)  # successes


def test_latencies_put_p50_and_p99_where_asked():
    s = stage(0, latencies(10, 80))
    assert s.latency_ms.p50 == pytest.approx(10, rel=1e-3)
    assert s.latency_ms.p99 == pytest.approx(80, rel=1e-3)


def test_more_errors_than_requests_is_refused():
    with pytest.raises(ValueError, match="cannot exceed"):
        stage(0, [1.0], errors=2)


def test_a_built_result_round_trips_through_result_json():
    r = run_result(profile("p", "throughput", [stage(0, latencies(5), warmup=True),
                                               stage(1, latencies(5, 9), errors=3)],
                           [interval(1.0, 1, 9.0)]), fell_behind=True)
    assert loads(dumps(r)) == r
    assert r.profiles[0].summary.requests == 1000            # the warm-up is not measured
    assert r.health.fell_behind
