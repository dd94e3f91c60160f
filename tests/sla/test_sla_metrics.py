"""The SLA metric table: what each metric reads, from which requests, and over how many."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import Interval, LatencySummary
from loadkit.sla import metrics
from loadkit.sla.metrics import METRICS, Metric
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
    s = stage(0, latencies(10, 40), errors=30, concurrency=2)
    for m in _both(name, metrics._latency(name, field)):
        assert m.name == name
        assert m.read(s) == getattr(s.latency_ms, name)
        assert isinstance(m.read(s), float)
        assert m.count(s) == s.ok == 970
        assert (m.load_broken, m.over, m.one) == (True, "successful requests",
                                                  "successful request")
        assert m.read(stage(0, [5.0] * 3, errors=3)) is None       # no success: no latency
        assert m.read(stage(0, [5.0] * 3, errors=2)) is not None    # one success is data
        if field is None:
            assert m.live is None                                   # not kept per second
        else:
            assert m.live is not None
            assert m.live(SECOND) == getattr(SECOND, field)
            assert isinstance(m.live(SECOND), float)
            assert m.live(FAILED_SECOND) is None
            one = Interval(t=3.0, elapsed_s=3.0, stage=0, requests=1, ok=1, errors=0, rps=1.0,
                           p50_ms=9.0, p90_ms=9.0, p95_ms=9.0, p99_ms=9.0, max_ms=9.0)
            assert m.live(one) == 9.0                               # one success is data


def test_error_rate_reads_every_request_and_is_watched_live():
    m = METRICS["error_rate"]
    s = stage(0, latencies(10), errors=25)
    assert (m.read(s), m.count(s), m.load_broken) == (0.025, 1000, True)
    assert m.read(stage(0, [])) is None
    assert m.live is not None and m.live(SECOND) == 0.2 and m.live(FAILED_SECOND) == 1.0
    # one request is enough to have a rate; none is no data, not a division by zero
    assert m.read(stage(0, [5.0], errors=1)) == 1.0
    one = Interval(t=3.0, elapsed_s=3.0, stage=0, requests=1, ok=0, errors=1, rps=0.0,
                   p50_ms=0.0, p90_ms=0.0, p95_ms=0.0, p99_ms=0.0, max_ms=0.0)
    empty = Interval(t=4.0, elapsed_s=4.0, stage=0, requests=0, ok=0, errors=0, rps=0.0,
                     p50_ms=0.0, p90_ms=0.0, p95_ms=0.0, p99_ms=0.0, max_ms=0.0)
    assert (m.live(one), m.live(empty)) == (1.0, None)


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


# -- streaming metrics (issue 15) --------------------------------------------------------
def _hist(*values_ms: float) -> LatencyHistogram:
    h = LatencyHistogram()
    for v in values_ms:
        h.record(round(v * 1000))
    return h


def streamed(ttft: tuple[float, ...] = (), itl: tuple[float, ...] = (),
             tpot: tuple[float, ...] = (), *, tokens: int | None = 500, **figures: float | None):
    """A 10-request stage (2 errors) carrying these streamed timings and figures."""
    s = stage(0, [10.0] * 10, errors=2)
    fields: dict[str, object] = {"output_tokens": tokens, **figures}
    for timing, values in (("ttft", ttft), ("itl", itl), ("tpot", tpot)):
        if values:
            h = _hist(*values)
            fields[f"{timing}_histogram"] = h.encode()
            fields[f"{timing}_ms"] = LatencySummary.of(h)
    return replace(s, **fields)


def _both(name: str, made: Metric) -> list[Metric]:
    # METRICS is built when the module is imported; the factory is also called here so
    # that what it builds is checked by the test itself.
    return [METRICS[name], made]


@pytest.mark.parametrize("timing", ["ttft", "itl", "tpot"])
@pytest.mark.parametrize("stat", ["p50", "p99", "max", "mean"])
def test_stream_latency_metrics_read_their_own_timing_histogram(timing, stat):
    # each timing holds different values, so a metric reading another timing shows
    values = {"ttft": (40.0, 40.0, 40.0, 120.0), "itl": (5.0, 6.0, 7.0),
              "tpot": (9.0, 11.0)}
    s = streamed(**values)
    for m in _both(f"{timing}_{stat}", metrics._stream_latency(timing, stat)):
        assert m.name == f"{timing}_{stat}"
        assert m.read(s) == getattr(getattr(s, f"{timing}_ms"), stat)
        assert m.count(s) == len(values[timing])          # requests with that timing, not 10
        assert (m.load_broken, m.live) == (True, None)
        assert m.over == f"streamed requests with a {timing.upper()}"
        assert m.one == f"streamed request with a {timing.upper()}"


def test_stream_latency_has_no_data_without_a_stream_or_its_histogram():
    m = metrics._stream_latency("ttft", "p99")
    with_ttft = streamed(ttft=(40.0, 50.0))
    assert m.read(with_ttft) == 50.015 and m.count(with_ttft) == 2      # HDR: 50 ms +- 0.1%
    # no output_tokens: not a streamed stage, whatever it carries
    not_streamed = replace(with_ttft, output_tokens=None)
    assert (m.read(not_streamed), m.count(not_streamed)) == (None, 0)
    # streamed, but no request got a first token: no TTFT to judge
    no_ttft = streamed(itl=(5.0,))
    assert (m.read(no_ttft), m.count(no_ttft)) == (None, 0)
    # a summary without its histogram counts nothing, so reads nothing
    summary_only = replace(with_ttft, ttft_histogram="")
    assert (m.read(summary_only), m.count(summary_only)) == (None, 0)
    # a histogram without its summary has nothing to read
    assert m.read(replace(with_ttft, ttft_ms=None)) is None


@pytest.mark.parametrize("name, attr, load_broken", [
    ("output_tokens_per_s", "output_tokens_per_s", False),
    ("goodput", "goodput_rps", False),
    ("slo_attainment", "slo_attainment", True),
])
def test_stream_figures_read_a_streamed_stage_over_every_request(name, attr, load_broken):
    s = streamed(ttft=(40.0,), **{attr: 12.5})
    made = metrics._stream_figure(name, attr, load_broken=load_broken)
    for m in _both(name, made):
        assert m.name == name
        assert m.read(s) == 12.5 and isinstance(m.read(s), float)
        assert m.count(s) == 10 and m.over == "requests"
        assert (m.load_broken, m.live) == (load_broken, None)
        assert m.read(replace(s, output_tokens=None)) is None     # not a streamed stage
        assert m.read(replace(s, **{attr: None})) is None          # figure not measured
        assert m.read(replace(s, **{attr: 0})) == 0.0              # zero is a value, not "none"


def test_a_stream_figure_is_not_load_broken_unless_asked():
    assert metrics._stream_figure("goodput", "goodput_rps").load_broken is False


def test_stream_metrics_are_in_the_table_under_every_name_the_grammar_knows():
    from loadkit.sla.grammar import STREAM_METRICS as GRAMMAR_STREAM

    assert set(metrics.STREAM_METRICS) == set(GRAMMAR_STREAM)
    assert all(METRICS[n].name == n for n in GRAMMAR_STREAM)


@pytest.mark.parametrize("name, one, many", [
    ("p99", "1 successful request", "2,000 successful requests"),
    ("error_rate", "1 request", "2,000 requests"),
    ("ttft_p99", "1 streamed request with a TTFT", "2,000 streamed requests with a TTFT"),
    ("server:q.max", "1 scrape of the server", "2,000 scrapes of the server"),
])
def test_what_a_verdict_stands_on_is_counted_in_words_singular_for_one(name, one, many):
    from loadkit.sla.metrics import metric

    m = metric(name)
    assert (m.counted(1), m.counted(2000), m.counted(0)) == (one, many, many.replace("2,000", "0"))
