"""W3C ``Server-Timing`` response headers: the server's own duration per request.

When the scenario asks (``server_timing:``), each stage records the duration its
responses report in one HDR histogram (microseconds, as latencies), so reports
can split client latency into time in the server and the rest (network, proxies,
queues in front of it, the client). Which entry counts: the one named by
``server_timing.metric``; by default ``total`` when the server sends one, else the
largest ``dur`` (entries may nest, so they are never summed).

Off the hot path when off: only a transport built with it on looks at the header
(the fast one then keeps each answer's head fields, as it does for redirects), and
the value reaches the request's stage through the stage's ``Tally`` (a context
variable, as redirect counts do). A response without a usable header is counted
as ``missing``, never guessed.
"""

from __future__ import annotations

import re

from dataclasses import replace

from loadkit.engine.redirects import CURRENT_TALLY
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import LatencySummary, StageResult

_ENTRY_RE = re.compile(r"\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)([^,]*)")
_DUR_RE = re.compile(r';\s*dur\s*=\s*"?([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)"?', re.IGNORECASE)
FLUSH_AT = 4096


def server_duration_ms(value: str, metric: str = "") -> float | None:
    """The duration (ms) a ``Server-Timing`` value reports for ``metric`` ("": auto)."""
    durs: dict[str, float] = {}
    for name, params in _ENTRY_RE.findall(value):
        m = _DUR_RE.search(params)
        if m is not None:
            durs.setdefault(name.lower(), float(m.group(1)))
    if not durs:
        return None
    if metric:
        return durs.get(metric.lower())
    return durs.get("total", max(durs.values()))


class ServerTimingRecorder:
    """One stage's server durations: a buffer flushed into an HDR histogram."""

    __slots__ = ("buf", "hist", "metric", "missing")

    def __init__(self, metric: str = "") -> None:
        self.metric = metric
        self.buf: list[int] = []
        self.hist = LatencyHistogram()
        self.missing = 0

    def note(self, value: str | bytes | None) -> None:
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        ms = server_duration_ms(value, self.metric) if value else None
        if ms is None:
            self.missing += 1
            return
        self.buf.append(max(0, round(ms * 1000)))
        if len(self.buf) >= FLUSH_AT:
            self.flush()

    def flush(self) -> LatencyHistogram:
        if self.buf:
            self.hist.record_many(self.buf)
            self.buf = []
        return self.hist


def note_server_timing(value: str | bytes | None) -> None:
    """Record a response's ``Server-Timing`` in the running request's stage (if it asks)."""
    tally = CURRENT_TALLY.get()
    if tally is not None and tally.server_timing is not None:
        tally.server_timing.note(value)


def with_server_timing(stage: StageResult, rec: ServerTimingRecorder) -> StageResult:
    """``stage`` with the server's durations its responses reported (and how many did not)."""
    hist = rec.flush()
    return replace(stage, server_timing_ms=LatencySummary.of(hist) if hist.count else None,
                   server_timing_histogram=hist.encode() if hist.count else "",
                   server_timing_missing=rec.missing)
