"""Recorder: Samples in, StageResults and per-second Intervals out.

The engine calls ``ok``/``error`` of the request's stage (its ``StageRecording``)
once per request; those only append an integer to a buffer and bump counters.
Once a second (``tick``) every open stage's buffer is added to that stage's HDR
histogram in one numpy pass and the second is summarised into one Interval, so
the hot path makes no Python-level HDR call and memory stays flat in run length:
one histogram per stage plus one small Interval per second. Consecutive stages
may overlap (a request is recorded in the stage that issued it, while the next
stage is already issuing); the Interval series stays one continuous series.

Every request's latency is recorded, errors included (time until the error),
in one of two histograms per stage: the successes' (``histogram``: what latency
rules judge) and the errors' (added to it for ``histogram_all``, whose count always
equals the stage's request count). Per-second Intervals summarise the successes.

Latency by input: after ``begin_breakdown`` the engine records through
``ok_by_input`` / ``error_by_input``, which also note the payload index; each
tick then splits the second's latencies by the payloads' buckets into one HDR
histogram per bucket. Stages without a breakdown never touch any of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import BreakdownBucket, Interval, LatencySummary, StageResult
from loadkit.results.streams import StreamRecording, second_fields


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


_warm = False


def _warm_up() -> None:
    """Pay hdrhistogram's one-off first-use cost (~30 ms) before the load, not at tick 1."""
    global _warm
    if not _warm:
        h = LatencyHistogram()
        h.record_many([1, 2])  # pragma: no mutate (any values pay the same first-use cost)
        h.percentile_us(50)
        LatencyHistogram().add(h)
        _warm = True


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


def _second(streams: Sequence[tuple[list[int], np.ndarray[Any, Any], int]]) -> dict[str, Any]:
    """One second's TTFT / ITL percentiles and tokens from its stages' stream flushes."""
    if not streams:
        return {}
    ttft = [v for t, _, _ in streams for v in t]
    itl = np.concatenate([i for _, i, _ in streams])
    return second_fields(ttft, itl, sum(n for _, _, n in streams))


class Recorder:
    """Aggregates one profile's requests; not thread-safe (one per event loop).

    Stages are begun in order; several may be open at once (the engine begins the
    next stage while the previous one's last requests complete). ``tick`` makes
    one Interval per call from every open stage, so the per-second series stays
    one continuous series across stage boundaries; an Interval is labelled with
    the stage issuing at the time (the one begun last). ``ok``/``error``/... on
    the Recorder itself record into that stage; the engine binds a stage's own
    ``StageRecording`` methods instead.
    """

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        _warm_up()
        self._wall = wall_clock
        self.intervals: list[Interval] = []
        self.stages: list[StageResult] = []
        self._open: list[StageRecording] = []     # begun, not finished, oldest first
        self._current: StageRecording | None = None
        self._label_index = 0                     # Interval.stage: the stage begun last
        self._profile_t0: float | None = None
        self._iv_start = self._wall()
        # Latencies of stages finished since the last tick: already in their stage's
        # histogram, still owed to the next Interval.
        self._carry: list[int] = []
        self._carry_ok = 0
        self._carry_err = 0
        self._carry_streams: list[tuple[list[int], np.ndarray[Any, Any], int]] = []

    # -- stage lifecycle -------------------------------------------------------------
    def begin_stage(self, meta: StageMeta, started_at: float | None = None) -> StageRecording:
        """Start recording a stage (``started_at``: its unix start, default now).

        With no stage open the interval clock restarts here (time between stages is
        nobody's); while an earlier stage is still open it runs on, continuously.
        """
        now = self._wall() if started_at is None else started_at
        if not self._open:
            self._iv_start = now
        rec = StageRecording(meta, now)
        self._open.append(rec)
        self._current = rec
        self._label_index = meta.index
        if self._profile_t0 is None:
            self._profile_t0 = now
        return rec

    def begin_breakdown(self, key: str, labels: Sequence[str],
                        ranges: Sequence[tuple[float, float]],
                        bucket_of_payload: np.ndarray[Any, Any] | Sequence[int], unit: str = "") -> None:
        """Record the current stage by input too; call after ``begin_stage``, before any request.

        ``bucket_of_payload[i]`` is payload i's bucket (-1: none); the engine must
        then record through ``ok_by_input`` / ``error_by_input`` only.
        """
        rec = self._cur()
        rec.inputs = InputBuckets(key, labels, ranges, np.asarray(bucket_of_payload), unit)
        rec.marks = []

    def finish(self, rec: StageRecording, duration_s: float, *, stable: bool | None = None,
               in_flight: int = 0) -> StageResult:
        """Freeze ``rec`` into a StageResult; its unticked latencies go to the next Interval."""
        buf, ok, err = rec.flush()
        self._carry.extend(buf)
        self._carry_ok += ok
        self._carry_err += err
        if rec.stream is not None:
            self._carry_streams.append(rec.stream.flush())
        result = rec.result(duration_s, stable=stable, in_flight=in_flight)
        if rec in self._open:
            self._open.remove(rec)
        if rec is self._current:
            self._current = None
        self.stages.append(result)
        return result

    def end_stage(self, duration_s: float, *, stable: bool | None = None,
                  in_flight: int = 0) -> StageResult:
        """Tick, then freeze the current stage into a StageResult."""
        self.tick()
        rec = self._current or self.begin_stage(StageMeta(index=len(self.stages), label=""))
        return self.finish(rec, duration_s, stable=stable, in_flight=in_flight)

    @staticmethod
    def snapshot(rec: StageRecording, duration_s: float, in_flight: int = 0) -> StageResult:
        """``rec`` as a StageResult of what completed so far, without flushing anything.

        ``in_flight`` (requests still out) goes in ``in_flight_at_end``. Used to
        judge a stage at its end time while its last requests are still completing.
        """
        hist = rec.hist.copy()
        hist.record_many(rec.buf)
        err_hist = rec.err_hist.copy()
        err_hist.record_many(rec.err_buf)
        return rec.result(duration_s, in_flight=in_flight, hist=hist, err_hist=err_hist,
                          ok=rec.ok_n + rec.iv_ok, errors=rec.errors_n + rec.iv_err,
                          stream=rec.stream.snapshot() if rec.stream is not None else None)

    def _cur(self) -> StageRecording:
        if self._current is None:
            raise RuntimeError("recorder: no stage begun")
        return self._current

    # -- the current stage, for callers that record one stage at a time --------------
    def ok(self, latency_us: int, status: int | None = None, payload: int = 0) -> None:
        self._cur().ok(latency_us, status, payload)

    def error(self, kind: str, latency_us: int, status: int | None = None,
              payload: int = 0) -> None:
        self._cur().error(kind, latency_us, status, payload)

    def ok_by_input(self, latency_us: int, status: int | None = None, payload: int = 0) -> None:
        self._cur().ok_by_input(latency_us, status, payload)

    def error_by_input(self, kind: str, latency_us: int, status: int | None = None,
                       payload: int = 0) -> None:
        self._cur().error_by_input(kind, latency_us, status, payload)

    def status(self, status: int) -> None:
        """Count a response status without recording a request (rarely needed)."""
        codes = self._cur().codes
        codes[status] = codes.get(status, 0) + 1

    def late(self, n: int = 1) -> None:
        self._cur().late(n)

    @property
    def stage_requests(self) -> int:
        """Requests completed so far in the current stage (flushed or not)."""
        return self._current.requests if self._current is not None else 0

    @property
    def current_stream(self) -> StreamRecording | None:
        """The current stage's stream recording (None: no stage, or not a streaming one)."""
        return self._current.stream if self._current is not None else None

    @property
    def stage_histogram(self) -> LatencyHistogram:
        """The current stage's successes' histogram as of the last tick."""
        return self._current.hist if self._current is not None else LatencyHistogram()

    # -- once a second -------------------------------------------------------------
    def tick(self) -> Interval | None:
        """Close the current second: flush every open stage, summarise them in one Interval."""
        now = self._wall()
        iv_hist = LatencyHistogram()
        iv_hist.record_many(self._carry)
        ok, err = self._carry_ok, self._carry_err
        empty = not (ok or err)
        self._carry, self._carry_ok, self._carry_err = [], 0, 0
        streams, self._carry_streams = self._carry_streams, []
        for rec in self._open:
            buf, rec_ok, rec_err = rec.flush()
            if rec_ok or rec_err:
                empty = False
            if buf:
                iv_hist.record_many(buf)
            ok += rec_ok
            err += rec_err
            if rec.stream is not None:
                streams.append(rec.stream.flush())
        span = max(now - self._iv_start, 1e-9)
        t0 = self._profile_t0 if self._profile_t0 is not None else self._iv_start
        start = self._iv_start
        self._iv_start = now
        if span < 0.05 and empty:
            return None
        iv = Interval(
            t=round(start, 3),
            elapsed_s=round(start - t0, 3),
            stage=self._label_index,
            requests=ok + err,
            ok=ok,
            errors=err,
            rps=round(ok / span, 3),            # successes a second, as throughput_rps
            p50_ms=iv_hist.percentile_us(50) / 1000.0,
            p90_ms=iv_hist.percentile_us(90) / 1000.0,
            p95_ms=iv_hist.percentile_us(95) / 1000.0,
            p99_ms=iv_hist.percentile_us(99) / 1000.0,
            max_ms=iv_hist.max_us / 1000.0,
            **_second(streams),
        )
        self.intervals.append(iv)
        return iv
