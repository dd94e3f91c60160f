"""The stage conductor: runs one Stage from start to StageResult.

Called by ``run.py`` once per stage, on the run's loop. It starts the senders
(workers for a closed stage, the pacer for an open one) and a once-a-second
ticker (recorder tick -> Interval -> ``on_interval``, stability check), waits
until the stage stops issuing (deadline, request count, stability, signal or
abort), drains in-flight requests, and freezes the stage in the Recorder.

Draining: after a normal end, in-flight requests get the request timeout plus a
second (the transport's own timeout ends them first, so every issued request is
recorded); after a signal or abort they get at most ``SHORT_GRACE_S`` and the
rest are cancelled and counted as ``in_flight_at_end`` (abandoned, not errors).
"""

from __future__ import annotations

import asyncio

import numpy as np
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from loadkit.engine.control import ABORT, DEADLINE, INTERRUPT, STABLE, StageControl
from loadkit.engine.health import HealthMonitor, OpenStageReport
from loadkit.engine.pacer import PacerStats, default_max_in_flight, pace
from loadkit.engine.stability import is_stable, min_duration_s
from loadkit.engine.workers import start_workers
from loadkit.results.model import Interval, StageResult
from loadkit.results.recorder import Recorder, StageMeta
from loadkit.scenario.plan import InputBreakdown, RequestSpec, Stage

if TYPE_CHECKING:
    from loadkit.engine.transport import Transport

SHORT_GRACE_S = 2.0

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
    on_interval: IntervalHook | None = None
    current: StageControl | None = None
    interrupted: bool = False
    aborted: bool = False
    hook_error: BaseException | None = None
    late: int = 0
    results: list[StageResult] = field(default_factory=list)
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


async def run_stage(stage: Stage, run: RunState) -> StageResult:
    """Run ``stage`` to its end and return its StageResult (partial when interrupted)."""
    loop = asyncio.get_running_loop()
    offset, count = run.batches[stage.batch_size]
    ctl = StageControl(run.transport, run.recorder, run.request.checks, offset, count)
    run.current = ctl
    rec = run.recorder
    rec.begin_stage(StageMeta(index=stage.index, label=stage.label,
                              concurrency=stage.concurrency, rate=stage.rate,
                              warmup=stage.warmup, batch_size=stage.batch_size))
    if stage.breakdown is not None:
        _record_by_input(stage, run, ctl)
    ending = _ending(stage)
    started = loop.time()
    deadline = (loop.call_later(ending.duration_s, ctl.request_stop, DEADLINE)
                if ending.duration_s is not None else None)

    stats: PacerStats | None = None
    in_flight_tasks: set[asyncio.Task[None]] = set()
    if stage.is_open:
        assert stage.rate is not None
        stats = PacerStats()
        senders = [asyncio.ensure_future(pace(ctl, stage.rate, stage.requests, ending.duration_s,
                                              max_in_flight_of(stage, run.request), stats,
                                              in_flight_tasks))]
    else:
        assert stage.concurrency is not None
        senders = start_workers(ctl, stage.concurrency, stage.requests)
    run.health.between_stages()
    intervals: list[Interval] = []
    ticker = asyncio.ensure_future(_tick(stage, run, ctl, stats, started, intervals, ending))
    if run.interrupted:
        ctl.request_stop(INTERRUPT)
    elif run.aborted:
        ctl.request_stop(ABORT)
    try:
        await ctl.stop.wait()
        if stats is not None:
            await _cancel(senders)
            pending: list[asyncio.Task[None]] = list(in_flight_tasks)
        else:
            pending = senders
        not_done = await _drain(pending, run)
        in_flight_at_end = ctl.in_flight if not_done else 0
        await _cancel(list(not_done))
    finally:
        if deadline is not None:
            deadline.cancel()
        await _cancel([ticker, *senders])
        run.current = None
    _raise_bug(senders)
    elapsed = loop.time() - started

    if stats is not None:
        run.health.flush(stats.lag_ns)
        rec.late(stats.late)
        run.late += stats.late
        run.health.add_late(stats.late)
        run.health.open_stage(_open_report(stage, stats, ctl.issued))
    last = rec.tick()
    if last is not None:
        _hook(run, last, stage)
    if ending.stable is not None and not ending.stable and ctl.reason == STABLE:
        ending.stable = True
    result = rec.end_stage(elapsed, stable=ending.stable, in_flight=in_flight_at_end)
    run.health.between_stages()
    run.results.append(result)
    return result


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
                           slot_waits=stats.slot_waits)


async def _tick(stage: Stage, run: RunState, ctl: StageControl, stats: PacerStats | None,
                started: float, intervals: list[Interval], ending: _Ending) -> None:
    """Once a second: close the recorder's interval, tell the hook, check stability."""
    loop = asyncio.get_running_loop()
    rule = stage.stability
    k = 1
    while True:
        await asyncio.sleep(max(0.0, started + k - loop.time()))
        k += 1
        run.health.flush(stats.lag_ns if stats is not None else [])
        iv = run.recorder.tick()
        if iv is None:
            continue
        intervals.append(iv)
        _hook(run, iv, stage)
        if (rule is not None and loop.time() - started >= ending.min_s - 0.5
                and is_stable(intervals, rule)):
            ctl.request_stop(STABLE)


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
