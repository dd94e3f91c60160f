"""The SLA gate at the end of a Locust run: stages in, RunResult + reports + exit code out.

Where it sits: at Locust's ``test_stop`` the master (or the single process) has
one ProfileResult per recording process; this module merges them exactly
(``results.aggregate``), restores the planned load of each stage, stores the
scenario's rules (and their origin, stop condition, soak window) in the result and
judges it with ``loadkit.judge.judge`` -- exactly as a run is judged -- writes
result.json and every report (``loadkit.reporters``); the exit code is the
result's ``Status.exit_code``. Pure apart from
``write_outputs``; no locust import, so it is unit-tested directly.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from loadkit.locust_bridge.schedule import FELL_BEHIND_FRACTION, ShapeStep
from loadkit.redact import redact_path, redact_url
from loadkit.results.aggregate import merge_profiles, summarize
from loadkit.results.codec import dumps
from loadkit.results.model import (
    Environment,
    GeneratorHealth,
    ProfileResult,
    RunResult,
    ScenarioInfo,
    StageResult,
    StopCondition,
    Summary,
)

MANUAL_PROFILE = "manual"
TRANSPORT = "locust-fasthttp"
CLOSED_MODEL_WARNING = ("Locust runs a closed model: rate stages were paced users "
                        "(constant_throughput), not loadkit's open arrival-rate schedule; "
                        "latency is measured from the actual send")
def profile_gate(scenario: Any, profile_name: str | None) -> dict[str, Any]:
    """What judging needs besides the rules: their origin, the stop condition, the
    soak window (ProfileResult fields), from the profile -- or the scenario's globals."""
    spec = None
    if profile_name is not None:
        spec = next((p for p in scenario.profiles if p.name == profile_name), None)
    if spec is None:
        return {"sla_origin": getattr(scenario, "sla_origin", "scenario")}
    stop = getattr(spec, "stop_when", None)
    return {"sla_origin": getattr(spec, "sla_origin", "scenario"),
            "stop_when": StopCondition(stop.error_rate, stop.p99_ms) if stop else None,
            "window_s": getattr(spec, "window_s", None)}


def rules_for(scenario: Any, profile_name: str | None) -> list[Any]:
    """The SLA rules that apply: the profile's, or the scenario's global ones by hand."""
    if profile_name is not None:
        for p in scenario.profiles:
            if p.name == profile_name:
                return list(p.sla)
    rules = list(getattr(scenario, "sla", ()) or ())
    if rules and isinstance(rules[0], str):
        from loadkit.sla import parse_rule

        rules = [parse_rule(r) for r in rules]
    return rules


def _planned(stage: StageResult, step: ShapeStep | None, manual_users: int) -> StageResult:
    """Workers each recorded their share; the stage's load is the plan's (or the UI's peak)."""
    if step is not None:
        role = step.role or ("warmup" if step.warmup else "measured")
        return replace(stage, label=step.label or stage.label, warmup=step.warmup,
                       concurrency=step.concurrency, rate=step.rate, role=role)
    return replace(stage, concurrency=manual_users or stage.concurrency, rate=None)


def _health(stages: Sequence[StageResult], steps: dict[int, ShapeStep]) -> GeneratorHealth:
    reasons = []
    for s in stages:
        step = steps.get(s.index)
        if s.warmup or step is None or step.rate is None or s.duration_s <= 0:
            continue
        if s.throughput_rps < FELL_BEHIND_FRACTION * step.rate:
            reasons.append(f"stage {s.index} ({s.label}): {s.throughput_rps:g} rps achieved "
                           f"of {step.rate:g} rps asked ({step.users} paced Locust users)")
    return GeneratorHealth(fell_behind=bool(reasons), reasons=tuple(reasons))


def merge_parts(parts: Sequence[ProfileResult], *, name: str, kind: str,
                steps: Sequence[ShapeStep] | None, manual_users: int = 0) -> ProfileResult:
    """One profile from every recording process's part, exactly (histograms added)."""
    if parts:
        merged = merge_profiles(list(parts))
    else:
        merged = ProfileResult(name=name, kind=kind, stages=(), summary=Summary())
    by_index = {s.index: s for s in steps or ()}
    stages = tuple(_planned(s, by_index.get(s.index), manual_users) for s in merged.stages)
    return replace(merged, name=name, kind=kind, stages=stages, summary=summarize(stages))


def build_result(scenario: Any, profile: ProfileResult, *, rules: Sequence[Any],
                 steps: Sequence[ShapeStep] | None, target: str, started_at: float,
                 finished_at: float, processes: int, version: str = "",
                 partial: bool = False) -> RunResult:
    """The judged RunResult of a Locust run (``judge``, as every run)."""
    from loadkit.judge import judge

    gate = profile_gate(scenario, profile.name)
    if not rules and gate["sla_origin"] == "scenario":
        gate["sla_origin"] = "none"       # nothing was given to judge it: say so, never pass silently
    profile = replace(profile, sla=tuple(getattr(r, "text", str(r)) for r in rules), **gate)
    steps_by_index = {s.index: s for s in steps or ()}
    warnings = []
    if any(s.rate is not None for s in steps or ()):
        warnings.append(CLOSED_MODEL_WARNING)
    if steps is None:
        warnings.append("no profile chosen: users were driven by hand (Locust web UI or -u/-r)")
    request = scenario.request
    result = RunResult(
        scenario=ScenarioInfo(name=scenario.name, target=redact_url(target),
                              method=request.method, path=redact_path(request.path),
                              batch_size=getattr(request, "batch_size", 1)),
        started_at=round(started_at, 3),
        finished_at=round(finished_at, 3),
        profiles=(profile,),
        environment=Environment(python=platform.python_version(),
                                platform=f"{platform.system()} {platform.machine()}",
                                uvloop=False, processes=processes,
                                host_cores=os.cpu_count() or 1, transport=TRANSPORT),
        health=_health(profile.stages, steps_by_index),
        partial=partial,
        notes=tuple(warnings),
        interrupted=partial,
        loadkit_version=version,
    )
    return judge(result)


def tab_rows(result: RunResult, out_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The loadkit web-UI tab after Stop: every stage as judged, then the verdict and the
    report folder (the live rows are gone once the run ends; the page must not go blank)."""
    from loadkit.reporters._common import status_line

    rows: list[dict[str, Any]] = []
    for p in result.profiles:
        for s in p.stages:
            lat = s.latency_ms
            rows.append({"stage": s.index, "label": s.label + (" (warm-up)" if s.warmup else ""),
                         "requests": s.requests, "errors": s.errors, "p50": lat.p50,
                         "p90": lat.p90, "p95": lat.p95, "p99": lat.p99, "p999": lat.p999,
                         "max": lat.max})
    status, code, text = status_line(result)
    failed = "; ".join(f"{v.expr}: observed {v.observed}" for v in result.failed_verdicts)
    rows.append({"stage": "verdict", "label": f"{status.upper()} (exit {code}): {text}"
                 + (f" -- {failed}" if failed else ""),
                 "requests": f"reports: {Path(out_dir)}", "errors": "", "p50": "", "p90": "",
                 "p95": "", "p99": "", "p999": "", "max": ""})
    return rows


def write_outputs(result: RunResult, out_dir: str | os.PathLike[str]) -> list[Path]:
    """result.json and every report into ``out_dir`` (reporters return text; we write)."""
    from loadkit.reporters import render_all

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"result.json": dumps(result)}
    files.update(render_all(result))
    written = []
    for filename, text in files.items():
        path = out / filename
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def summary_text(result: RunResult) -> str:
    """loadkit's own terminal table (exact HDR percentiles), to print after Locust's."""
    from loadkit.reporters import text

    return text.render(result)
