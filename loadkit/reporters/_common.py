"""Shared wording for every reporter: how a verdict, a number, a stage or a time reads.

Reporters sit at the end of the flow (RunResult -> text). Keeping the wording in one
place means the JUnit failure message, the Markdown table, the terminal summary and
the HTML report say the same thing about the same verdict.
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal

from loadkit.results.model import ProfileResult, RunResult, StageResult, Verdict

VerdictState = Literal["pass", "fail", "inconclusive"]

LATENCY_METRICS = frozenset({"min", "p50", "p90", "p95", "p99", "p999", "max", "mean"})

STATUS_EXIT = {"pass": 0, "fail": 1, "error": 1, "inconclusive": 4, "interrupted": 130}

STATUS_TEXT = {
    "pass": "every SLA passed",
    "fail": "an SLA failed",
    "inconclusive": "inconclusive: the run cannot decide",
    "error": "the run ended with an error",
    "interrupted": "interrupted: partial result",
}


def verdict_state(v: Verdict) -> VerdictState:
    """Inconclusive wins over passed/failed: such a verdict is never a pass."""
    if v.inconclusive:
        return "inconclusive"
    return "pass" if v.passed else "fail"


def fmt_num(x: float | None) -> str:
    """A number for people: 212, 12.3, 4.56, 0.123 (no exponent, no trailing zeros)."""
    if x is None:
        return "-"
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return "-"
    if float(x).is_integer():
        return f"{int(x):d}"
    ax = abs(x)
    if ax >= 100:
        text = f"{x:.0f}"
    elif ax >= 10:
        text = f"{x:.1f}"
    elif ax >= 1:
        text = f"{x:.2f}"
    else:
        text = f"{x:.3g}" if ax >= 1e-4 else f"{x:.6f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def fmt_metric(metric: str, value: float | None, unit: str = "") -> str:
    """A verdict value in the rule's unit: ``212 ms``, ``0.5%``, ``812 rps``."""
    if value is None:
        return "no data"
    if metric in LATENCY_METRICS:
        return f"{fmt_num(value)} ms"
    if metric == "error_rate":
        return f"{fmt_num(value * 100)}%"
    if metric == "throughput":
        return f"{fmt_num(value)} rps"
    if metric == "rows_per_s":
        return f"{fmt_num(value)} rows/s"
    return f"{fmt_num(value)} {unit}".rstrip()


def relation(observed: float, threshold: float) -> str:
    if observed > threshold:
        return ">"
    if observed < threshold:
        return "<"
    return "="


def verdict_message(v: Verdict) -> str:
    """``observed 212 ms > threshold 200 ms`` (what JUnit puts in its failure message)."""
    thr = fmt_metric(v.metric, v.threshold, v.unit)
    if v.observed is None:
        text = f"no data: no measured request to judge (threshold {thr})"
    else:
        obs = fmt_metric(v.metric, v.observed, v.unit)
        text = f"observed {obs} {relation(v.observed, v.threshold)} threshold {thr}"
    if v.inconclusive:
        text = f"inconclusive: {v.reason or 'the run cannot decide'} ({text})"
    elif v.reason:
        text = f"{text}; {v.reason}"
    return text


def stage_load(stage: StageResult) -> str:
    """How much load a stage offered: ``c=16`` (closed) or ``200 rps`` (open)."""
    if stage.rate is not None:
        return f"{fmt_num(stage.rate)} rps"
    if stage.concurrency is not None:
        return f"c={stage.concurrency}"
    return stage.label or f"stage {stage.index}"


def stage_of(profile: ProfileResult | None, index: int | None) -> StageResult | None:
    if profile is None or index is None:
        return None
    for s in profile.stages:
        if s.index == index:
            return s
    return None


def verdict_scope(result: RunResult, v: Verdict) -> str:
    """The step a verdict is about (``step 2 (c=4)``), or "" for the whole profile."""
    if v.stage is None:
        return ""
    profile = next((p for p in result.profiles if p.name == v.profile), None)
    stage = stage_of(profile, v.stage)
    if stage is None:
        return f"step {v.stage}"
    return f"step {v.stage} ({stage_load(stage)})"


def iso_utc(ts: float) -> str:
    if not ts:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def fmt_duration(seconds: float) -> str:
    """``850 ms``, ``42.5 s``, ``10 min 03 s``, ``1 h 02 min``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{fmt_num(round(seconds, 1))} s"
    total = round(seconds)
    if total < 3600:
        return f"{total // 60} min {total % 60:02d} s"
    return f"{total // 3600} h {total % 3600 // 60:02d} min"


def error_rate_pct(errors: int, requests: int) -> str:
    if not requests:
        return "0%"
    return f"{fmt_num(round(errors * 100 / requests, 2))}%"


def headline(profile: ProfileResult) -> str:
    """The analysis' one-line headline when it wrote one (analysis is plain data)."""
    analysis: Any = profile.analysis if isinstance(profile.analysis, dict) else {}
    text = analysis.get("headline")
    return str(text) if text else ""


def verdict_counts(result: RunResult) -> dict[str, int]:
    counts = {"pass": 0, "fail": 0, "inconclusive": 0}
    for v in result.verdicts:
        counts[verdict_state(v)] += 1
    return counts


def notes(result: RunResult) -> list[str]:
    """Everything a reader must know before trusting the numbers, most important first."""
    out: list[str] = []
    if result.partial:
        out.append("partial result: the run was interrupted before every profile finished")
    out += list(result.warnings) + list(result.health.reasons)
    if result.health.fell_behind and not result.health.reasons:
        out.append("the generator fell behind its schedule: it, not the target, may have "
                   "been the limit")
    if result.environment.insecure:
        out.append("TLS certificates were not verified (--insecure)")
    overflow = sum(s.overflow for p in result.profiles for s in p.stages)
    if overflow:
        out.append(f"{overflow:,} latencies above 1 h were clamped to 1 h")
    return list(dict.fromkeys(out))
