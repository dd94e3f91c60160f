"""The engine's entry point: ``run_stages`` (synchronous) and ``run_stages_async``.

Both take Stages, the request and the pre-encoded payloads and return an
``EngineRun``: the stages' results, the per-second timeseries, the generator's
health and how the run ended. Here only the choice is made: one process
(``local.py``: this loop, or a loop made for the run) or N spawned generators
merged exactly (``processes.py``). What both need before a request is sent is in
``prepare.py``. Nothing here prints; ``on_interval`` is how a progress display
sees data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from loadkit.engine.local import run_in_loop, run_on_own_loop
from loadkit.engine.prepare import ContinueHook, EngineRun, IntervalHook, StageObserver
from loadkit.errors import UsageError
from loadkit.scenario.plan import PayloadSet, RequestSpec, Stage

if TYPE_CHECKING:
    from loadkit.engine.transport import Transport


def _processes(processes: int | str, transport: str | Transport) -> int:
    if processes == 1:
        return 1
    from loadkit.engine.processes import resolve_processes

    n = resolve_processes(processes)
    if n > 1 and not isinstance(transport, str):
        raise UsageError("transport: a Transport instance lives in this process; "
                         "it cannot drive --processes > 1 (pass a transport name)")
    return n


def run_stages(stages: Sequence[Stage], request: RequestSpec, payloads: Mapping[int, PayloadSet],
               *, transport: str | Transport = "auto", on_interval: IntervalHook | None = None,
               continue_after: ContinueHook | None = None, handle_signals: bool = True,
               processes: int | str = 1, observer: StageObserver | None = None) -> EngineRun:
    """Run ``stages`` in order against ``request`` and return what was measured.

    ``transport`` is a name (``auto``, ``fast``, ``aiohttp``) or a ``Transport``
    instance (e.g. ``loadkit.testing.MockTransport``; one process only).
    ``on_interval`` is called once a second (False aborts the run);
    ``continue_after`` after each stage, with the stage as of its end time
    (requests completed by then; ``in_flight_at_end`` counts those still out),
    so that it decides before the next stage starts (False skips the remaining
    stages except those with ``always_run``); the returned ``EngineRun.stages``
    hold every stage complete. Consecutive stages hand over without a gap: an
    open stage's schedule starts where the previous one's ended, and a request
    is recorded in the stage it was issued in, whenever it completes. With
    ``handle_signals`` the first SIGINT/SIGTERM ends the run gracefully
    (``interrupted=True``, the current stage partial) and a second raises
    KeyboardInterrupt. ``processes`` > 1 (or "auto" on a multi-core host) runs
    that many generator processes, results merged exactly. ``observer`` hears each
    stage start and stop issuing (the parent's, under ``processes``).

    It makes its own event loop, so it cannot be called from a running one:
    ``await run_stages_async(...)`` there.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise UsageError("run_stages: an event loop is already running in this thread; "
                         "use 'await run_stages_async(...)'")
    n = _processes(processes, transport)
    if n > 1:
        from loadkit.engine.processes import run_stages_parallel

        assert isinstance(transport, str)
        return run_stages_parallel(n, stages, request, payloads, transport=transport,
                                   on_interval=on_interval, continue_after=continue_after,
                                   handle_signals=handle_signals, observer=observer)
    return run_on_own_loop(stages, request, payloads, transport=transport,
                           on_interval=on_interval, continue_after=continue_after,
                           handle_signals=handle_signals, observer=observer)


async def run_stages_async(stages: Sequence[Stage], request: RequestSpec,
                           payloads: Mapping[int, PayloadSet], *,
                           transport: str | Transport = "auto",
                           on_interval: IntervalHook | None = None,
                           continue_after: ContinueHook | None = None,
                           processes: int | str = 1,
                           observer: StageObserver | None = None) -> EngineRun:
    """``run_stages`` inside a running event loop (Jupyter, pytest-asyncio, an app's loop).

    One process: the stages run on the caller's loop (whatever else that loop
    does shares its time: the generator's health reports it). N processes: the
    parent's lock-step driver runs in a worker thread while the loop stays free.
    Signals are the loop owner's business here; cancel the awaiting task to
    stop a one-process run.
    """
    n = _processes(processes, transport)
    if n > 1:
        from loadkit.engine.processes import run_stages_parallel

        assert isinstance(transport, str)
        return await asyncio.to_thread(
            run_stages_parallel, n, stages, request, payloads, transport=transport,
            on_interval=on_interval, continue_after=continue_after, handle_signals=False,
            observer=observer)
    return await run_in_loop(stages, request, payloads, transport=transport,
                             on_interval=on_interval, continue_after=continue_after,
                             observer=observer)
