"""``run_stages``: the engine's one synchronous entry point (called by the runner).

It takes Stages, the request and the pre-encoded payloads, makes one event loop
(uvloop when installed), one transport with a pool sized to the run's largest
concurrency / in-flight bound, one Recorder, and runs the stages in order. It
returns an ``EngineRun``: the stages' results, the per-second timeseries, the
generator's health and how the run ended. Nothing here prints; ``on_interval``
is how a progress display sees data.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from loadkit.engine.factory import make_transport, resolve_transport
from loadkit.engine.health import HealthMonitor
from loadkit.engine.loop import new_event_loop, raise_open_files_limit
from loadkit.engine.signals import SignalGuard
from loadkit.engine.stages import (
    IntervalHook,
    RunState,
    StageRun,
    close_ticker,
    finish_stage,
    max_in_flight_of,
    snapshot,
    start_stage,
    stop_issuing,
)
from loadkit.errors import UsageError
from loadkit.results.model import GeneratorHealth, Interval, StageResult
from loadkit.results.recorder import Recorder
from loadkit.scenario.plan import InputBreakdown, PayloadSet, RequestSpec, Stage

ContinueHook = Callable[[StageResult, Stage], bool]


@dataclass(frozen=True)
class EngineRun:
    """What one ``run_stages`` call measured and how it ended."""

    stages: tuple[StageResult, ...]
    timeseries: tuple[Interval, ...]
    health: GeneratorHealth
    interrupted: bool
    aborted: bool
    transport: str
    started_at: float
    finished_at: float


def combine_payloads(payloads: Mapping[int, PayloadSet]
                     ) -> tuple[PayloadSet, dict[int, tuple[int, int]]]:
    """One PayloadSet holding every batch size's bodies, and where each batch sits in it.

    One transport serves the whole run (its pool and its pre-built requests), so
    the bodies of all batch sizes go in one indexed set; a stage then draws from
    ``offset .. offset + count``. An empty set (e.g. a GET) gets one empty body.
    """
    bodies: list[bytes] = []
    sizes: list[int] = []
    where: dict[int, tuple[int, int]] = {}
    content_type = "application/json"
    for batch, ps in sorted(payloads.items()):
        items = list(ps.bodies) or [b""]
        where[batch] = (len(bodies), len(items))
        bodies.extend(items)
        sizes.extend(len(b) for b in items)
        content_type = ps.content_type
    if not bodies:
        bodies, sizes, where = [b""], [0], {1: (0, 1)}
    return PayloadSet(batch_size=min(where), bodies=tuple(bodies), content_type=content_type,
                      payload_bytes=tuple(sizes)), where


def stage_breakdowns(stages: Sequence[Stage], payloads: Mapping[int, PayloadSet]
                     ) -> dict[tuple[str, int], InputBreakdown]:
    """(key, batch_size) -> InputBreakdown, for the stages that record latency by input."""
    out: dict[tuple[str, int], InputBreakdown] = {}
    for s in stages:
        if s.breakdown is None or s.batch_size not in payloads:
            continue
        found = payloads[s.batch_size].breakdown(s.breakdown)
        if found is not None:
            out[(s.breakdown, s.batch_size)] = found
    return out


def validate_stages(stages: Sequence[Stage], batches: Mapping[int, object]) -> None:
    """Refuse a stage the engine cannot run, naming it (nothing is sent)."""
    for s in stages:
        name = f"stage {s.label or s.index}"
        if (s.concurrency is None) == (s.rate is None):
            raise UsageError(f"{name}: set exactly one of concurrency or rate")
        if s.concurrency is not None and s.concurrency < 1:
            raise UsageError(f"{name}: concurrency must be at least 1 (got {s.concurrency})")
        if s.rate is not None and not s.rate > 0:
            raise UsageError(f"{name}: rate must be positive (got {s.rate})")
        if s.duration_s is None and s.requests is None and s.stability is None:
            raise UsageError(f"{name}: needs a duration, a request count or stability windows")
        if s.duration_s is not None and not s.duration_s > 0:
            raise UsageError(f"{name}: duration must be positive (got {s.duration_s})")
        if s.requests is not None and s.requests < 1:
            raise UsageError(f"{name}: requests must be at least 1 (got {s.requests})")
        if s.max_in_flight is not None and s.max_in_flight < 1:
            raise UsageError(f"{name}: max_in_flight must be at least 1 (got {s.max_in_flight})")
        if s.batch_size not in batches:
            raise UsageError(f"{name}: no payloads were built for batch_size {s.batch_size}")


def pool_size(stages: Sequence[Stage], request: RequestSpec) -> int:
    """Connections the run may need at once.

    An open stage's ``max_in_flight`` bounds every request out, the previous
    stage's last ones included; a closed stage's workers start while the previous
    stage's last requests complete, so they may need that many more at a handover.
    """
    bounds = [max_in_flight_of(s, request) for s in stages]
    closed_after_first = [s.concurrency for s in stages[1:] if s.concurrency is not None]
    return max(bounds, default=1) + max(closed_after_first, default=0)


def run_stages(stages: Sequence[Stage], request: RequestSpec, payloads: Mapping[int, PayloadSet],
               *, transport: str = "auto", on_interval: IntervalHook | None = None,
               continue_after: ContinueHook | None = None, handle_signals: bool = True,
               processes: int | str = 1) -> EngineRun:
    """Run ``stages`` in order against ``request`` and return what was measured.

    ``on_interval`` is called once a second (False aborts the run);
    ``continue_after`` after each stage, with the stage as of its end time
    (requests completed by then; ``in_flight_at_end`` counts those still out),
    so that it decides before the next stage starts (False skips the remaining
    stages except those with ``always_run``); the returned ``EngineRun.stages``
    hold every stage complete. Consecutive stages hand over without a gap: an
    open stage's schedule starts where the previous one's ended, and a request
    is recorded in the stage it was issued in, whenever it completes. With ``handle_signals`` the first SIGINT/SIGTERM
    ends the run gracefully (``interrupted=True``, the current stage partial) and
    a second raises KeyboardInterrupt. ``processes`` > 1 (or "auto" on a
    multi-core host) hands the run to ``loadkit.engine.processes`` (one loop per
    process, results merged exactly).
    """
    if processes != 1:
        from loadkit.engine import processes as multi  # lazily: spawns processes

        n = multi.resolve_processes(processes)
        if n > 1:
            return multi.run_stages(stages, request, payloads,  # type: ignore[no-any-return]
                                    transport=transport, on_interval=on_interval,
                                    continue_after=continue_after,
                                    handle_signals=handle_signals, processes=n)
    combined, batches = combine_payloads(payloads)
    validate_stages(stages, batches)
    name = resolve_transport(transport, request)
    pool = pool_size(stages, request)
    raise_open_files_limit(pool + 256)

    loop = new_event_loop()
    # Everything allocated so far (modules, payloads, the dataset) lives for the
    # run: move it out of the collector's way so a full collection mid-run does
    # not stall the loop for tens of ms walking it. (No gc.collect() first: it
    # costs ~150 ms per call; unfreeze hands any frozen garbage back afterwards.)
    gc.freeze()
    guard: SignalGuard | None = None
    hard_stop = False
    try:
        state = RunState(transport=make_transport(name, request, combined, pool),
                         recorder=Recorder(), request=request, batches=batches,
                         health=HealthMonitor(), on_interval=on_interval,
                         breakdowns=stage_breakdowns(stages, payloads),
                         bodies=combined.bodies)
        main = loop.create_task(_run(stages, state, continue_after))

        def second_signal() -> None:
            nonlocal hard_stop
            hard_stop = True
            main.cancel()

        if handle_signals:
            guard = SignalGuard(loop, state.interrupt, second_signal)
            guard.install()
        try:
            run = loop.run_until_complete(main)
        except asyncio.CancelledError:
            if hard_stop:
                raise KeyboardInterrupt from None
            raise
        if state.hook_error is not None:
            raise state.hook_error
        return run
    finally:
        _close_loop(loop)
        if guard is not None:
            guard.remove()
        gc.unfreeze()


async def _run(stages: Sequence[Stage], state: RunState,
               continue_after: ContinueHook | None) -> EngineRun:
    """Run the stages back to back: each starts where the previous one's schedule ended.

    A stage's result is finalised (``finish_stage``, a task) once its last
    request completed, while the next stage already issues; ``continue_after``
    judges each stage as of its end time (``snapshot``) so it can decide before
    the next stage starts.
    """
    started = time.time()
    await state.transport.start()
    state.health.start()
    current: StageRun | None = None
    completed = False
    try:
        skipping = False
        for stage in stages:
            if state.interrupted or state.aborted:
                break
            if skipping and not stage.always_run:
                continue
            t0_ns: int | None = None
            previous: asyncio.Task[StageResult] | None = None
            if current is not None:
                t0_ns, previous = current.end_ns, current.finisher
                close_ticker(current, state)
            current = await start_stage(stage, state, t0_ns)
            try:
                await stop_issuing(current, state)
            finally:
                current.finisher = asyncio.ensure_future(finish_stage(current, state, previous))
            if (continue_after is not None and not state.interrupted and not state.aborted
                    and not continue_after(snapshot(current, state), stage)):
                skipping = True
        completed = True
    finally:
        try:
            if current is not None and current.finisher is not None:
                if completed:
                    await current.finisher          # and, through it, every earlier stage's
                else:                               # a hard stop or a bug: wait for nothing
                    current.finisher.cancel()
        finally:
            if current is not None:
                close_ticker(current, state)
            await state.health.stop()
            await state.transport.close()
    return EngineRun(
        stages=tuple(state.results),
        timeseries=tuple(state.recorder.intervals),
        health=state.health.result(state.transport),
        interrupted=state.interrupted,
        aborted=state.aborted,
        transport=state.transport.name,
        started_at=round(started, 3),
        finished_at=round(time.time(), 3),
    )


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel whatever is left, let it unwind, and close the loop."""
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
