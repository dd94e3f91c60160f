"""``--processes N``: N generator processes, one event loop each, merged exactly.

Called by the engine's entry point (``engine/run.py``) when ``processes > 1``. Each child is
spawned (not forked: no inherited loop or sockets), gets 1/N of every stage's
concurrency, rate, request count and in-flight bound (the remainder going to the
first children) and its own payload slice ``bodies[i::N]``, and runs the
single-process engine one stage at a time on the parent's word. Stages therefore
start together in every process, a stop condition (``continue_after``) is judged
on the *merged*, complete stage, and per-second intervals line up by stage and
ordinal. The price of lock-step: unlike one process (where the next stage starts
exactly where the previous schedule ended, see ``stages.py``), each process lets
a stage's last requests complete before the next stage, so stages are separated
by that drain (``loadkit.analysis.recovery.overload_end_t`` allows for it). A
seamless handover would need each child to wait on the parent's verdict with its
loop blocked, which would add that wait to the latency of every request out.

Histograms and counters merge exactly (``loadkit.results.aggregate.merge_stages``).
Children ignore SIGINT and SIGTERM; the parent turns Ctrl-C / SIGTERM into a shared Event
which each child's interval hook reads once a second, so every process ends its
stage gracefully and the parent still gets (and merges) every partial stage.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from loadkit.engine.prepare import (
    ContinueHook,
    EngineRun,
    IntervalHook,
    StageObserver,
    combine_payloads,
    transport_name,
    validate_stages,
)
from loadkit.results.aggregate import merge_health, merge_stages, merge_timeseries
from loadkit.results.model import GeneratorHealth, Interval, StageResult
from loadkit.scenario.plan import PayloadSet, RequestSpec, Stage

START_TIMEOUT_S = 60.0      # spawning and importing numpy/aiohttp in every child
STOP_GRACE_S = 10.0         # after a stop, how long children get to hand in their stage


def resolve_processes(value: int | str) -> int:
    """``"auto"`` -> the machine's core count; otherwise a positive int."""
    if value == "auto":
        return max(1, os.cpu_count() or 1)
    n = int(value)
    if n < 1:
        raise ValueError(f"processes must be at least 1 or 'auto' (got {value!r})")
    return n


def _shares(total: int, n: int) -> list[int]:
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def split_stage(stage: Stage, n: int) -> list[Stage | None]:
    """Each process's part of ``stage``; None for a process with nothing to do.

    Integers (concurrency, requests, max_in_flight) are split with the remainder
    going to the first processes, so the parts add up to the whole; a rate is
    split evenly. A process whose concurrency or request share is zero sits the
    stage out (e.g. concurrency 1 with 2 processes runs in one process).
    """
    none: list[int | None] = [None] * n
    conc = none if stage.concurrency is None else list(_shares(stage.concurrency, n))
    reqs = none if stage.requests is None else list(_shares(stage.requests, n))
    mif = none if stage.max_in_flight is None else [max(1, m) for m in
                                                     _shares(stage.max_in_flight, n)]
    out: list[Stage | None] = []
    for i in range(n):
        if conc[i] == 0 or reqs[i] == 0:
            out.append(None)
            continue
        out.append(replace(
            stage,
            concurrency=conc[i],
            rate=None if stage.rate is None else stage.rate / n,
            requests=reqs[i],
            max_in_flight=mif[i],
        ))
    # A rate stage whose request count left some process out: give its rate to the others.
    if stage.rate is not None and any(p is None for p in out):
        active = [p for p in out if p is not None]
        out = [None if p is None else replace(p, rate=stage.rate / len(active)) for p in out]
    return out


def slice_payloads(payloads: Mapping[int, PayloadSet], i: int, n: int) -> dict[int, PayloadSet]:
    """Process ``i``'s bodies: every n-th one from its offset (all of them if too few)."""
    out = {}
    for batch, ps in payloads.items():
        bodies = ps.bodies[i::n] if len(ps.bodies) >= n else ps.bodies
        sizes = ps.payload_bytes[i::n] if len(ps.bodies) >= n else ps.payload_bytes
        out[batch] = replace(ps, bodies=bodies, payload_bytes=sizes)
    return out


# -- the child ------------------------------------------------------------------------
def _child(i: int, request: RequestSpec, payloads: dict[int, PayloadSet], transport: str,
           commands: Any, results: Any, stop: Any) -> None:
    """One generator process: run each stage it is given, hand back plain data."""
    # Ctrl-C and a group-wide SIGTERM reach the children too; only the parent decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        from loadkit.engine.local import run_on_own_loop  # lazily: the parent runs no stage

        parent = mp.parent_process()

        def orphaned() -> bool:
            return parent is not None and not parent.is_alive()

        def hook(iv: Interval, stage: Stage) -> bool:
            results.put(("interval", i, iv))
            return not stop.is_set() and not orphaned()

        heralds = _Heralds(results, i)
        results.put(("ready", i, None))
        while not orphaned():
            try:
                cmd = commands.get(timeout=1.0)
            except queue.Empty:
                continue
            if cmd is None:
                return
            stage: Stage = cmd
            run = run_on_own_loop([stage], request, payloads, transport=transport,
                                  on_interval=hook, handle_signals=False, observer=heralds)
            results.put(("stage", i, run))
    except BaseException as exc:  # noqa: BLE001 -- reported to the parent, which raises
        results.put(("error", i, f"{type(exc).__name__}: {exc}"))


class _Heralds:
    """A child's StageObserver: tells the parent when its part starts and stops issuing."""

    def __init__(self, results: Any, proc: int) -> None:
        self.results, self.proc = results, proc

    def stage_started(self, index: int) -> None:
        self.results.put(("started", self.proc, index))

    def stage_stopped(self, index: int) -> None:
        self.results.put(("stopped", self.proc, index))


# -- the parent ------------------------------------------------------------------------
class _Progress:
    """Live per-second progress: an interval is shown once every process has sent its own."""

    def __init__(self, on_interval: IntervalHook | None) -> None:
        self.on_interval = on_interval
        self.groups: dict[tuple[int, int], dict[int, Interval]] = {}
        self.next_k: dict[tuple[int, int], int] = {}    # (stage position, process) -> ordinal

    def add(self, pos: int, proc: int, iv: Interval, expected: int, stage: Stage) -> bool:
        """Collect one process's interval; False when the hook asked to stop."""
        k = self.next_k.get((pos, proc), 0)
        self.next_k[(pos, proc)] = k + 1
        group = self.groups.setdefault((pos, k), {})
        group[proc] = iv
        if len(group) < expected or self.on_interval is None:
            return True
        del self.groups[(pos, k)]
        return bool(self.on_interval(align([list(group.values())])[0], stage))


def align(per_ordinal: Sequence[Sequence[Interval]]) -> tuple[Interval, ...]:
    """Merge groups of intervals that cover the same second in different processes.

    Each process ticks on its own clock, so the k-th interval of a stage is matched
    with the k-th interval of the same stage elsewhere and stamped with the earliest
    start among them; counts add exactly (``merge_timeseries``).
    """
    series = []
    for group in per_ordinal:
        if group:
            t = min(iv.t for iv in group)
            series.append([replace(iv, t=t) for iv in group])
    return merge_timeseries(series)


def stage_timeseries(runs: Sequence[Any]) -> list[list[Interval]]:
    """Group the children's intervals of one stage by ordinal (k-th second with k-th)."""
    longest = max((len(r.timeseries) for r in runs), default=0)
    return [[r.timeseries[k] for r in runs if k < len(r.timeseries)] for k in range(longest)]


def run_stages_parallel(processes: int | str, stages: Sequence[Stage], request: RequestSpec,
                        payloads: Mapping[int, PayloadSet], *, transport: str = "auto",
                        on_interval: IntervalHook | None = None,
                        continue_after: ContinueHook | None = None,
                        handle_signals: bool = True,
                        observer: StageObserver | None = None) -> EngineRun:
    """``run_stages`` over ``processes`` spawned generators; returns one merged EngineRun."""
    n = resolve_processes(processes)
    _, batches = combine_payloads(payloads)
    validate_stages(stages, batches)            # refuse bad input before spawning anything
    concrete = transport_name(transport, request)
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    results = ctx.Queue()
    commands = [ctx.Queue() for _ in range(n)]
    procs = [ctx.Process(target=_child, name=f"loadkit-generator-{i}", daemon=True,
                         args=(i, request, slice_payloads(payloads, i, n), concrete,
                               commands[i], results, stop))
             for i in range(n)]
    signalled = {"count": 0}

    def on_signal(signum: int, frame: object) -> None:
        signalled["count"] += 1
        stop.set()
        if signalled["count"] > 1:
            raise KeyboardInterrupt

    old = {}
    if handle_signals and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, on_signal)
    started = time.time()
    try:
        for p in procs:
            p.start()
        _wait_ready(results, procs)
        merged_stages, healths, transports, ivs, aborted, interrupted_child = _drive(
            stages, n, procs, commands, results, stop, on_interval, continue_after, signalled,
            observer)
    finally:
        for q in commands:
            try:
                q.put(None)
            except (ValueError, OSError):
                pass
        deadline = time.monotonic() + 5.0
        started_procs = [p for p in procs if p.pid is not None]
        for p in started_procs:
            p.join(max(0.0, deadline - time.monotonic()))
        for p in started_procs:
            if p.is_alive():
                p.kill()                        # they ignore SIGTERM
                p.join(1.0)
        for sig, handler in old.items():
            signal.signal(sig, handler)
    interrupted = signalled["count"] > 0 or interrupted_child
    return EngineRun(
        stages=tuple(merged_stages),
        timeseries=ivs,
        health=merge_health(healths, concurrent=True),
        interrupted=interrupted,
        aborted=aborted and not interrupted,
        transport=transports[0] if transports else concrete,
        started_at=round(started, 3),
        finished_at=round(time.time(), 3),
    )


def _observe(observer: StageObserver | None, index: int, kind: str, proc: int,
             started: set[int], stopped: set[int], expected: int) -> None:
    """Forward the children's stage start/stop to the parent's observer, once each."""
    if observer is None:
        return
    if kind == "started":
        if not started:
            observer.stage_started(index)
        started.add(proc)
    else:
        stopped.add(proc)
        if len(stopped) == expected:
            observer.stage_stopped(index)


def _get(results: Any, procs: Sequence[Any], timeout_s: float) -> tuple[str, int, Any] | None:
    """One message from the children, or None after ``timeout_s``; a dead child raises."""
    try:
        return results.get(timeout=timeout_s)  # type: ignore[no-any-return]
    except queue.Empty:
        dead = [p for p in procs if not p.is_alive() and p.exitcode not in (0, None)]
        if dead:
            raise RuntimeError(f"generator process {dead[0].name} died "
                               f"(exit code {dead[0].exitcode})") from None
        return None


def _wait_ready(results: Any, procs: Sequence[Any]) -> None:
    ready: set[int] = set()
    deadline = time.monotonic() + START_TIMEOUT_S
    while len(ready) < len(procs):
        if time.monotonic() > deadline:
            raise RuntimeError("generator processes did not start in time")
        msg = _get(results, procs, 0.2)
        if msg is None:
            continue
        kind, i, payload = msg
        if kind == "error":
            raise RuntimeError(f"generator process {i}: {payload}")
        if kind == "ready":
            ready.add(i)


def _drive(stages: Sequence[Stage], n: int, procs: Sequence[Any], commands: Sequence[Any],
           results: Any, stop: Any, on_interval: IntervalHook | None,
           continue_after: ContinueHook | None, signalled: dict[str, int],
           observer: StageObserver | None = None
           ) -> tuple[list[StageResult], list[GeneratorHealth], list[str], tuple[Interval, ...],
                      bool, bool]:
    """Run the stages in lock-step across the children; merge each as it completes."""
    progress = _Progress(on_interval)
    groups: list[list[Interval]] = []
    merged: list[StageResult] = []
    healths: list[list[GeneratorHealth]] = [[] for _ in range(n)]
    transports: list[str] = []
    aborted = interrupted_child = skipping = False
    for pos, stage in enumerate(stages):
        if stop.is_set():
            break
        if skipping and not stage.always_run:
            continue
        parts = split_stage(stage, n)
        active = [i for i in range(n) if parts[i] is not None]
        for i in active:
            commands[i].put(parts[i])
        # The parent scrapes, once: its observer hears the stage start when the first
        # child starts it and stop when the last one stops issuing (children report both).
        started: set[int] = set()
        stopped: set[int] = set()
        got: dict[int, Any] = {}
        stop_seen_at: float | None = None
        while len(got) < len(active):
            if stop.is_set() and stop_seen_at is None:
                stop_seen_at = time.monotonic()
            if stop_seen_at is not None and time.monotonic() - stop_seen_at > STOP_GRACE_S:
                break                                   # merge what was handed in
            msg = _get(results, procs, 0.2)
            if msg is None:
                continue
            kind, i, payload = msg
            if kind == "error":
                raise RuntimeError(f"generator process {i}: {payload}")
            if kind in ("started", "stopped"):
                _observe(observer, stage.index, kind, i, started, stopped, len(active))
            elif kind == "interval":
                if not progress.add(pos, i, payload, len(active), stage):
                    aborted = True
                    stop.set()
            elif kind == "stage":
                got[i] = payload
        if observer is not None and started and len(stopped) < len(active):
            observer.stage_stopped(stage.index)         # a part that never said (a stop)
        runs = [got[i] for i in sorted(got)]
        groups.extend(stage_timeseries(runs))
        stage_parts = [s for r in runs for s in r.stages]
        for i in sorted(got):
            healths[i].append(got[i].health)
        transports.extend(r.transport for r in runs)
        aborted = aborted or any(r.aborted for r in runs)
        interrupted_child = interrupted_child or any(r.interrupted for r in runs)
        if not stage_parts:
            break
        result = merge_stages(stage_parts)
        merged.append(result)
        if stop.is_set() or signalled["count"]:
            break
        if continue_after is not None and not continue_after(result, stage):
            skipping = True
    per_process = [merge_health(h, concurrent=False) for h in healths if h]
    return merged, per_process, transports, align(groups), aborted, interrupted_child
