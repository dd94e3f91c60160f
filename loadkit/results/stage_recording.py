"""One stage's recording: the engine's per-request hot path.

The engine calls ``ok``/``error`` of the stage that issued the request (its
``StageRecording``) once per request; those only append an integer to a buffer
and bump counters (~70 ns). ``flush`` (the ``Recorder``'s tick, once a second)
adds the buffers to the stage's HDR histograms in one numpy pass, and ``result``
freezes the stage into a StageResult. Every request's latency is recorded, errors
included (time until the error): the successes' histogram is what latency rules
judge, the errors' is added to it for ``histogram_all``.

Latency by input: a stage given ``InputBuckets`` records through ``ok_by_input``
/ ``error_by_input``, which also note the payload index; each flush then splits
the second's latencies by the payloads' buckets into one HDR histogram per
bucket. Stages without a breakdown never touch any of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import BreakdownBucket, LatencySummary, StageResult
from loadkit.results.streams import StreamRecording


@dataclass(frozen=True)
class StageMeta:
    """What the recorder needs to know about the stage it is recording."""

    index: int
    label: str
    concurrency: int | None = None
    rate: float | None = None
    warmup: bool = False
    batch_size: int = 1
    role: str = ""               # "" -> "warmup" or "measured" from ``warmup``

    @property
    def stage_role(self) -> str:
        return self.role or ("warmup" if self.warmup else "measured")


class InputBuckets:
    """One histogram per input bucket of a stage; filled once a tick from (latency, payload)."""

    def __init__(self, key: str, labels: Sequence[str], ranges: Sequence[tuple[float, float]],
                 bucket_of_payload: np.ndarray[Any, Any], unit: str = "") -> None:
        self.key, self.unit = key, unit
        self.labels = tuple(labels)
        self.ranges = tuple(ranges)
        self.bucket_of = np.asarray(bucket_of_payload, dtype=np.int64)
        self.hists = [LatencyHistogram() for _ in self.labels]
        self.requests = [0] * len(self.labels)
        self.errors = [0] * len(self.labels)

    def add(self, latencies_us: Sequence[int], marks: Sequence[int]) -> None:
        """``marks[i]`` is request i's payload index, or ``~index`` when it was an error."""
        if not marks:
            return
        lat = np.asarray(latencies_us, dtype=np.int64)
        at = np.asarray(marks, dtype=np.int64)
        failed = at < 0
        bucket = self.bucket_of[np.where(failed, ~at, at)]
        for k, hist in enumerate(self.hists):
            chosen = bucket == k
            n = int(np.count_nonzero(chosen))
            if n:
                hist.record_many(lat[chosen])
                self.requests[k] += n
                self.errors[k] += int(np.count_nonzero(chosen & failed))

    def results(self) -> tuple[BreakdownBucket, ...]:
        return tuple(BreakdownBucket(key=self.key, label=label, lo=lo, hi=hi,
                                     requests=self.requests[k], errors=self.errors[k],
                                     latency_ms=LatencySummary.of(self.hists[k]),
                                     histogram=self.hists[k].encode(), unit=self.unit,
                                     overflow=self.hists[k].overflow)
                     for k, (label, (lo, hi)) in enumerate(zip(self.labels, self.ranges, strict=True)))


class StageRecording:
    """One stage's counters, buffer and histogram; the engine's senders call its methods.

    Stages overlap at a handover (the next one issues while the last requests of
    the previous one complete), so each stage records into its own
    ``StageRecording``: a request is counted in the stage it was issued in,
    whenever it completes. Not thread-safe (one event loop).
    """

    def __init__(self, meta: StageMeta, started_at: float) -> None:
        self.meta = meta
        self.started_at = started_at
        self.buf: list[int] = []          # successes' latencies since the last tick
        self.err_buf: list[int] = []      # errors' latencies since the last tick
        self.marks: list[int] = []        # by input: payload index, with buf
        self.err_marks: list[int] = []    # by input: ~payload index, with err_buf
        self.hist = LatencyHistogram()    # successes
        self.err_hist = LatencyHistogram()  # errors
        self.ok_n = 0                     # flushed into hist
        self.errors_n = 0
        self.iv_ok = 0                    # since the last tick
        self.iv_err = 0
        self.kinds: dict[str, int] = {}
        self.codes: dict[int, int] = {}
        self.firsts: dict[str, str] = {}  # error kind -> its first failure (error path only)
        self.late_n = 0
        self.inputs: InputBuckets | None = None
        self.stream: StreamRecording | None = None   # a streaming endpoint's (begin_streams)

    def begin_streams(self, slo: bool) -> StreamRecording:
        """Record TTFT, gaps, TPOT and tokens too (``slo``: count requests meeting it)."""
        self.stream = StreamRecording(slo)
        return self.stream

    # -- hot path ----------------------------------------------------------------
    # Each call is a list append and a couple of integer bumps (~70 ns); the HDR
    # work happens once a second in ``Recorder.tick``. Status codes are counted
    # under int keys here and turned into strings only when the stage is frozen.
    # ``payload`` (the body's index) is taken and ignored so the engine calls both
    # these and the by-input pair the same way, bound once before its loop.
    def ok(self, latency_us: int, status: int | None = None, payload: int = 0) -> None:
        self.buf.append(latency_us)
        self.iv_ok += 1
        if status is not None:
            codes = self.codes
            codes[status] = codes.get(status, 0) + 1

    def error(self, kind: str, latency_us: int, status: int | None = None,
              payload: int = 0) -> None:
        self.err_buf.append(latency_us)
        self.iv_err += 1
        kinds = self.kinds
        kinds[kind] = kinds.get(kind, 0) + 1
        if status is not None:
            codes = self.codes
            codes[status] = codes.get(status, 0) + 1

    # The by-input pair: the same, plus the payload index in step with ``buf``
    # (``~payload`` for an error, so one list carries both).
    def ok_by_input(self, latency_us: int, status: int | None = None, payload: int = 0) -> None:
        self.buf.append(latency_us)
        self.marks.append(payload)
        self.iv_ok += 1
        if status is not None:
            codes = self.codes
            codes[status] = codes.get(status, 0) + 1

    def error_by_input(self, kind: str, latency_us: int, status: int | None = None,
                       payload: int = 0) -> None:
        self.err_buf.append(latency_us)
        self.err_marks.append(~payload)
        self.iv_err += 1
        kinds = self.kinds
        kinds[kind] = kinds.get(kind, 0) + 1
        if status is not None:
            codes = self.codes
            codes[status] = codes.get(status, 0) + 1

    def late(self, n: int = 1) -> None:
        self.late_n += n

    # -- bookkeeping -----------------------------------------------------------------
    @property
    def requests(self) -> int:
        """Requests completed so far (flushed or not)."""
        return self.ok_n + self.errors_n + self.iv_ok + self.iv_err

    def flush(self) -> tuple[list[int], int, int]:
        """Move the buffers into the stage's histograms; returns the successes' latencies
        (and the ok/error counts)."""
        buf, self.buf = self.buf, []
        err_buf, self.err_buf = self.err_buf, []
        if self.inputs is not None:
            marks, self.marks = self.marks, []
            err_marks, self.err_marks = self.err_marks, []
            if len(marks) != len(buf) or len(err_marks) != len(err_buf):
                # a plain ok()/error() during a by-input stage: a bug
                raise RuntimeError("recorder: a by-input stage recorded a request without its input")
            self.inputs.add(buf + err_buf, marks + err_marks)
        self.hist.record_many(buf)
        self.err_hist.record_many(err_buf)
        ok, err = self.iv_ok, self.iv_err
        self.ok_n += ok
        self.errors_n += err
        self.iv_ok = self.iv_err = 0
        return buf, ok, err

    def result(self, duration_s: float, *, stable: bool | None = None, in_flight: int = 0,
               hist: LatencyHistogram | None = None, ok: int | None = None,
               errors: int | None = None, stream: StreamRecording | None = None,
               err_hist: LatencyHistogram | None = None) -> StageResult:
        """The stage as a StageResult (``hist``/``err_hist``/``ok``/... override: a snapshot)."""
        meta = self.meta
        stream = self.stream if stream is None else stream
        hist = self.hist if hist is None else hist
        all_hist = hist.copy()
        all_hist.add(self.err_hist if err_hist is None else err_hist)
        ok = self.ok_n if ok is None else ok
        errors = self.errors_n if errors is None else errors
        requests = ok + errors
        duration = max(duration_s, 1e-9)
        return StageResult(
            index=meta.index,
            label=meta.label,
            concurrency=meta.concurrency,
            rate=meta.rate,
            warmup=meta.warmup,
            duration_s=round(duration_s, 3),
            requests=requests,
            ok=ok,
            errors=errors,
            error_kinds=dict(sorted(self.kinds.items())),
            late=self.late_n,
            throughput_rps=round(ok / duration, 3),
            rows_per_s=round(ok * meta.batch_size / duration, 3),
            latency_ms=LatencySummary.of(hist),
            histogram=hist.encode(),
            batch_size=meta.batch_size,
            started_at=round(self.started_at, 3),
            status_codes={str(k): v for k, v in sorted(self.codes.items())},
            overflow=hist.overflow,
            stable=stable,
            in_flight_at_end=in_flight,
            breakdown=self.inputs.results() if self.inputs is not None else (),
            **(stream.fields(duration_s, requests) if stream is not None else {}),
            role=meta.stage_role,
            first_errors=dict(sorted(self.firsts.items())),
            latency_all_ms=LatencySummary.of(all_hist),
            histogram_all=all_hist.encode(),
            overflow_all=all_hist.overflow,
        )
