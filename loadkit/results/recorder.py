"""Recorder: Samples in, StageResults and per-second Intervals out.

The engine calls ``ok``/``error`` once per request; those only append an integer
to a buffer and bump counters. Once a second (``tick``) the buffer is added to the
stage's HDR histogram in one numpy pass and summarised into an Interval, so the
hot path makes no Python-level HDR call and memory stays flat in run length:
one histogram per stage plus one small Interval per second.

Every request's latency is recorded, errors included (time until the error),
so a stage's histogram count always equals its request count.

Latency by input: after ``begin_breakdown`` the engine records through
``ok_by_input`` / ``error_by_input``, which also note the payload index; each
tick then splits the second's latencies by the payloads' buckets into one HDR
histogram per bucket. Stages without a breakdown never touch any of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import BreakdownBucket, Interval, LatencySummary, StageResult


@dataclass(frozen=True)
class StageMeta:
    """What the recorder needs to know about the stage it is recording."""

    index: int
    label: str
    concurrency: int | None = None
    rate: float | None = None
    warmup: bool = False
    batch_size: int = 1


class InputBuckets:
    """One histogram per input bucket of a stage; filled once a tick from (latency, payload)."""

    def __init__(self, key: str, labels: Sequence[str], ranges: Sequence[tuple[float, float]],
                 bucket_of_payload: np.ndarray, unit: str = "") -> None:
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
        h.record_many([1, 2])
        h.percentile_us(50)
        LatencyHistogram().add(h)
        _warm = True


class Recorder:
    """Aggregates one profile's requests; not thread-safe (one per event loop)."""

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        _warm_up()
        self._wall = wall_clock
        self.intervals: list[Interval] = []
        self.stages: list[StageResult] = []
        self._meta: StageMeta | None = None
        self._profile_t0: float | None = None
        self._reset_stage()

    def _reset_stage(self) -> None:
        self._buf: list[int] = []
        self._hist = LatencyHistogram()
        self._ok = 0
        self._errors = 0
        self._kinds: dict[str, int] = {}
        self._codes: dict[int, int] = {}
        self._late = 0
        self._iv_ok = 0
        self._iv_err = 0
        self._iv_start = self._wall()
        self._stage_started = self._iv_start
        self._marks: list[int] = []
        self._inputs: InputBuckets | None = None

    # -- hot path ----------------------------------------------------------------
    # Each call is a list append and a couple of integer bumps (~70 ns); the HDR
    # work happens once a second in ``tick``. Status codes are counted under int
    # keys here and turned into strings only when the stage is frozen.
    # ``payload`` (the body's index) is taken and ignored so the engine calls both
    # these and the by-input pair the same way, bound once before its loop.
    def ok(self, latency_us: int, status: int | None = None, payload: int = 0) -> None:
        self._buf.append(latency_us)
        self._iv_ok += 1
        if status is not None:
            codes = self._codes
            codes[status] = codes.get(status, 0) + 1

    def error(self, kind: str, latency_us: int, status: int | None = None,
              payload: int = 0) -> None:
        self._buf.append(latency_us)
        self._iv_err += 1
        kinds = self._kinds
        kinds[kind] = kinds.get(kind, 0) + 1
        if status is not None:
            codes = self._codes
            codes[status] = codes.get(status, 0) + 1

    # The by-input pair: the same, plus the payload index in step with ``_buf``
    # (``~payload`` for an error, so one list carries both).
    def ok_by_input(self, latency_us: int, status: int | None = None, payload: int = 0) -> None:
        self._buf.append(latency_us)
        self._marks.append(payload)
        self._iv_ok += 1
        if status is not None:
            codes = self._codes
            codes[status] = codes.get(status, 0) + 1

    def error_by_input(self, kind: str, latency_us: int, status: int | None = None,
                       payload: int = 0) -> None:
        self._buf.append(latency_us)
        self._marks.append(~payload)
        self._iv_err += 1
        kinds = self._kinds
        kinds[kind] = kinds.get(kind, 0) + 1
        if status is not None:
            codes = self._codes
            codes[status] = codes.get(status, 0) + 1

    def status(self, status: int) -> None:
        """Count a response status without recording a request (rarely needed)."""
        self._codes[status] = self._codes.get(status, 0) + 1

    def late(self, n: int = 1) -> None:
        self._late += n

    # -- once a second -------------------------------------------------------------
    def begin_stage(self, meta: StageMeta) -> None:
        self._meta = meta
        self._reset_stage()
        if self._profile_t0 is None:
            self._profile_t0 = self._stage_started

    def begin_breakdown(self, key: str, labels: Sequence[str],
                        ranges: Sequence[tuple[float, float]],
                        bucket_of_payload: np.ndarray | Sequence[int], unit: str = "") -> None:
        """Record the current stage by input too; call after ``begin_stage``, before any request.

        ``bucket_of_payload[i]`` is payload i's bucket (-1: none); the engine must
        then record through ``ok_by_input`` / ``error_by_input`` only.
        """
        self._inputs = InputBuckets(key, labels, ranges, np.asarray(bucket_of_payload), unit)
        self._marks = []

    @property
    def stage_requests(self) -> int:
        """Requests completed so far in the current stage (flushed or not)."""
        return self._ok + self._errors + self._iv_ok + self._iv_err

    def tick(self) -> Interval | None:
        """Close the current second: flush the buffer into the histogram, summarise it."""
        now = self._wall()
        buf, self._buf = self._buf, []
        if self._inputs is not None:
            marks, self._marks = self._marks, []
            if len(marks) != len(buf):  # a plain ok()/error() during a by-input stage: a bug
                raise RuntimeError("recorder: a by-input stage recorded a request without its input")
            self._inputs.add(buf, marks)
        iv_hist = LatencyHistogram()
        iv_hist.record_many(buf)
        self._hist.add(iv_hist)
        ok, err = self._iv_ok, self._iv_err
        self._ok += ok
        self._errors += err
        self._iv_ok = self._iv_err = 0
        span = max(now - self._iv_start, 1e-9)
        t0 = self._profile_t0 if self._profile_t0 is not None else self._iv_start
        start = self._iv_start
        self._iv_start = now
        if span < 0.05 and not buf:
            return None
        iv = Interval(
            t=round(start, 3),
            elapsed_s=round(start - t0, 3),
            stage=self._meta.index if self._meta else 0,
            requests=ok + err,
            ok=ok,
            errors=err,
            rps=round((ok + err) / span, 3),
            p50_ms=iv_hist.percentile_us(50) / 1000.0,
            p90_ms=iv_hist.percentile_us(90) / 1000.0,
            p95_ms=iv_hist.percentile_us(95) / 1000.0,
            p99_ms=iv_hist.percentile_us(99) / 1000.0,
            max_ms=iv_hist.max_us / 1000.0,
        )
        self.intervals.append(iv)
        return iv

    def end_stage(self, duration_s: float, *, stable: bool | None = None,
                  in_flight: int = 0) -> StageResult:
        """Flush and freeze the current stage into a StageResult."""
        self.tick()
        meta = self._meta or StageMeta(index=len(self.stages), label="")
        requests = self._ok + self._errors
        duration = max(duration_s, 1e-9)
        result = StageResult(
            index=meta.index,
            label=meta.label,
            concurrency=meta.concurrency,
            rate=meta.rate,
            warmup=meta.warmup,
            duration_s=round(duration_s, 3),
            requests=requests,
            ok=self._ok,
            errors=self._errors,
            error_kinds=dict(sorted(self._kinds.items())),
            late=self._late,
            throughput_rps=round(requests / duration, 3),
            rows_per_s=round(self._ok * meta.batch_size / duration, 3),
            latency_ms=LatencySummary.of(self._hist),
            histogram=self._hist.encode(),
            batch_size=meta.batch_size,
            started_at=round(self._stage_started, 3),
            status_codes={str(k): v for k, v in sorted(self._codes.items())},
            overflow=self._hist.overflow,
            stable=stable,
            in_flight_at_end=in_flight,
            breakdown=self._inputs.results() if self._inputs is not None else (),
        )
        self.stages.append(result)
        self._meta = None
        self._inputs = None
        return result

    @property
    def stage_histogram(self) -> LatencyHistogram:
        """The current stage's histogram as of the last tick."""
        return self._hist
