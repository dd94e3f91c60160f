"""Run a validated Scenario end to end and return a RunResult.

This is the glue between the rooms (DESIGN.md's flow): scenario -> payloads and
stages -> engine -> the measured RunResult (with everything judging needs: rules,
their origin, stop conditions, soak windows, stage roles) -> ``judge``. It does no
I/O of reports (the CLI writes files) and no async work (the engine owns the loop).
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from loadkit import __version__
from loadkit.engine import EngineRun, check_reachable, measure_cold_start, run_stages
from loadkit.mock_target import MockServer
from loadkit.redact import redact_path, redact_url
from loadkit.results.aggregate import merge_health, summarize
from loadkit.results.analysis import ColdStart
from loadkit.judge import judge
from loadkit.results.model import (
    Environment,
    Interval,
    PlannedProfile,
    ProfileResult,
    RunResult,
    ScenarioInfo,
    StageResult,
    StopCondition,
)
from loadkit.scenario import Scenario, build_payloads, compile_profile
from loadkit.search_runner import run_search
from loadkit.scenario.plan import Stage
from loadkit.sla import observe_interval
from loadkit.telemetry import Telemetry, with_server_metrics

if TYPE_CHECKING:
    from loadkit.engine.transport import Transport

IntervalHook = Callable[[Interval, Stage, str, float, "float | None"], None]


@dataclass(frozen=True)
class RunOptions:
    """How to run, beyond what the scenario says (CLI flags)."""

    target: str | None = None          # overrides scenario.target
    transport: str | Transport = "auto"  # a name, or an instance (tests: it is the target)
    processes: int = 1
    insecure: bool = False
    wait_ready_s: float = 0.0


def _uvloop_available() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def _environment(options: RunOptions, transport: str) -> Environment:
    return Environment(
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.machine()}",
        uvloop=_uvloop_available() and sys.platform != "win32",
        processes=options.processes,
        host_cores=os.cpu_count() or 1,
        transport=transport,
        insecure=options.insecure,
    )


def _stage_total_s(stages: Sequence[Stage]) -> float | None:
    total = 0.0
    for s in stages:
        if s.duration_s is None:
            return None
        total += s.duration_s
    return total


def _stop_condition(profile: Any) -> Callable[[StageResult, Stage], bool] | None:
    """Stress profiles stop stepping up once a step breaks ``stop_when``."""
    stop = getattr(profile, "stop_when", None)
    if stop is None:
        return None
    max_error_rate = getattr(stop, "error_rate", None)
    max_p99_ms = getattr(stop, "p99_ms", None)

    def keep_going(result: StageResult, stage: Stage) -> bool:
        if stage.warmup:
            return True
        if max_error_rate is not None and result.requests and result.error_rate >= max_error_rate:
            return False
        if max_p99_ms is not None and result.requests and result.latency_ms.p99 >= max_p99_ms:
            return False
        return True

    return keep_going


class _AbortWatch:
    """Checks ``abort: true`` rules every second after their grace (k6's abortOnFail)."""

    def __init__(self, rules: Sequence[Any]) -> None:
        self.rules = [r for r in rules if getattr(r, "abort", False)]
        self.reason = ""
        self._t0: float | None = None

    def check(self, interval: Interval, stage: Stage) -> bool:
        if not self.rules or stage.warmup:
            return True
        if self._t0 is None:
            self._t0 = interval.elapsed_s
        since = interval.elapsed_s - self._t0
        for rule in self.rules:
            if since < rule.grace_s or rule.stage not in (None, stage.index):
                continue
            observed = observe_interval(rule, interval)
            if observed is not None and not rule.holds(observed):
                self.reason = f"aborted: {rule.expr} broken at {interval.elapsed_s:.0f}s (observed {observed:g})"
                return False
        return True


class _FailFast:
    """Stops a run whose first ``after_s`` seconds (warm-up included) were >= 99% errors.

    Such a run measures nothing but a broken target or scenario (a wrong path, a
    missing token): saying so at once beats every profile running to its end at
    100% errors. Decided once, at the first second past ``after_s``; 0 turns it off.
    """

    SHARE = 0.99
    MIN_REQUESTS = 5

    def __init__(self, after_s: float) -> None:
        self.after_s = after_s
        self.decided = after_s <= 0
        self.seconds = self.requests = self.errors = 0
        self.reason = ""

    def check(self, interval: Interval) -> bool:
        if self.decided:
            return True
        self.seconds += 1
        self.requests += interval.requests
        self.errors += interval.errors
        if self.seconds < self.after_s:
            return True
        self.decided = True
        if self.requests < self.MIN_REQUESTS or self.errors < self.SHARE * self.requests:
            return True
        self.reason = (f"stopped early: {self.errors:,} of the first {self.requests:,} requests "
                       f"({self.errors / self.requests:.0%}) failed in the first "
                       f"{self.seconds} s; the target or the scenario is broken (see the "
                       "errors; fail_fast: 0s in the scenario turns this off)")
        return False


def first_request_ms(request: Any, payloads: Any, options: RunOptions) -> float | None:
    """Latency of one lone request right after readiness: the cold-start figure."""
    batch = min(payloads)
    stage = Stage(index=0, label="first request", concurrency=1, requests=1, warmup=True,
                  batch_size=batch)
    run = run_stages([stage], request, payloads, transport=options.transport)
    if not run.stages or not run.stages[0].requests:
        return None
    return run.stages[0].latency_ms.max


def run_profile(scenario: Scenario, profile: Any, request: Any, payloads: Any,
                options: RunOptions, on_interval: IntervalHook | None = None,
                cold_start: ColdStart | None = None, fail_fast: _FailFast | None = None
                ) -> tuple[ProfileResult, EngineRun, str]:
    """Run one profile's stages; return its ProfileResult, the raw EngineRun and an abort reason."""
    stages = compile_profile(profile, scenario)
    total_s = _stage_total_s(stages)
    watch = _AbortWatch(profile.sla)
    fast = fail_fast if fail_fast is not None else _FailFast(0)
    started = time.time()

    def hook(interval: Interval, stage: Stage) -> bool:
        if on_interval is not None:
            on_interval(interval, stage, profile.name, time.time() - started, total_s)
        return watch.check(interval, stage) and fast.check(interval)

    telemetry = (Telemetry(scenario.server_metrics, request.target, request.insecure)
                 if scenario.server_metrics else None)
    with telemetry if telemetry is not None else nullcontext():
        run = run_stages(stages, request, payloads, transport=options.transport,
                         on_interval=hook, continue_after=_stop_condition(profile),
                         processes=options.processes, observer=telemetry)
    stop = profile.stop_when
    measured = ProfileResult(
        name=profile.name,
        kind=profile.kind,
        stages=with_server_metrics(run.stages, telemetry),
        server_timeseries=telemetry.timeseries() if telemetry is not None else (),
        summary=summarize(run.stages),
        timeseries=run.timeseries,
        sla=tuple(r.text for r in profile.sla),   # "... @ stage N" keeps a scope for merge
        started_at=run.started_at,
        finished_at=run.finished_at,
        cold_start=cold_start,
        sla_origin=profile.sla_origin,
        stop_when=StopCondition(stop.error_rate, stop.p99_ms) if stop is not None else None,
        window_s=profile.window_s,
    )
    return measured, run, watch.reason or fast.reason


def run_search_profile(scenario: Scenario, profile: Any, request: Any, payloads: Any,
                       options: RunOptions, on_interval: IntervalHook | None = None
                       ) -> tuple[ProfileResult, EngineRun]:
    """A capacity search (``search_runner``): probes decided as it runs, then analysed."""
    started = time.time()

    def hook(interval: Interval, stage: Stage) -> bool:
        if on_interval is not None:
            on_interval(interval, stage, profile.name, time.time() - started, None)
        return True

    telemetry = (Telemetry(scenario.server_metrics, request.target, request.insecure)
                 if scenario.server_metrics else None)
    with telemetry if telemetry is not None else nullcontext():
        measured, run = run_search(scenario, profile, request, payloads,
                                   transport=options.transport, processes=options.processes,
                                   on_interval=hook, observer=telemetry)
    # judged (analysed) later with the rest of the run, by ``judge``
    return replace(measured, sla=tuple(r.text for r in profile.sla),
                   sla_origin=profile.sla_origin,
                   stages=with_server_metrics(measured.stages, telemetry),
                   server_timeseries=telemetry.timeseries() if telemetry is not None else ()
                   ), run


def run(scenario: Scenario, options: RunOptions = RunOptions(),
        on_interval: IntervalHook | None = None,
        on_profile: Callable[[Any, int], None] | None = None) -> RunResult:
    """Run every profile of ``scenario`` and return the judged RunResult.

    Raises TargetUnreachable (exit 3) before any load when the target is down.
    An interrupted run returns a partial result (``partial=True``).
    ``on_profile(profile, n_stages)`` is called before each profile starts, and
    ``on_interval`` once a second, for a progress display.
    """
    started = time.time()
    with ExitStack() as stack:
        target = options.target or scenario.target
        injected = not isinstance(options.transport, str)   # it answers: nothing to start or reach
        if target == "mock":
            target = ("http://mock.invalid" if injected
                      else stack.enter_context(MockServer(scenario.mock)).url)
        request = scenario.request_spec(target, insecure=options.insecure)
        payloads = build_payloads(scenario)
        cold_start: ColdStart | None = None
        if injected:
            pass
        elif request.readiness_path and any(p.kind == "latency" for p in scenario.profiles):
            wait_s = max(options.wait_ready_s, scenario.readiness_timeout_s)
            connect_s, ready_s = measure_cold_start(request, wait_s)
            cold_start = ColdStart(connect_s=connect_s, ready_s=ready_s,
                                   first_request_ms=first_request_ms(request, payloads, options))
        else:
            check_reachable(request, wait_ready_s=options.wait_ready_s)

        profiles: list[ProfileResult] = []
        runs: list[EngineRun] = []
        stopped_early = ""
        interrupted = False
        fail_fast = _FailFast(scenario.fail_fast_s)
        for profile in scenario.profiles:
            if on_profile is not None:
                on_profile(profile, len(compile_profile(profile, scenario)))
            abort_reason = ""
            if profile.kind == "search":
                profile_result, engine_run = run_search_profile(
                    scenario, profile, request, payloads, options, on_interval)
            else:
                profile_result, engine_run, abort_reason = run_profile(
                    scenario, profile, request, payloads, options, on_interval,
                    cold_start if profile.kind == "latency" else None, fail_fast)
            profiles.append(profile_result)
            runs.append(engine_run)
            if abort_reason:
                stopped_early = abort_reason
            if engine_run.interrupted:
                interrupted = True
            if interrupted or stopped_early:
                break
        transport = (runs[0].transport if runs else options.transport
                     if isinstance(options.transport, str) else options.transport.name)

    health = merge_health([r.health for r in runs], concurrent=False)
    partial = interrupted or len(profiles) < len(scenario.profiles)
    result = RunResult(
        scenario=ScenarioInfo(
            name=scenario.name,
            target=redact_url(target),
            method=scenario.request.method,
            path=redact_path(scenario.request.path),
            batch_size=scenario.request.batch_size,
            trace_id=next((v.split("-")[1] for k, v in request.headers if k == "traceparent"),
                          ""),
        ),
        started_at=round(started, 3),
        finished_at=round(time.time(), 3),
        profiles=tuple(profiles),
        environment=_environment(options, transport),
        health=health,
        partial=partial,
        loadkit_version=__version__,
        notes=scenario.notes,
        interrupted=interrupted,
        stopped_early=stopped_early,
        planned=tuple(PlannedProfile(p.name, p.kind, tuple(r.text for r in p.sla),
                                     p.sla_origin) for p in scenario.profiles),
    )
    return judge(result)
