"""``loadkit canary``: rehearse a staged canary rollout, the harness acting as the router.

Sits beside ``loadkit.runner`` in the flow: scenario -> payloads -> two engine runs
at once (baseline and candidate, one thread and one event loop each) -> per-stage
StageResults -> ``loadkit.analysis.canary.decide_stage`` -> CanaryResult. Reports
are rendered by ``loadkit.reporters.canary_report``; the CLI writes them.

How the load is split. The total load is the chosen profile's first measured
stage (or ``canary.rate`` / ``canary.concurrency``). At share ``s``:

- open model (rate R): candidate ``max(s*R, min_side_rps)`` capped at R, baseline
  ``max(R - candidate, min_side_rps)``;
- closed model (concurrency C): candidate ``max(1, round(s*C))`` workers, baseline
  ``max(1, C - candidate)``.

So at 1% the candidate still gets ``min_side_rps`` (or one worker), enough to
measure, and at 100% the baseline keeps the same floor as a *control*: a live
comparison needs both sides under the same conditions at the same time. Both
sides draw from the same pre-encoded payloads (the same sampled inputs).

Prediction agreement: while the stage runs, a third thread sends up to
``agreement_sample`` inputs (sampled from the same payloads) to both versions
with a plain synchronous client and compares their ``predictions``. The sampler
stops with the stage, so a slow candidate yields a smaller (honestly counted)
sample rather than a longer stage.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from loadkit.analysis.canary import decide_stage, overall, predictions_match
from loadkit.engine import EngineRun, check_reachable, run_stages
from loadkit.engine.transport import Transport
from loadkit.errors import ScenarioError
from loadkit.judge import judge
from loadkit.redact import redact_path, redact_url
from loadkit.results.aggregate import summarize
from loadkit.results.canary import (
    AgreementSample,
    CanaryConfig,
    CanaryResult,
    CanaryStage,
    StageOutcome,
)
from loadkit.results.model import (
    Interval,
    ProfileResult,
    RunResult,
    ScenarioInfo,
    StageResult,
)
from loadkit.scenario import Scenario, build_payloads, compile_profile
from loadkit.scenario.model import ProfileSpec
from loadkit.scenario.plan import PayloadSet, RequestSpec, Stage
from loadkit.sla import Rule
from loadkit.sla.evaluate import LOAD_BROKEN_METRICS

_MAX_MISMATCH_EXAMPLES = 3


@dataclass(frozen=True)
class TotalLoad:
    rate: float | None = None
    concurrency: int | None = None
    max_in_flight: int | None = None
    batch_size: int = 1

    def describe(self) -> str:
        return f"rate {self.rate:g} rps" if self.rate is not None else \
            f"concurrency {self.concurrency}"


def chosen_profile(scenario: Scenario, config: CanaryConfig) -> ProfileSpec:
    """``canary.profile``, else the scenario's first profile: whose load and rules."""
    if config.profile is None:
        return scenario.profiles[0]
    try:
        return scenario.profile(config.profile)
    except KeyError:
        raise ScenarioError("canary.profile", f"no profile named {config.profile!r}") from None


def arm_rules(profile: ProfileSpec) -> tuple[tuple[Rule, ...], tuple[str, ...]]:
    """(rules that judge each arm, a note per rule left out).

    An arm is judged on the rules about each request -- latency, error rate, TTFT,
    SLO attainment -- exactly as ``loadkit run`` judges them. Rules about how much load
    was served (throughput, goodput, server metrics) are left out: the canary itself
    gives each side its share of the load. So are ``abort`` guards and rules scoped to
    one stage of the profile (an arm has one measured stage of its own).
    """
    kept = tuple(r for r in profile.sla
                 if r.metric in LOAD_BROKEN_METRICS and not r.abort and r.stage is None)
    left = tuple(f"{r.expr}: not judged on a canary arm ("
                 + ("an abort guard" if r.abort else "scoped to one stage"
                    if r.stage is not None else "the canary sets each side's load") + ")"
                 for r in profile.sla if r not in kept)
    return kept, left


def judge_arm(side: str, run: EngineRun, scenario: Scenario, url: str, profile: ProfileSpec,
              rules: tuple[Rule, ...], load: TotalLoad) -> RunResult:
    """One side's measurement as a RunResult (one profile named ``side``), judged by
    ``judge()`` -- the same verdicts, rules and Status as a ``loadkit run``."""
    measured = ProfileResult(
        name=side, kind="constant-rate" if load.rate is not None else "throughput",
        stages=run.stages, summary=summarize(run.stages), timeseries=run.timeseries,
        sla=tuple(r.text for r in rules), sla_origin=profile.sla_origin,
        started_at=run.started_at, finished_at=run.finished_at)
    return judge(RunResult(
        scenario=ScenarioInfo(name=scenario.name, target=redact_url(url),
                              method=scenario.request.method,
                              path=redact_path(scenario.request.path),
                              batch_size=load.batch_size),
        started_at=run.started_at, finished_at=run.finished_at, profiles=(measured,),
        health=run.health, interrupted=run.interrupted))


def total_load(scenario: Scenario, config: CanaryConfig) -> TotalLoad:
    """The load to split: ``canary.rate``/``concurrency``, else the profile's first stage."""
    profile = chosen_profile(scenario, config)
    stages = [s for s in compile_profile(profile, scenario) if not s.warmup]
    first = stages[0]
    if config.rate is not None:
        return TotalLoad(rate=config.rate, max_in_flight=first.max_in_flight,
                         batch_size=first.batch_size)
    if config.concurrency is not None:
        return TotalLoad(concurrency=config.concurrency, batch_size=first.batch_size)
    return TotalLoad(rate=first.rate, concurrency=first.concurrency if first.rate is None else None,
                     max_in_flight=first.max_in_flight, batch_size=first.batch_size)


def split(load: TotalLoad, share: float, min_side_rps: float) -> tuple[Stage, Stage]:
    """(baseline, candidate) Stages for one share; see the module docstring for the floors."""
    def stage(label: str, **kw: Any) -> Stage:
        return Stage(index=0, label=label, batch_size=load.batch_size, **kw)

    if load.rate is not None:
        cand = min(load.rate, max(share * load.rate, min_side_rps))
        base = max(load.rate - cand, min_side_rps)
        bound = load.max_in_flight
        return (stage(f"baseline {base:g} rps", rate=base, max_in_flight=bound),
                stage(f"candidate {cand:g} rps", rate=cand, max_in_flight=bound))
    total = load.concurrency or 1
    cand_c = max(1, round(share * total))
    base_c = max(1, total - cand_c)
    return (stage(f"baseline c={base_c}", concurrency=base_c),
            stage(f"candidate c={cand_c}", concurrency=cand_c))


def _load_text(stage: Stage) -> str:
    return f"rate {stage.rate:g} rps" if stage.rate is not None else f"c={stage.concurrency}"


# -- prediction agreement ---------------------------------------------------------------

def _opener(request: RequestSpec) -> urllib.request.OpenerDirector:
    handlers: list[Any] = [urllib.request.ProxyHandler({})]  # loopback never via a proxy
    if request.insecure:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        handlers.append(urllib.request.HTTPSHandler(context=ctx))
    return urllib.request.build_opener(*handlers)


def _predictions(opener: urllib.request.OpenerDirector, request: RequestSpec, body: bytes,
                 content_type: str) -> Any:
    """The response's ``predictions`` (or its whole JSON body); raises on any failure."""
    headers = dict(request.headers)
    if content_type and body:
        headers.setdefault("Content-Type", content_type)
    req = urllib.request.Request(request.url, data=body or None, headers=headers,
                                 method=request.method)
    with opener.open(req, timeout=request.timeout_s) as resp:
        doc = json.loads(resp.read(request.max_response_bytes))
    return doc["predictions"] if isinstance(doc, dict) and "predictions" in doc else doc


def sample_agreement(baseline: RequestSpec, candidate: RequestSpec, payloads: PayloadSet,
                     config: CanaryConfig, deadline: float, seed: int,
                     stop: threading.Event) -> AgreementSample:
    """Send sampled inputs to both versions until the sample is full or the stage ends."""
    n = config.agreement_sample
    if n <= 0 or not payloads.bodies:
        return AgreementSample(mode=config.agreement_mode)
    rng = np.random.default_rng(seed)
    count = len(payloads.bodies)
    picks = rng.choice(count, size=n, replace=n > count)
    b_open, c_open = _opener(baseline), _opener(candidate)
    compared = matched = failed = 0
    examples: list[str] = []
    for i in (int(p) for p in picks):
        if stop.is_set() or time.monotonic() >= deadline:
            break
        body = payloads.bodies[i]
        try:
            a = _predictions(b_open, baseline, body, payloads.content_type)
            b = _predictions(c_open, candidate, body, payloads.content_type)
        except (OSError, ValueError, urllib.error.URLError):
            failed += 1
            continue
        compared += 1
        if predictions_match(a, b, config.agreement_mode, config.agreement_tolerance):
            matched += 1
        elif len(examples) < _MAX_MISMATCH_EXAMPLES:
            examples.append(f"input {i}: {json.dumps(a)[:60]} vs {json.dumps(b)[:60]}")
    return AgreementSample(compared, matched, failed, config.agreement_mode, tuple(examples))


# -- the rehearsal ---------------------------------------------------------------------

def _measured(run: EngineRun) -> tuple[StageResult | None, tuple[Interval, ...]]:
    """The run's measured stage (after its warm-up) and that stage's windows."""
    measured = [s for s in run.stages if not s.warmup]
    if not measured:
        return None, ()
    stage = measured[-1]
    return stage, tuple(iv for iv in run.timeseries if iv.stage == stage.index)


def _with_warmup(stage: Stage, spec: CanaryStage, warmup_s: float) -> list[Stage]:
    """Connections open and loops settle in the warm-up, so the judged stage starts warm."""
    measured = replace(stage, index=1 if warmup_s > 0 else 0, duration_s=spec.duration_s)
    if warmup_s <= 0:
        return [measured]
    return [replace(stage, index=0, label="warm-up " + stage.label, duration_s=warmup_s,
                    warmup=True), measured]


@dataclass(frozen=True)
class _Arms:
    """What every stage shares: the scenario, its chosen profile and rules, the two sides."""

    scenario: Scenario
    profile: ProfileSpec
    rules: tuple[Rule, ...]
    load: TotalLoad
    baseline: RequestSpec
    candidate: RequestSpec
    transports: tuple[str | Transport, str | Transport]


def _run_stage(index: int, spec: CanaryStage, arms: _Arms, payloads: Mapping[int, PayloadSet],
               config: CanaryConfig, stop: threading.Event
               ) -> tuple[StageOutcome | None, list[str]]:
    load, base_req, cand_req = arms.load, arms.baseline, arms.candidate
    base_stage, cand_stage = split(load, spec.share, config.min_side_rps)

    def keep_going(_iv: Interval, _st: Stage) -> bool:
        return not stop.is_set()

    def engine(req: RequestSpec, stage: Stage, transport: str | Transport) -> EngineRun:
        return run_stages(_with_warmup(stage, spec, config.warmup_s), req, payloads,
                          transport=transport, on_interval=keep_going, handle_signals=False)

    deadline = time.monotonic() + config.warmup_s + spec.duration_s
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="canary") as pool:
        futures: list[Future[Any]] = [
            pool.submit(engine, base_req, base_stage, arms.transports[0]),
            pool.submit(engine, cand_req, cand_stage, arms.transports[1]),
            pool.submit(sample_agreement, base_req, cand_req, payloads[load.batch_size], config,
                        deadline, config.seed + index, stop)]
        try:
            while not all(f.done() for f in futures):
                time.sleep(0.05)
        except KeyboardInterrupt:
            stop.set()
        base_run, cand_run, agreement = (f.result() for f in futures)
    base_result, base_windows = _measured(base_run)
    cand_result, cand_windows = _measured(cand_run)
    if stop.is_set() or base_result is None or cand_result is None:
        return None, []
    # A lagging generator delays both sides alike, which shrinks the ratios toward 1 and
    # can hide a regression; it holds the stage only when its lag is material next to
    # the latencies being compared (10% of the faster side's p99), else it is a warning.
    floor_ms = 0.1 * min(base_result.latency_ms.p99, cand_result.latency_ms.p99)
    warnings: list[str] = []
    material: list[str] = []
    for side, run in (("baseline", base_run), ("candidate", cand_run)):
        h = run.health
        if not h.fell_behind:
            continue
        found = [f"{side} generator: {r}" for r in (h.reasons or ("fell behind its schedule",))]
        warnings.extend(found)
        if h.schedule_lag_p99_ms > floor_ms:
            material.append(f"{side} generator lag p99 {h.schedule_lag_p99_ms:.0f} ms")
    judged = [judge_arm(side, run, arms.scenario, req.target, arms.profile, arms.rules, load)
              for side, run, req in (("baseline", base_run, base_req),
                                     ("candidate", cand_run, cand_req))]
    outcome = decide_stage(index, spec, base_result, cand_result, agreement, config,
                           baseline_windows=base_windows, candidate_windows=cand_windows,
                           baseline_load=_load_text(base_stage),
                           candidate_load=_load_text(cand_stage), generator_issues=tuple(material),
                           baseline_arm=judged[0], candidate_arm=judged[1])
    return outcome, warnings


def run_canary(scenario: Scenario, baseline_url: str, candidate_url: str,
               config: CanaryConfig | None = None, *,
               on_stage: Callable[[StageOutcome], None] | None = None,
               transport: str | tuple[Transport, Transport] = "auto", insecure: bool = False,
               wait_ready_s: float = 0.0) -> CanaryResult:
    """Run the canary stages in order; stop at the first stage that does not promote.

    Each stage's two sides are judged as runs (``judge_arm``) on the chosen profile's
    per-request rules; see ``arm_rules``. ``transport`` is a name, or a (baseline,
    candidate) pair of ``Transport`` instances (``loadkit.testing.MockTransport``): then
    nothing is reached over the network and prediction agreement is not sampled.
    Raises TargetUnreachable (exit 3) before any load when either URL is down.
    Ctrl-C ends the current stage early and returns ``interrupted=True`` (exit 130).
    """
    config = config or CanaryConfig()
    injected = not isinstance(transport, str)
    if injected:
        config = replace(config, agreement_sample=0)
    base_req = scenario.request_spec(baseline_url, insecure=insecure)
    cand_req = scenario.request_spec(candidate_url, insecure=insecure)
    load = total_load(scenario, config)
    profile = chosen_profile(scenario, config)
    rules, left_out = arm_rules(profile)
    arms = _Arms(scenario, profile, rules, load, base_req, cand_req,
                 (transport, transport) if isinstance(transport, str) else transport)
    payloads = build_payloads(scenario)
    if not injected:
        check_reachable(base_req, wait_ready_s=wait_ready_s)
        check_reachable(cand_req, wait_ready_s=wait_ready_s)

    started = time.time()
    stop = threading.Event()
    outcomes: list[StageOutcome] = []
    warnings: list[str] = list(left_out)
    for i, spec in enumerate(config.stages):
        outcome, issues = _run_stage(i, spec, arms, payloads, config, stop)
        warnings.extend(issues)
        if outcome is None:
            break
        outcomes.append(outcome)
        if on_stage is not None:
            on_stage(outcome)
        if outcome.decision != "promote":
            break
    interrupted = stop.is_set()
    decision, reason = overall(outcomes, len(config.stages))
    if interrupted:
        decision, reason = "hold", "interrupted before the rollout finished"
    return CanaryResult(
        scenario=scenario.name, baseline_url=redact_url(baseline_url),
        candidate_url=redact_url(candidate_url), config=config, load=load.describe(),
        stages=tuple(outcomes), decision=decision, reason=reason, started_at=round(started, 3),
        finished_at=round(time.time(), 3), interrupted=interrupted,
        warnings=tuple(dict.fromkeys(warnings)))


__all__ = ["CanaryResult", "TotalLoad", "arm_rules", "chosen_profile", "judge_arm", "run_canary",
           "sample_agreement", "split", "total_load"]
