"""One generator process: the stages run on one event loop, this process's.

``run_in_loop`` runs them on the loop already running (``await``-ed from
``run_stages_async``: Jupyter, pytest-asyncio, an application's own loop);
``run_on_own_loop`` makes a loop for the run (uvloop when installed), handles
SIGINT/SIGTERM and closes the loop afterwards (``run_stages``). Both build the
same ``RunState`` and run the same ``_run``; N processes (``processes.py``)
call ``run_on_own_loop`` in each child.

The transport is a name (``"auto" | "fast" | "aiohttp"``: a pool sized to the
run's largest in-flight bound is made here) or an instance speaking the
``Transport`` protocol (``loadkit.testing.MockTransport``, or a user's own):
the engine starts and closes it around every run, so one instance serves
several runs in turn.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from loadkit.engine.health import HealthMonitor
from loadkit.engine.loop import close_loop, new_event_loop, raise_open_files_limit
from loadkit.engine.prepare import (
    ContinueHook,
    EngineRun,
    StageObserver,
    combine_payloads,
    pool_size,
    stage_breakdowns,
    transport_name,
    validate_stages,
)
from loadkit.engine.signals import SignalGuard
from loadkit.errors import UsageError
from loadkit.engine.stream_scripted import ScriptedStreams, scripted
from loadkit.engine.stream_settle import StreamContext
from loadkit.engine.stages import (
    IntervalHook,
    RunState,
    StageRun,
    close_ticker,
    finish_stage,
    snapshot,
    start_stage,
    stop_issuing,
)
from loadkit.results.model import StageResult
from loadkit.results.recorder import Recorder
from loadkit.scenario.plan import PayloadSet, RequestSpec, Stage

if TYPE_CHECKING:
    from loadkit.engine.transport import Transport


def new_state(stages: Sequence[Stage], request: RequestSpec, payloads: Mapping[int, PayloadSet],
              transport: str | Transport, on_interval: IntervalHook | None) -> RunState:
    """Refuse bad stages, then the state the run's stages share (no loop needed yet)."""
    from loadkit.engine.factory import make_transport

    combined, batches = combine_payloads(payloads)
    validate_stages(stages, batches)
    if (request.stream is not None and not isinstance(transport, str)
            and not getattr(transport, "reads_streams", False)):
        if not scripted(transport):
            raise UsageError("transport: a streamed request is timed chunk by chunk by the "
                             "fast or aiohttp transport; pass one by name (this one answers "
                             "whole bodies)")
        transport = ScriptedStreams(transport, request.stream)  # type: ignore[assignment]
    if isinstance(transport, str):
        name = transport_name(transport, request)
        pool = pool_size(stages, request)
        raise_open_files_limit(pool + 256)
        transport = make_transport(name, request, combined, pool)
    return RunState(transport=transport, recorder=Recorder(), request=request, batches=batches,
                    health=HealthMonitor(), on_interval=on_interval,
                    breakdowns=stage_breakdowns(stages, payloads), bodies=combined.bodies,
                    streams=None if request.stream is None else StreamContext(
                        request.stream, combined.input_tokens))


async def run_in_loop(stages: Sequence[Stage], request: RequestSpec,
                      payloads: Mapping[int, PayloadSet], *, transport: str | Transport = "auto",
                      on_interval: IntervalHook | None = None,
                      continue_after: ContinueHook | None = None,
                      observer: StageObserver | None = None) -> EngineRun:
    """The stages on the running loop. No signal handling: the loop's owner has its own.

    Cancelling the awaiting task cancels the run: requests out are cancelled,
    the transport is closed, and CancelledError propagates.
    """
    state = new_state(stages, request, payloads, transport, on_interval)
    run = await _run(stages, state, continue_after, observer)
    if state.hook_error is not None:
        raise state.hook_error
    return run


def run_on_own_loop(stages: Sequence[Stage], request: RequestSpec,
                    payloads: Mapping[int, PayloadSet], *, transport: str | Transport = "auto",
                    on_interval: IntervalHook | None = None,
                    continue_after: ContinueHook | None = None,
                    handle_signals: bool = True,
                    observer: StageObserver | None = None) -> EngineRun:
    """The stages on a loop made for them; the first SIGINT/SIGTERM ends the run gracefully."""
    state = new_state(stages, request, payloads, transport, on_interval)
    loop = new_event_loop()
    # Everything allocated so far (modules, payloads, the dataset) lives for the
    # run: move it out of the collector's way so a full collection mid-run does
    # not stall the loop for tens of ms walking it. (No gc.collect() first: it
    # costs ~150 ms per call; unfreeze hands any frozen garbage back afterwards.)
    gc.freeze()
    guard: SignalGuard | None = None
    hard_stop = False
    try:
        main = loop.create_task(_run(stages, state, continue_after, observer))

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
        close_loop(loop)
        if guard is not None:
            guard.remove()
        gc.unfreeze()


async def _run(stages: Sequence[Stage], state: RunState,
               continue_after: ContinueHook | None,
               observer: StageObserver | None = None) -> EngineRun:
    """Run the stages back to back: each starts where the previous one's schedule ended.

    A stage's result is finalised (``finish_stage``, a task) once its last
    request completed, while the next stage already issues; ``continue_after``
    judges each stage as of its end time (``snapshot``) so it can decide before
    the next stage starts. ``observer`` hears each stage start and stop issuing.
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
            if observer is not None:
                observer.stage_started(stage.index)
            try:
                await stop_issuing(current, state)
            finally:
                current.finisher = asyncio.ensure_future(finish_stage(current, state, previous))
                if observer is not None:
                    observer.stage_stopped(stage.index)
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

