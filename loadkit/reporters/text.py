"""The terminal summary the CLI prints after a run: plain fixed-width text.

Plain on purpose: it must read the same in a terminal, a CI log and a pasted
issue, so no colour codes and no box drawing. Names are cut to a column width and
control characters replaced, so a scenario cannot scramble the log or the terminal.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from typing import Any

from loadkit.reporters._common import (
    STATUS_EXIT,
    STATUS_TEXT,
    error_rate_pct,
    fmt_duration,
    fmt_num,
    headline,
    iso_utc,
    notes,
    stage_load,
    verdict_message,
    verdict_rule,
    verdict_state,
)
from loadkit.results.model import ProfileResult, RunResult

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NAME_WIDTH = 24
LINE_WIDTH = 100      # sentences (headlines, warnings) wrap here rather than lose their end


def clean(text: object, width: int | None = None) -> str:
    """One printable line, cut to ``width`` with an ellipsis."""
    out = _CONTROL.sub("?", " ".join(str(text).split()))
    if width is not None and len(out) > width:
        out = out[: width - 1] + "…"
    return out


def wrap(text: object, first: str, rest: str, width: int = LINE_WIDTH) -> list[str]:
    """A sentence as printable lines of at most ``width``: ``first`` opens the first line,
    ``rest`` indents the others. Nothing is cut: a headline's last clause (a stress
    profile's recovery time) is often the one a reader came for."""
    return textwrap.wrap(clean(text), width=width, initial_indent=first,
                         subsequent_indent=rest, break_on_hyphens=False) or [first.rstrip()]


def table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str,
          indent: str = "") -> list[str]:
    """Fixed-width columns; ``align`` is one ``l``/``r`` per column."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    lines = []
    for row in [header, *rows]:
        cells = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, align, strict=True)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def _profiles(result: RunResult) -> list[str]:
    rows = []
    for p in result.profiles:
        s, lat = p.summary, p.summary.latency_ms
        rows.append([clean(p.name, NAME_WIDTH), clean(p.kind, 14), f"{s.requests:,}",
                     fmt_num(s.throughput_rps), fmt_num(lat.p50), fmt_num(lat.p95),
                     fmt_num(lat.p99), fmt_num(lat.max),
                     f"{s.errors:,} ({error_rate_pct(s.errors, s.requests)})"])
    header = ["profile", "kind", "requests", "rps", "p50 ms", "p95 ms", "p99 ms", "max ms",
              "errors"]
    return table(header, rows, "llrrrrrrr")


def _steps(p: ProfileResult) -> list[str]:
    rows = []
    for s in p.stages:
        rows.append([str(s.index), clean(stage_load(s), 24) + (" (warm-up)" if s.warmup else ""),
                     f"{s.requests:,}", fmt_num(s.throughput_rps), fmt_num(s.latency_ms.p50),
                     fmt_num(s.latency_ms.p99),
                     f"{s.errors:,} ({error_rate_pct(s.errors, s.requests)})"])
    header = ["step", "load", "requests", "rps", "p50 ms", "p99 ms", "errors"]
    return table(header, rows, "llrrrrr", indent="  ")


def input_groups(p: ProfileResult) -> list[dict[str, Any]]:
    """The profile's latency-by-input groups (analysis is loose JSON data: read defensively).

    Each: ``scope`` (e.g. "batch 8", or ""), ``line`` (the sentence) and
    ``rows`` (label, requests, errors, p50 ms, p99 ms), shown by every reporter.
    """
    analysis: Any = p.analysis if isinstance(p.analysis, dict) else {}
    found = analysis.get("breakdown")
    if not isinstance(found, dict) or not isinstance(found.get("groups"), list):
        return []
    out = []
    for g in found["groups"]:
        if not isinstance(g, dict):
            continue
        rows = [(str(b.get("label", "")), f"{int(b.get('requests', 0)):,}",
                 f"{int(b.get('errors', 0)):,}", fmt_num(b.get("p50_ms")), fmt_num(b.get("p99_ms")))
                for b in g.get("buckets", []) if isinstance(b, dict)]
        out.append({"scope": str(g.get("scope", "")), "line": str(g.get("line", "")),
                    "rows": rows})
    return out


INPUT_HEADER = ("input", "requests", "errors", "p50 ms", "p99 ms")


def _inputs(p: ProfileResult) -> list[str]:
    lines = []
    for g in input_groups(p):
        lines += wrap(g["line"], "  by input: ", "    ")
        rows = [[clean(r[0], 40), *r[1:]] for r in g["rows"]]
        lines += table(list(INPUT_HEADER), rows, "lrrrr", indent="    ")
    return lines


def _verdicts(result: RunResult) -> list[str]:
    rows = []
    for v in result.verdicts:
        expr, scope = verdict_rule(result, v)
        rows.append([verdict_state(v).upper(), clean(v.profile, NAME_WIDTH),
                     clean(expr + scope, 90), clean(verdict_message(v, with_reason=not scope), 90)])
    return table(["result", "profile", "rule", "detail"], rows, "llll", indent="  ")


def render(result: RunResult) -> str:
    status = result.status
    sc = result.scenario
    lines = [(f"loadkit · {clean(sc.name, 60)} · {status.upper()} "
             f"(exit {STATUS_EXIT.get(status, 1)}): {STATUS_TEXT.get(status, status)}"),
             f"target {clean(sc.method + ' ' + sc.target.rstrip('/') + sc.path, 80)} · "
             f"{iso_utc(result.started_at)} · {fmt_duration(result.duration_s)} · "
             f"loadkit {clean(result.loadkit_version or '?', 20)}"
             + (" · PARTIAL RESULT" if result.partial else ""), ""]
    if result.profiles:
        lines += _profiles(result) + [""]
    for p in result.profiles:
        head = headline(p)
        multi = len(p.measured_stages()) > 1
        by_input = _inputs(p)
        if head or multi or by_input:
            name = clean(p.name, NAME_WIDTH)
            lines += wrap(head, f"{name}: ", "  ") if head else [name]
        if multi:
            lines += _steps(p)
        lines += by_input
        if head or multi or by_input:
            lines.append("")
    if result.verdicts:
        lines += ["SLA"] + _verdicts(result) + [""]
    warnings = notes(result)
    if warnings:
        lines.append("warnings")
        for w in warnings:
            lines += wrap(w, "  ! ", "    ")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
