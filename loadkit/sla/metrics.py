"""The SLA metric registry: how each metric is read from a stage, a profile's summary
and a one-second interval. A table, so a new metric (streaming ``ttft_p99``, a
server metric, ...) is one entry, not another branch.

What a rule judges (schema v2): latency metrics read the SUCCESSFUL requests
(``latency_ms``) and have no data when none succeeded; ``throughput`` is successes
a second; ``error_rate`` is errors / requests over every request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from loadkit.results.model import Interval, StageResult, Summary
from loadkit.sla.grammar import LATENCY_METRICS, STREAM_TIMINGS
from loadkit.sla.server_rule import is_server_metric, read_server, scrapes_of

Data = StageResult | Summary


@dataclass(frozen=True)
class Metric:
    """``read``: the value in the rule's unit (None: no data); ``count``: how many
    requests the value stands on (for "no data" and ``min_requests``);
    ``live``: the value over one second for ``abort`` rules (None: not observable);
    ``load_broken``: more load makes it worse, so in a ramp/stress it is judged on
    the lightest step (latency, error rate) rather than at the operating point."""

    name: str
    read: Callable[[Data], float | None]
    count: Callable[[Data], int]
    live: Callable[[Interval], float | None] | None = None
    load_broken: bool = False
    over: str = "requests"          # what ``count`` counts, in words
    one: str = "request"            # the same, for a count of one

    def counted(self, n: int) -> str:
        """``1 request``, ``2,000 requests``: what a verdict stands on, in words."""
        return f"{n:,} {self.one if n == 1 else self.over}"


def _successes(d: Data) -> int:
    return d.ok


def _requests(d: Data) -> int:
    return d.requests


def _latency(stat: str, live_field: str | None) -> Metric:
    def read(d: Data) -> float | None:
        return float(getattr(d.latency_ms, stat)) if d.ok > 0 else None

    def live(iv: Interval) -> float | None:
        return float(getattr(iv, live_field)) if live_field and iv.ok > 0 else None

    return Metric(stat, read, _successes, live if live_field else None, load_broken=True,
                  over="successful requests", one="successful request")


def _error_rate(d: Data) -> float | None:
    return d.errors / d.requests if d.requests > 0 else None


def _live_error_rate(iv: Interval) -> float | None:
    return iv.errors / iv.requests if iv.requests > 0 else None


def _stream_latency(timing: str, stat: str) -> Metric:
    """``ttft_p99`` and friends: a streamed stage's own histogram (None without one)."""
    def count(d: Data) -> int:
        return d.stream_hist(timing).count if d.streamed else 0

    def read(d: Data) -> float | None:
        summary = getattr(d, f"{timing}_ms")          # count() is 0 unless streamed
        return float(getattr(summary, stat)) if summary is not None and count(d) else None

    return Metric(f"{timing}_{stat}", read, count, load_broken=True,
                  over=f"streamed requests with a {timing.upper()}",
                  one=f"streamed request with a {timing.upper()}")


def _stream_figure(name: str, attr: str, load_broken: bool = False) -> Metric:
    def read(d: Data) -> float | None:
        value = getattr(d, attr) if d.streamed else None
        return None if value is None else float(value)

    return Metric(name, read, _requests, load_broken=load_broken)


STREAM_METRICS: dict[str, Metric] = {
    **{f"{t}_{p}": _stream_latency(t, p) for t in STREAM_TIMINGS for p in LATENCY_METRICS},
    "output_tokens_per_s": _stream_figure("output_tokens_per_s", "output_tokens_per_s"),
    "goodput": _stream_figure("goodput", "goodput_rps"),
    "slo_attainment": _stream_figure("slo_attainment", "slo_attainment", load_broken=True),
}

METRICS: dict[str, Metric] = {
    **{m.name: m for m in (
        _latency("p50", "p50_ms"), _latency("p90", "p90_ms"), _latency("p95", "p95_ms"),
        _latency("p99", "p99_ms"), _latency("p999", None), _latency("max", "max_ms"),
        _latency("mean", None))},
    "error_rate": Metric("error_rate", _error_rate, _requests, _live_error_rate,
                         load_broken=True),
    "throughput": Metric("throughput",
                         lambda d: float(d.throughput_rps) if d.requests > 0 else None,
                         _requests, lambda iv: float(iv.rps), over="requests"),
    "rows_per_s": Metric("rows_per_s",
                         lambda d: float(d.rows_per_s) if d.requests > 0 else None, _requests),
    **STREAM_METRICS,
}


def _server(name: str) -> Metric:
    """``server:SERIES.STAT``: the target's own metric over the stage (server_rule.py);
    judged at a ramp's operating point, as throughput is (more load is not always worse)."""
    return Metric(name, lambda d: read_server(name, d), lambda d: scrapes_of(name, d),
                  over="scrapes of the server", one="scrape of the server")


def metric(name: str) -> Metric:
    """The metric a rule names: a table entry, or a ``server:`` rule's series."""
    if is_server_metric(name):
        return _server(name)
    return METRICS[name]


__all__ = ["METRICS", "Metric", "metric"]
