"""Recorder: a profile's requests in, StageResults and per-second Intervals out.

The engine records each request in the stage that issued it, through that stage's
``StageRecording`` (``stage_recording.py``: the per-request hot path, a list
append and a couple of counter bumps). Once a second (``tick``) every open
stage's buffer is added to that stage's HDR histogram in one numpy pass and the
second is summarised into one Interval, so the hot path makes no Python-level HDR
call and memory stays flat in run length: one histogram per stage plus one small
Interval per second. Consecutive stages may overlap (a request is recorded in the
stage that issued it, while the next stage is already issuing); the Interval
series stays one continuous series. Per-second Intervals summarise the successes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import Interval, StageResult
from loadkit.results.stage_recording import InputBuckets, StageMeta, StageRecording
from loadkit.results.streams import StreamRecording, second_fields

__all__ = ["InputBuckets", "Recorder", "StageMeta", "StageRecording"]


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
