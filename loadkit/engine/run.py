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
from loadkit.engine.stages import IntervalHook, RunState, max_in_flight_of, run_stage
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


def run_stages(stages: Sequence[Stage], request: RequestSpec, payloads: Mapping[int, PayloadSet],
               *, transport: str = "auto", on_interval: IntervalHook | None = None,
               continue_after: ContinueHook | None = None, handle_signals: bool = True,
               processes: int | str = 1) -> EngineRun:
    """Run ``stages`` in order against ``request`` and return what was measured.

    ``on_interval`` is called once a second (False aborts the run);
    ``continue_after`` after each stage (False skips the remaining stages except
    those with ``always_run``). With ``handle_signals`` the first SIGINT/SIGTERM
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
    pool = max((max_in_flight_of(s, request) for s in stages), default=1)
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
    started = time.time()
    await state.transport.start()
    state.health.start()
    try:
        skipping = False
        for stage in stages:
            if state.interrupted or state.aborted:
                break
            if skipping and not stage.always_run:
                continue
            result = await run_stage(stage, state)
            if (continue_after is not None and not state.interrupted and not state.aborted
                    and not continue_after(result, stage)):
                skipping = True
    finally:
        await state.health.stop()
        await state.transport.close()
    return EngineRun(
        stages=tuple(state.results),
        timeseries=tuple(state.recorder.intervals),
        health=state.health.result(),
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
