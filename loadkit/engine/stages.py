"""The stage conductor: runs one Stage from its start to its StageResult.

Called by ``run.py`` for each stage, on the run's loop, in three steps so that
consecutive stages hand over without a gap:

1. ``start_stage`` begins the stage's recording and starts its senders (workers
   for a closed stage, the pacer for an open one) and a once-a-second ticker
   (recorder tick -> Interval -> ``on_interval``, stability check), at ``t0_ns``:
   where the previous stage's schedule ended.
2. ``stop_issuing`` returns when the stage stops issuing (its schedule's end,
   request count, stability, signal or abort). The next stage starts right then;
   this stage's requests still out keep completing and are recorded in *this*
   stage (each sender records into its own stage's ``StageRecording``).
3. ``finish_stage`` (a task beside the next stage) waits for them and freezes the
   stage's StageResult, in stage order. ``close_ticker`` ends the stage's
   per-second ticks when the next stage takes over (the series stays one
   continuous series; seconds after a handover carry the previous stage's last
   completions too: an overload's backlog shows in the seconds that follow it).

Draining: after a normal end, requests still out get the request timeout plus a
second (the transport's own timeout ends them first, so every issued request is
recorded); after a signal or abort they get at most ``SHORT_GRACE_S`` and the
rest are cancelled and counted as ``in_flight_at_end`` (abandoned, not errors).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from time import perf_counter_ns
from typing import TYPE_CHECKING

import numpy as np

from loadkit.engine.control import ABORT, DEADLINE, INTERRUPT, STABLE, InFlight, StageControl
from loadkit.engine.health import ClientWork, HealthMonitor, OpenStageReport
from loadkit.engine.pacer import PacerStats, default_max_in_flight, pace
from loadkit.engine.redirects import CURRENT_TALLY
from loadkit.engine.server_timing import ServerTimingRecorder, with_server_timing
from loadkit.engine.stability import is_stable, min_duration_s
from loadkit.engine.stream_settle import StreamContext, StreamSettle
from loadkit.engine.workers import start_workers
from loadkit.results.model import Interval, StageResult
from loadkit.results.recorder import Recorder, StageMeta, StageRecording
from loadkit.scenario.plan import InputBreakdown, RequestSpec, Stage

if TYPE_CHECKING:
    from loadkit.engine.transport import Transport

SHORT_GRACE_S = 2.0
DEADLINE_SLACK_S = 0.05      # an open stage's deadline timer backs up its pacer's own end

IntervalHook = Callable[[Interval, Stage], bool]


@dataclass(eq=False)
class RunState:
    """What every stage of one run shares; flags are set by signals and hooks."""

    transport: Transport
    recorder: Recorder
    request: RequestSpec
    batches: dict[int, tuple[int, int]]          # batch_size -> (offset, count) in the payloads
    health: HealthMonitor
    breakdowns: Mapping[tuple[str, int], InputBreakdown] = field(default_factory=dict)
    bodies: tuple[bytes, ...] = ()               # the combined payloads (for by-input buckets)
    streams: StreamContext | None = None         # a streaming endpoint's shared reading state
    on_interval: IntervalHook | None = None
    current: StageControl | None = None
    interrupted: bool = False
    aborted: bool = False
    hook_error: BaseException | None = None
    late: int = 0
    results: list[StageResult] = field(default_factory=list)
    slots: InFlight = field(default_factory=InFlight)  # requests out, every stage's
    hurry_at: float | None = None                # loop time of the first signal / abort

    def _hurry(self) -> None:
        if self.hurry_at is None:
            self.hurry_at = asyncio.get_running_loop().time()

    def interrupt(self) -> None:
        """First SIGINT/SIGTERM: the current stage stops issuing; no stage follows."""
        self.interrupted = True
        self._hurry()
        if self.current is not None:
            self.current.request_stop(INTERRUPT)

    def abort(self) -> None:
        """``on_interval`` said stop: end the current stage now and skip the rest."""
        self.aborted = True
        self._hurry()
        if self.current is not None:
            self.current.request_stop(ABORT)


def max_in_flight_of(stage: Stage, request: RequestSpec) -> int:
    """The stage's in-flight bound (closed: its concurrency)."""
    if stage.concurrency is not None:
        return stage.concurrency
    if stage.max_in_flight is not None:
        return stage.max_in_flight
    assert stage.rate is not None
    return default_max_in_flight(stage.rate, request.timeout_s)


@dataclass
class _Ending:
    stable: bool | None
    min_s: float
    duration_s: float | None


def _ending(stage: Stage) -> _Ending:
    """When the stage may end: its duration, or its stability window rule."""
    rule = stage.stability
    if rule is None:
        return _Ending(None, 0.0, stage.duration_s)
    min_s = max(stage.duration_s or 0.0, float(min_duration_s(rule)))
    return _Ending(False, min_s, max(rule.max_duration_s, min_s))


@dataclass(eq=False)
class StageRun:
    """One stage between ``start_stage`` and ``finish_stage``."""

    stage: Stage
    ctl: StageControl
    sink: StageRecording
    t0_ns: int                                   # perf_counter_ns at the schedule's start
    ending: _Ending
    stats: PacerStats | None
    senders: list[asyncio.Task[None]]
    in_flight_tasks: set[asyncio.Task[None]]
    intervals: list[Interval] = field(default_factory=list)
    ticker: asyncio.Task[None] | None = None
    deadline: asyncio.TimerHandle | None = None
    end_ns: int = 0                              # where its schedule ended (issuing stopped)
    pending: list[asyncio.Task[None]] = field(default_factory=list)
    finisher: asyncio.Task[StageResult] | None = None
    report: OpenStageReport | None = None        # what its pacer managed (open stages)

    def elapsed_s(self) -> float:
        return max(0, perf_counter_ns() - self.t0_ns) / 1e9


async def start_stage(stage: Stage, run: RunState, t0_ns: int | None = None) -> StageRun:
    """Begin ``stage`` at ``t0_ns`` (``perf_counter_ns``; default now) and start its senders."""
    loop = asyncio.get_running_loop()
    if t0_ns is None:
        t0_ns = perf_counter_ns()
    elif t0_ns - perf_counter_ns() > 1_000_000:
        await asyncio.sleep((t0_ns - perf_counter_ns()) / 1e9)
    started_at = time.time() - (perf_counter_ns() - t0_ns) / 1e9
    offset, count = run.batches[stage.batch_size]
    sink = run.recorder.begin_stage(StageMeta(index=stage.index, label=stage.label,
                                              concurrency=stage.concurrency, rate=stage.rate,
                                              warmup=stage.warmup, batch_size=stage.batch_size,
                                              role=stage.role),
                                    started_at=started_at)
    ctl = StageControl(run.transport, sink, run.request.checks, offset, count, slots=run.slots)
    if run.streams is not None:
        ctl.stream = StreamSettle(run.streams, sink.begin_streams(stage.slo is not None),
                                  stage.slo)
    run.current = ctl
    if run.request.server_timing is not None:
        ctl.tally.server_timing = ServerTimingRecorder(run.request.server_timing)
    if stage.breakdown is not None:
        _record_by_input(stage, run, ctl)
    ending = _ending(stage)
    stats: PacerStats | None = None
    in_flight_tasks: set[asyncio.Task[None]] = set()
    # The senders' tasks copy this context: a transport that follows a redirect (or
    # decompresses) adds to this stage's tally from inside the request.
    token = CURRENT_TALLY.set(ctl.tally)
    try:
        if stage.is_open:
            assert stage.rate is not None
            stats = PacerStats()
            senders = [asyncio.ensure_future(pace(ctl, stage.rate, stage.requests,
                                                  ending.duration_s,
                                                  max_in_flight_of(stage, run.request), stats,
                                                  in_flight_tasks, t0_ns=t0_ns))]
        else:
            assert stage.concurrency is not None
            senders = start_workers(ctl, stage.concurrency, stage.requests)
    finally:
        CURRENT_TALLY.reset(token)
    sr = StageRun(stage, ctl, sink, t0_ns, ending, stats, senders, in_flight_tasks)
    if ending.duration_s is not None:
        # The pacer ends its own schedule on time; this is its backstop (and the
        # closed model's end).
        slack_s = DEADLINE_SLACK_S if stage.is_open else 0.0
        sr.deadline = loop.call_later(max(0.0, ending.duration_s + slack_s - sr.elapsed_s()),
                                      ctl.request_stop, DEADLINE)
    run.health.between_stages()
    sr.ticker = asyncio.ensure_future(_tick(sr, run))
    if run.interrupted:
        ctl.request_stop(INTERRUPT)
    elif run.aborted:
        ctl.request_stop(ABORT)
    return sr


async def stop_issuing(sr: StageRun, run: RunState) -> None:
    """Return once ``sr`` stops issuing; its requests still out are left to complete."""
    ctl, stats = sr.ctl, sr.stats
    try:
        await ctl.stop.wait()
    finally:
        if sr.deadline is not None:
            sr.deadline.cancel()
    if stats is not None:
        await _cancel(sr.senders)              # the pacer (its requests are tasks of their own)
        sr.pending = list(sr.in_flight_tasks)
        if stats.end_ns:
            sr.end_ns = stats.end_ns          # the schedule ran to its end
        elif ctl.reason == DEADLINE and sr.ending.duration_s is not None:
            sr.end_ns = sr.t0_ns + int(sr.ending.duration_s * 1e9)
        else:
            sr.end_ns = perf_counter_ns()     # stopped early: stable, signal or abort
        run.health.flush(stats.lag_ns)
        sr.sink.late(stats.late)
        run.late += stats.late
        run.health.add_late(stats.late)
        sr.report = _open_report(sr.stage, stats, ctl.issued)
    else:
        sr.pending = list(sr.senders)          # each worker finishes its request, then exits
        sr.end_ns = perf_counter_ns()
    if sr.ending.stable is False and ctl.reason == STABLE:
        sr.ending.stable = True
    if run.current is ctl:
        run.current = None


def snapshot(sr: StageRun, run: RunState) -> StageResult:
    """The stage as of its end time: requests completed so far (``in_flight_at_end``: still out).

    What ``continue_after`` judges: deciding on the complete stage would mean
    waiting for its slowest requests before the next stage starts.
    """
    return run.recorder.snapshot(sr.sink, sr.elapsed_s(), in_flight=sr.ctl.in_flight)


async def finish_stage(sr: StageRun, run: RunState,
                       previous: asyncio.Task[StageResult] | None) -> StageResult:
    """Wait for the stage's last requests, then freeze its StageResult (after ``previous``)."""
    not_done = await _drain(sr.pending, run)
    await _cancel(list(not_done))
    in_flight_at_end = sr.ctl.abandon()
    elapsed = sr.elapsed_s()
    _raise_bug(sr.senders)
    if previous is not None:
        await previous                          # results (and the recorder's stages) in order
    result = run.recorder.finish(sr.sink, elapsed, stable=sr.ending.stable,
                                 in_flight=in_flight_at_end)
    if sr.ctl.tally.redirects:
        result = replace(result, redirects=sr.ctl.tally.redirects)
    if sr.ctl.tally.server_timing is not None:
        result = with_server_timing(result, sr.ctl.tally.server_timing)
    if sr.report is not None:               # judged once the stage's p99 is known
        run.health.open_stage(replace(sr.report, p99_ms=result.latency_ms.p99))
    tally = sr.ctl.tally
    if sr.ctl.checked or tally.decompressed:
        run.health.client_work(ClientWork(sr.stage.label or str(sr.stage.index),
                                          sr.stage.warmup, elapsed, sr.ctl.check_ns,
                                          sr.ctl.checked, result.latency_ms.p50,
                                          tally.decompress_ns, tally.decompressed))
    run.health.between_stages()
    run.results.append(result)
    return result


def close_ticker(sr: StageRun, run: RunState) -> None:
    """End the stage's per-second ticks with one last (partial) interval.

    Synchronous, so a handover does not yield to the loop between one stage's
    end and the next one's start (the ticker is asleep: cancelling it is enough).
    """
    if sr.ticker is not None:
        sr.ticker.cancel()
        sr.ticker = None
    if sr.stats is not None:
        run.health.flush(sr.stats.lag_ns)
    last = run.recorder.tick()
    if last is not None:
        _hook(run, last, sr.stage)


def _record_by_input(stage: Stage, run: RunState, ctl: StageControl) -> None:
    """Switch the stage's recording to by-input, each payload looked up by its body once here."""
    assert stage.breakdown is not None
    found = run.breakdowns.get((stage.breakdown, stage.batch_size))
    if found is None:
        return                                    # no payload set carries this key: plain stage
    lookup = found.bucket_of_body()
    buckets = np.full(len(run.bodies), -1, dtype=np.int64)
    for i in range(ctl.offset, ctl.offset + ctl.count):
        buckets[i] = lookup.get(run.bodies[i], -1)
    run.recorder.begin_breakdown(found.measure, found.labels, found.ranges, buckets, found.unit)
    ctl.record_by_input()


def _open_report(stage: Stage, stats: PacerStats, issued: int) -> OpenStageReport:
    assert stage.rate is not None
    issuing_s = max(0, stats.stopped_ns - stats.t0_ns) / 1e9
    scheduled = int(issuing_s * stage.rate + 0.999)
    if stage.requests is not None:
        scheduled = min(scheduled, stage.requests)
    return OpenStageReport(label=stage.label or str(stage.index), rate=stage.rate,
                           scheduled=max(scheduled, issued), issued=issued,
                           far_behind=stats.far_behind, warmup=stage.warmup,
                           slot_waits=stats.slot_waits,
                           behind_windows=len(stats.behind_windows),
                           windows=max(1, math.ceil(issuing_s / 0.1 - 1e-9)),
                           behind_lag_ms=round(stats.behind_lag_ns / max(1, stats.far_behind)
                                               / 1e6, 3))


async def _tick(sr: StageRun, run: RunState) -> None:
    """Once a second from the stage's start: close the recorder's interval, tell the hook,
    check stability."""
    rule = sr.stage.stability
    duration_s = sr.ending.duration_s
    k = 1
    while True:
        await asyncio.sleep(max(0.0, (sr.t0_ns + k * 1_000_000_000 - perf_counter_ns()) / 1e9))
        if duration_s is not None and k >= duration_s - 0.001 and not sr.ctl.stopping:
            # The stage's end is due now: its handover closes this second (one tick,
            # not two a few ms apart, and not work for the loop at the handover).
            await sr.ctl.stop.wait()
        k += 1
        run.health.flush(sr.stats.lag_ns if sr.stats is not None else [])
        iv = run.recorder.tick()
        if iv is None:
            continue
        sr.intervals.append(iv)
        _hook(run, iv, sr.stage)
        if (rule is not None and sr.elapsed_s() >= sr.ending.min_s - 0.5
                and is_stable(sr.intervals, rule)):
            sr.ctl.request_stop(STABLE)


def _hook(run: RunState, iv: Interval, stage: Stage) -> None:
    if run.on_interval is None or run.hook_error is not None:
        return
    try:
        keep = run.on_interval(iv, stage)
    except Exception as exc:  # noqa: BLE001 -- re-raised by run_stages once the run is cleaned up
        run.hook_error = exc
        run.abort()
        return
    if keep is False:
        run.abort()


async def _drain(pending: list[asyncio.Task[None]], run: RunState) -> set[asyncio.Task[None]]:
    """Let in-flight requests finish; returns the ones still running when time is up.

    A normal end allows the request timeout plus a second. A signal or abort
    (now, or arriving during the drain) cuts that to ``SHORT_GRACE_S`` from the
    moment it came, so Ctrl-C always ends a run within a few seconds.
    """
    loop = asyncio.get_running_loop()
    now = loop.time()
    ends = now + run.request.timeout_s + 1.0
    left = set(pending)
    while left:
        if run.hurry_at is not None:
            ends = min(ends, run.hurry_at + SHORT_GRACE_S)
        wait_s = ends - loop.time()
        if wait_s <= 0:
            break
        _, left = await asyncio.wait(left, timeout=min(wait_s, 0.25))
    return left


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    live = [t for t in tasks if not t.done()]
    for t in live:
        t.cancel()
    if live:
        await asyncio.gather(*live, return_exceptions=True)


def _raise_bug(tasks: list[asyncio.Task[None]]) -> None:
    """A sender that died of an exception is a bug: surface it, don't hide it."""
    for t in tasks:
        if t.done() and not t.cancelled() and t.exception() is not None:
            raise t.exception()  # type: ignore[misc]
