"""The SLA metric table: what each metric reads, from which requests, and over how many."""

from __future__ import annotations

import pytest

from loadkit.results.model import Interval
from loadkit.sla.metrics import METRICS
from loadkit.testing import latencies, stage

# a second whose statistics all differ, so a metric reading the wrong field shows
SECOND = Interval(t=1.0, elapsed_s=1.0, stage=0, requests=50, ok=40, errors=10, rps=40.0,
                  p50_ms=11.0, p90_ms=12.0, p95_ms=13.0, p99_ms=14.0, max_ms=15.0)
FAILED_SECOND = Interval(t=2.0, elapsed_s=2.0, stage=0, requests=5, ok=0, errors=5, rps=0.0,
                         p50_ms=0.0, p90_ms=0.0, p95_ms=0.0, p99_ms=0.0, max_ms=0.0)


@pytest.mark.parametrize("name, field", [
    ("p50", "p50_ms"), ("p90", "p90_ms"), ("p95", "p95_ms"), ("p99", "p99_ms"),
    ("max", "max_ms"), ("p999", None), ("mean", None),
])
def test_latency_metrics_read_the_successful_requests_and_their_own_second(name, field):
    m = METRICS[name]
    s = stage(0, latencies(10, 40), errors=30, concurrency=2)
    assert m.read(s) == getattr(s.latency_ms, name)
    assert m.count(s) == s.ok == 970
    assert (m.load_broken, m.over) == (True, "successful requests")
    assert m.read(stage(0, [5.0] * 3, errors=3)) is None       # no success: no latency
    if field is None:
        assert m.live is None                                   # not kept per second
    else:
        assert m.live is not None
        assert m.live(SECOND) == getattr(SECOND, field)
        assert m.live(FAILED_SECOND) is None


def test_error_rate_reads_every_request_and_is_watched_live():
    m = METRICS["error_rate"]
    s = stage(0, latencies(10), errors=25)
    assert (m.read(s), m.count(s), m.load_broken) == (0.025, 1000, True)
    assert m.read(stage(0, [])) is None
    assert m.live is not None and m.live(SECOND) == 0.2 and m.live(FAILED_SECOND) == 1.0


@pytest.mark.parametrize("name, attr", [("throughput", "throughput_rps"),
                                        ("rows_per_s", "rows_per_s")])
def test_throughput_metrics_are_judged_at_the_operating_point(name, attr):
    m = METRICS[name]
    s = stage(0, latencies(10), errors=100, batch_size=4, duration_s=10.0)
    assert m.read(s) == getattr(s, attr) and m.count(s) == 1000
    assert m.load_broken is False
    assert m.read(stage(0, [])) is None
    if name == "throughput":
        assert m.live is not None and m.live(SECOND) == 40.0
