"""Shared wording for every reporter: how a verdict, a number, a stage or a time reads.

Reporters sit at the end of the flow (RunResult -> text). Keeping the wording in one
place means the JUnit failure message, the Markdown table, the terminal summary and
the HTML report say the same thing about the same verdict.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from loadkit.results.model import ProfileResult, RunResult, StageResult, Summary, Verdict
from loadkit.results.status import Status, exit_code_of

VerdictState = Literal["pass", "fail", "inconclusive"]

LATENCY_METRICS = frozenset({"min", "p50", "p90", "p95", "p99", "p999", "max", "mean"})

STATUS_TEXT = {
    "pass": "every SLA passed",
    "fail": "an SLA failed",
    "inconclusive": "inconclusive: the run cannot decide",
    "error": "the run ended with an error",
    "interrupted": "interrupted: partial result",
}


def status_line(result: RunResult) -> tuple[str, int, str]:
    """(status word, exit code, what it means): the one banner every report shows.

    The words never contradict the verdict table: a pass with no verdict at all
    says nothing was gated, and an unjudged result is never a pass.
    """
    status = Status(result.status).value if result.status is not None else "unjudged"
    text = STATUS_TEXT.get(status, "not judged: no verdict was derived")
    if status == "pass" and not result.verdicts:
        text = "nothing was gated: no SLA rule judged this run"
    elif status == "pass" and all(v.default for v in result.verdicts):
        text = "only the default rule judged this run (error_rate < 1%; the scenario has no sla:)"
    stepped = [v for v in result.verdicts if v.scope == "steps" and not v.inconclusive]
    if stepped and status in ("pass", "fail"):
        later = sum(v.passed and v.first_broken_stage not in (None, v.judged_stage)
                    for v in stepped)
        text += (f"; {len(stepped)} ramp/stress rule(s) judged at the lightest step"
                 + (f", {later} of them broken at a heavier step (see the table)"
                    if later else ""))
    return status, exit_code_of(result.status), text


def banner_tone(result: RunResult) -> str:
    """The banner's colour: a pass that gated nothing, or only by the default rule, is
    not shown green (it would sit above a table that says nothing was checked)."""
    status = Status(result.status).value if result.status is not None else "unjudged"
    if status == "pass" and (not result.verdicts or all(v.default for v in result.verdicts)):
        return "ungated"
    return status


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
    if metric in ("error_rate", "slo_attainment"):
        return f"{fmt_num(value * 100)}%"
    if metric == "throughput":
        return f"{fmt_num(value)} rps"
    if metric == "rows_per_s":
        return f"{fmt_num(value)} rows/s"
    return f"{fmt_num(value)} {unit}".rstrip()


def stage_load(stage: StageResult) -> str:
    """How much load a stage offered: ``c=16``, ``c=16 batch=8`` (a batch-size sweep),
    ``200 rps`` or ``recovery 100 rps``.

    The stage's own label says it best when it names the load (the scenario compiler
    writes ``c=16 batch=8``, ``spike 500 rps``); a warm-up's prefix is left to the
    caller, which marks warm-up its own way.
    """
    if stage.rate is not None:
        load = f"{fmt_num(stage.rate)} rps"
    elif stage.concurrency is not None:
        load = f"c={stage.concurrency}"
    else:
        return stage.label or f"stage {stage.index}"
    label = stage.label.removeprefix("warm-up").strip()
    if re.search(rf"(?<!\S){re.escape(load)}(?!\S)", label):
        return label
    return f"{load} batch={stage.batch_size}" if stage.batch_size != 1 else load


def stage_of(profile: ProfileResult | None, index: int | None) -> StageResult | None:
    if profile is None or index is None:
        return None
    for s in profile.stages:
        if s.index == index:
            return s
    return None


_KIND_CODES = {"http_4xx": range(400, 500), "http_5xx": range(500, 600)}
_KIND_WORDS = {"check_failed": "answers that failed the scenario's checks",
               "timeout": "no answer within the timeout", "connect": "connection refused or failed",
               "reset": "connection dropped mid-request", "too_large": "body over max_response_bytes"}


def first_failures(p: ProfileResult) -> dict[str, str]:
    """Per error kind, what its first failure in the profile's measured stages was
    (``check_failed``: ``json_has predictions missing``), from each stage's record."""
    out: dict[str, str] = {}
    for s in p.measured_stages():
        for kind, text in s.first_errors.items():
            out.setdefault(kind, text)
    return out


def error_lines(result: RunResult) -> list[str]:
    """Per profile with errors, each kind with its count, status codes and the request:
    ``http_4xx 150: 404 ×150 — POST /predcit`` -- what a user can act on; a failed
    check says which: ``check_failed 150: json_has predictions missing (the first
    failure) — POST /predict``."""
    request = f"{result.scenario.method} {result.scenario.path}"
    out = []
    for p in result.profiles:
        if not p.summary.errors:
            continue
        codes: dict[int, int] = {}
        firsts = first_failures(p)
        for s in p.measured_stages():
            for code, n in s.status_codes.items():
                if code.isdigit():
                    codes[int(code)] = codes.get(int(code), 0) + n
        parts = []
        for kind, n in sorted(p.summary.error_kinds.items(), key=lambda kv: -kv[1]):
            span = _KIND_CODES.get(kind)
            detail = ", ".join(f"{c} ×{m:,}" for c, m in sorted(codes.items())
                               if span is not None and c in span)
            if not detail and kind in firsts:
                detail = f"{firsts[kind]} (the first failure)"
            detail = detail or _KIND_WORDS.get(kind, "")
            parts.append(f"{kind} {n:,}" + (f": {detail}" if detail else ""))
        out.append(f"{p.name}: {'; '.join(parts)} — {request}")
    return out


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


def errors_cell(errors: int, requests: int) -> str:
    """``12 (0.5%)``: how a table shows a count of errors."""
    return f"{errors:,} ({error_rate_pct(errors, requests)})"


def summary_cells(s: Summary, *, with_max: bool = True) -> list[str]:
    """A profile's summary row after its name and kind: requests, rps, p50/p95/p99 (max) ms,
    errors; the same numbers in every table that lists profiles."""
    lat = s.latency_ms
    cells = [f"{s.requests:,}", fmt_num(s.throughput_rps), fmt_num(lat.p50), fmt_num(lat.p95),
             fmt_num(lat.p99)]
    return cells + ([fmt_num(lat.max)] if with_max else []) + [errors_cell(s.errors, s.requests)]


def headline(profile: ProfileResult) -> str:
    """The analysis' one-line headline ("" for a profile not analysed)."""
    return profile.analysis.headline if profile.analysis is not None else ""


INPUT_HEADER = ("input", "requests", "errors", "p50 ms", "p99 ms")


@dataclass(frozen=True)
class InputGroup:
    """Latency by input for one group of stages: the sentence and the per-bucket rows."""

    scope: str
    line: str
    rows: tuple[tuple[str, ...], ...]


def input_groups(p: ProfileResult) -> list[InputGroup]:
    """The profile's latency-by-input groups, shown by every reporter: ``scope`` (e.g.
    "batch 8", or ""), ``line`` (the sentence) and ``rows`` (label, requests, errors,
    p50 ms, p99 ms)."""
    found = p.analysis.breakdown if p.analysis is not None else None
    if found is None:
        return []
    return [InputGroup(g.scope, g.line,
                       tuple((b.label, f"{b.requests:,}", f"{b.errors:,}", fmt_num(b.p50_ms),
                              fmt_num(b.p99_ms)) for b in g.buckets))
            for g in found.groups]


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


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean(text: object, width: int | None = None) -> str:
    """One printable line, cut to ``width`` with an ellipsis."""
    out = _CONTROL.sub("?", " ".join(str(text).split()))
    if width is not None and len(out) > width:
        out = out[: width - 1] + "…"
    return out


def table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str,
          indent: str = "") -> list[str]:
    """Fixed-width columns; ``align`` is one ``l``/``r`` per column."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    lines = []
    for row in [header, *rows]:
        cells = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, align, strict=True)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines
