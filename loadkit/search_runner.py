"""Run a capacity search (``kind: search``): one probe stage at a time through the engine.

Where it sits: beside ``runner.py``, which hands it a search profile. The engine
knows only Stages, so a search is a loop here: ask ``search_plan.decide`` for the
next load, run that one probe stage (role ``probe``) with ``run_stages``, judge it
(``analysis.search.judge_probes``, the very function the analysis re-derives the
answer with), and go on until the plan says stop.

Probes must not contaminate each other. ``run_stages`` returns only when every
request of the probe completed (or timed out), so nothing of ours is in flight;
after a probe that did not clearly hold, the target may still be working off a
backlog, so the search *measures* its settling: lone requests (concurrency 1) until
their median is back within ``SETTLE_FACTOR`` of the baseline taken the same way
after the warm-up, or ``max_settle_s`` passes. Each wait is stored (``Drain``).
A probe during which the generator fell behind (its own health) is marked
generator-bound, which stops the search.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from loadkit.analysis.search import probe_record, probe_stages, runs_of_last
from loadkit.analysis.search_plan import Probe, decide
from loadkit.engine import EngineRun, Transport, run_stages
from loadkit.engine.prepare import StageObserver
from loadkit.results.aggregate import merge_health, summarize
from loadkit.results.model import GeneratorHealth, Interval, ProfileResult, StageResult
from loadkit.results.search import Drain, SearchRecord
from loadkit.scenario import Scenario, compile_profile
from loadkit.scenario.model import ProfileSpec
from loadkit.scenario.plan import PayloadSet, RequestSpec, Stage
from loadkit.scenario.profiles import probe_stage
from loadkit.sla.steps import load_of

SETTLE_REQUESTS = 10           # lone requests per settle check
SETTLE_FACTOR = 1.5            # settled: median within 1.5x the baseline's...
SETTLE_SLACK_MS = 2.0          # ...or 2 ms of it (a sub-millisecond baseline jitters)
SETTLE_PAUSE_S = 0.1

ProbeHook = Callable[[Interval, Stage], bool]


@dataclass
class _Search:
    """What the loop has measured so far."""

    stages: list[StageResult] = field(default_factory=list)
    series: list[Interval] = field(default_factory=list)
    runs: list[EngineRun] = field(default_factory=list)
    drains: list[Drain] = field(default_factory=list)
    generator_bound: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False


def max_settle_s(request: RequestSpec) -> float:
    """How long a drain may wait for the target: its request timeout, 5-30 s."""
    return min(30.0, max(5.0, request.timeout_s))


def lone_p50_ms(request: RequestSpec, payloads: Mapping[int, PayloadSet], batch: int,
                transport: str | Transport) -> tuple[float | None, bool]:
    """Median latency of a few lone requests (None: none succeeded), and whether a
    signal interrupted them."""
    check = Stage(0, "settle check", concurrency=1, requests=SETTLE_REQUESTS, warmup=True,
                  batch_size=batch)
    run = run_stages([check], request, payloads, transport=transport)
    stage = run.stages[0] if run.stages else None
    if stage is None or stage.ok == 0:
        return None, run.interrupted
    return stage.latency_ms.p50, run.interrupted


def settle(after: int, baseline_ms: float | None, request: RequestSpec,
           payloads: Mapping[int, PayloadSet], batch: int, transport: str | Transport) -> tuple[Drain, bool]:
    """Lone-request checks until the target is back at its baseline (or the bound ends)."""
    t0 = time.monotonic()
    checks, p50, interrupted = 0, 0.0, False
    limit = max_settle_s(request)
    while True:
        found, interrupted = lone_p50_ms(request, payloads, batch, transport)
        checks += 1
        p50 = found if found is not None else 0.0
        settled = (found is not None and baseline_ms is not None
                   and found <= max(baseline_ms * SETTLE_FACTOR, baseline_ms + SETTLE_SLACK_MS))
        if settled or interrupted or baseline_ms is None or time.monotonic() - t0 >= limit:
            break
        time.sleep(SETTLE_PAUSE_S)
    return Drain(after_stage=after, waited_s=round(time.monotonic() - t0, 3), checks=checks,
                 p50_ms=p50, settled=settled), interrupted


def record_of(profile: ProfileSpec) -> SearchRecord:
    assert profile.search is not None
    return SearchRecord(space=profile.search, stage_duration_s=profile.stage_duration_s or 0.0)


def _profile(profile: ProfileSpec, state: _Search, record: SearchRecord, started: float
             ) -> ProfileResult:
    return ProfileResult(
        name=profile.name, kind=profile.kind, stages=tuple(state.stages),
        summary=summarize(state.stages), timeseries=tuple(state.series),
        sla=tuple(r.text for r in profile.sla), started_at=round(started, 3),
        finished_at=round(time.time(), 3),
        search=replace(record, drains=tuple(state.drains),
                       generator_bound=dict(state.generator_bound)))


def _health(run: EngineRun, probes: Sequence[Probe], state: _Search) -> GeneratorHealth:
    """A run's health as the search's result carries it: a probe the generator could not
    drive and that was run again (a moment's starvation) no longer makes the whole run
    fall behind -- the retry measured that load -- though its reasons stay, marked."""
    if not run.health.fell_behind or not run.stages:
        return run.health
    index = run.stages[-1].index
    later = [s for s in state.stages if s.index > index and not s.warmup]
    if not later or load_of(later[0]) != load_of(run.stages[-1]):
        return run.health
    return replace(run.health, fell_behind=False,
                   reasons=tuple(f"retried: {r}" for r in run.health.reasons))


def run_search(scenario: Scenario, profile: ProfileSpec, request: RequestSpec,
               payloads: Mapping[int, PayloadSet], *, transport: str | Transport = "auto", processes: int = 1,
               on_interval: ProbeHook | None = None, observer: StageObserver | None = None
               ) -> tuple[ProfileResult, EngineRun]:
    """Warm up, take the baseline, then probe until the plan stops; the measured profile
    (probe stages, their per-second series, the ``SearchRecord``) and the runs' union.
    ``observer`` (the telemetry scraper) hears the warm-up and the probes, not the
    lone-request checks between them."""
    started = time.time()
    batch = scenario.request.batch_size
    state = _Search()
    record = record_of(profile)

    def engine(stages: Sequence[Stage]) -> EngineRun:
        run = run_stages(stages, request, payloads, transport=transport,
                         on_interval=on_interval, processes=processes, observer=observer)
        state.stages.extend(run.stages)
        state.series.extend(replace(iv, elapsed_s=round(iv.t - started, 3))
                            for iv in run.timeseries)
        state.runs.append(run)
        state.interrupted = state.interrupted or run.interrupted
        return run

    planned = compile_profile(profile, scenario)
    index = 0
    if planned[0].warmup:
        engine(planned[:1])
        index = 1
    baseline: float | None = None
    if not state.interrupted:
        baseline, state.interrupted = lone_p50_ms(request, payloads, batch, transport)
    record = replace(record, baseline_p50_ms=baseline)
    space = record.space
    probes: list[Probe] = []
    while not state.interrupted:
        decision = decide(space, probes)
        if decision.done or decision.next_load is None:
            break
        if probes and probes[-1].outcome != "held":
            drain, state.interrupted = settle(state.stages[-1].index, baseline, request,
                                              payloads, batch, transport)
            state.drains.append(drain)
            if state.interrupted:
                break
        run = engine([probe_stage(profile, decision.next_load, index, batch)])
        index += 1
        if not run.stages:
            break
        if run.health.fell_behind:
            state.generator_bound[str(run.stages[-1].index)] = ("; ".join(run.health.reasons)
                                                                or "fell behind")
        # Judged exactly as the analysis will judge it from the stored result.
        so_far = _profile(profile, state, record, started)
        done = probe_stages(so_far)
        last = probe_record(so_far, runs_of_last(done), profile.sla, state.generator_bound)
        probes.append(Probe(last.load, last.outcome))
    result = _profile(profile, state, record, started)
    runs = state.runs
    union = EngineRun(
        stages=result.stages, timeseries=result.timeseries,
        health=merge_health([_health(r, probes, state) for r in runs], concurrent=False),
        interrupted=state.interrupted, aborted=False,
        transport=(runs[-1].transport if runs else
                   transport if isinstance(transport, str) else transport.name),
        started_at=result.started_at, finished_at=result.finished_at)
    return result, union


__all__ = ["lone_p50_ms", "max_settle_s", "run_search", "settle"]
