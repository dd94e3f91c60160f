"""Streamed (generative) responses in the result: TTFT, ITL, TPOT, tokens, SLOs, goodput.

Where it sits: ``StreamFigures`` (model.py) is mixed into ``StageResult`` and
``Summary`` (and ``StreamSecond`` into ``Interval``), so a streaming stage carries, beside
``latency_ms``, the DESIGN.md keys ``ttft_ms``, ``itl_ms``, ``tpot_ms`` (each
with the keys of ``latency_ms`` and read from its own HDR histogram, encoded as
``ttft_histogram`` ...), ``output_tokens``, ``input_tokens``,
``output_tokens_per_s``, ``slo_attainment`` and ``goodput_rps``. Every field
defaults to "absent" and the codec leaves absent fields out, so a classic
endpoint's result.json is unchanged.

``StreamRecording`` is the recorder's half: the engine adds one request at a
time (its gaps as a list of nanoseconds, copied into a per-second buffer with
one ``extend``); once a second the buffers go into the histograms in one numpy
pass each. Memory stays flat: three histograms and three buffers per stage,
never a list of gaps per request kept past its second.

``stream_fields`` / ``merge_stream_fields`` compute the figures from histograms
and counts, so a stage, a profile summary and a merge of several generators'
stages are computed the same way, exactly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from loadkit.results.hdr import LatencyHistogram
from loadkit.results.figures import LatencySummary, StreamFigures, StreamSecond

MAX_DETAILS = 20                                 # distinct error details kept per stage


def _sources(counts: Counter[str]) -> str:
    used = [k for k, n in counts.items() if n]
    return used[0] if len(used) == 1 else ("mixed" if used else "")


def stream_fields(ttft: LatencyHistogram, itl: LatencyHistogram, tpot: LatencyHistogram,
                  output_tokens: int, input_tokens: int, good: int | None,
                  sources: Counter[str], details: dict[str, int], duration_s: float,
                  requests: int) -> dict[str, Any]:
    """StreamFigures' keyword arguments from histograms and counts."""
    duration = max(duration_s, 1e-9)
    return {
        "ttft_ms": LatencySummary.of(ttft), "itl_ms": LatencySummary.of(itl),
        "tpot_ms": LatencySummary.of(tpot), "ttft_histogram": ttft.encode(),
        "itl_histogram": itl.encode(), "tpot_histogram": tpot.encode(),
        "output_tokens": output_tokens, "input_tokens": input_tokens,
        "output_tokens_per_s": round(output_tokens / duration, 3),
        "tokens_from": _sources(sources),
        "good_requests": good,
        "slo_attainment": None if good is None else (round(good / requests, 6) if requests
                                                     else 0.0),
        "goodput_rps": None if good is None else round(good / duration, 3),
        "error_details": dict(sorted(details.items())),
    }


def merge_stream_fields(parts: Sequence[StreamFigures], duration_s: float,
                        requests: int) -> dict[str, Any]:
    """The figures of several stages taken together (``{}`` when none streamed)."""
    streamed = [p for p in parts if p.streamed]
    if not streamed:
        return {}
    hists = {}
    for metric in ("ttft", "itl", "tpot"):
        total = LatencyHistogram()
        for p in streamed:
            total.add(p.stream_hist(metric))
        hists[metric] = total
    sources: Counter[str] = Counter()
    for p in streamed:
        for source in ("usage", "tokenizer", "chunks") if p.tokens_from == "mixed" else (
                p.tokens_from,):
            sources[source] += 1
    details: Counter[str] = Counter()
    for p in streamed:
        details.update(p.error_details)
    goods = [p.good_requests for p in streamed]
    return stream_fields(
        hists["ttft"], hists["itl"], hists["tpot"],
        sum(p.output_tokens or 0 for p in streamed), sum(p.input_tokens or 0 for p in streamed),
        None if any(g is None for g in goods) else sum(g or 0 for g in goods),
        sources, dict(details.most_common(MAX_DETAILS)), duration_s, requests)


class StreamRecording:
    """One stage's streamed-request buffers and histograms (not thread-safe)."""

    __slots__ = ("details", "good", "input_tokens", "itl", "itl_buf", "iv_tokens",
                 "output_tokens", "slo", "sources", "tpot", "tpot_buf", "ttft", "ttft_buf")

    def __init__(self, slo: bool) -> None:
        self.slo = slo                    # a per-request SLO applies: count good requests
        self.ttft_buf: list[int] = []     # us, since the last tick
        self.itl_buf: list[int] = []      # ns (divided once a tick)
        self.tpot_buf: list[int] = []     # us
        self.ttft, self.itl, self.tpot = LatencyHistogram(), LatencyHistogram(), LatencyHistogram()
        self.output_tokens = 0
        self.input_tokens = 0
        self.iv_tokens = 0                # output tokens since the last tick
        self.good = 0
        self.sources: Counter[str] = Counter()
        self.details: Counter[str] = Counter()

    def add(self, ttft_us: int | None, gaps_ns: list[int], tpot_us: int | None,
            output_tokens: int, input_tokens: int, source: str, good: bool) -> None:
        """One successful streamed request (its partial timings are never added on error)."""
        if ttft_us is not None:
            self.ttft_buf.append(ttft_us)
        if gaps_ns:
            self.itl_buf.extend(gaps_ns)
        if tpot_us is not None:
            self.tpot_buf.append(tpot_us)
        self.output_tokens += output_tokens
        self.iv_tokens += output_tokens
        self.input_tokens += input_tokens
        self.sources[source] += 1
        if good:
            self.good += 1

    def detail(self, text: str) -> None:
        """Why a request failed, beyond its error kind (at most MAX_DETAILS distinct texts)."""
        if text in self.details or len(self.details) < MAX_DETAILS:
            self.details[text] += 1

    def flush(self) -> tuple[list[int], np.ndarray[Any, Any], int]:
        """Buffers into the histograms; returns this tick's TTFTs, ITLs (us) and tokens."""
        ttft, self.ttft_buf = self.ttft_buf, []
        itl = np.asarray(self.itl_buf, dtype=np.int64) // 1000
        self.itl_buf = []
        tpot, self.tpot_buf = self.tpot_buf, []
        self.ttft.record_many(ttft)
        self.itl.record_many(itl)
        self.tpot.record_many(tpot)
        tokens, self.iv_tokens = self.iv_tokens, 0
        return ttft, itl, tokens

    def snapshot(self) -> StreamRecording:
        """A copy with the unflushed buffers folded in (for judging a stage at its end)."""
        copy = StreamRecording(self.slo)
        copy.ttft, copy.itl, copy.tpot = self.ttft.copy(), self.itl.copy(), self.tpot.copy()
        copy.ttft.record_many(self.ttft_buf)
        copy.itl.record_many(np.asarray(self.itl_buf, dtype=np.int64) // 1000)
        copy.tpot.record_many(self.tpot_buf)
        copy.output_tokens, copy.input_tokens, copy.good = (self.output_tokens,
                                                            self.input_tokens, self.good)
        copy.sources, copy.details = Counter(self.sources), Counter(self.details)
        return copy

    def fields(self, duration_s: float, requests: int) -> dict[str, Any]:
        return stream_fields(self.ttft, self.itl, self.tpot, self.output_tokens,
                             self.input_tokens, self.good if self.slo else None, self.sources,
                             dict(self.details), duration_s, requests)


def second_fields(ttft_us: Iterable[int], itl_us: Iterable[int], tokens: int) -> dict[str, Any]:
    """StreamSecond's keyword arguments for one tick's TTFTs and gaps (microseconds)."""
    ttft, itl = LatencyHistogram(), LatencyHistogram()
    ttft.record_many(list(ttft_us) if not isinstance(ttft_us, (list, np.ndarray)) else ttft_us)
    itl.record_many(list(itl_us) if not isinstance(itl_us, (list, np.ndarray)) else itl_us)
    out: dict[str, Any] = {"output_tokens": tokens}
    if ttft.count:
        out.update(ttft_p50_ms=ttft.percentile_us(50) / 1000, ttft_p99_ms=ttft.percentile_us(99) / 1000)
    if itl.count:
        out.update(itl_p50_ms=itl.percentile_us(50) / 1000, itl_p99_ms=itl.percentile_us(99) / 1000)
    return out


def merge_seconds(group: Sequence[StreamSecond]) -> dict[str, Any]:
    """Several generators' same second: tokens add; percentiles conservatively (the worst)."""
    if all(g.output_tokens is None for g in group):
        return {}
    out: dict[str, Any] = {"output_tokens": sum(g.output_tokens or 0 for g in group)}
    for name in ("ttft_p50_ms", "ttft_p99_ms", "itl_p50_ms", "itl_p99_ms"):
        values = [v for g in group if (v := getattr(g, name)) is not None]
        if values:
            out[name] = max(values)
    return out
