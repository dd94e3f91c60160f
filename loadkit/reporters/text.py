"""The terminal summary the CLI prints after a run: plain fixed-width text.

Plain on purpose: it must read the same in a terminal, a CI log and a pasted
issue, so no colour codes and no box drawing. Names are cut to a column width and
control characters replaced, so a scenario cannot scramble the log or the terminal.
"""

from __future__ import annotations

import textwrap

from loadkit.reporters import server_view
from loadkit.reporters._common import (  # clean, table: re-exported, other reporters use them
    status_line,
    INPUT_HEADER,
    error_lines,
    errors_cell,
    fmt_duration,
    fmt_num,
    headline,
    input_groups,
    iso_utc,
    notes,
    stage_load,
    clean,
    summary_cells,
    table,
    verdict_state,
)
from loadkit.reporters._verdicts import verdict_message, verdict_rule
from loadkit.reporters._streams import (
    STEP_HEADER,
    STREAM_ALIGN,
    STREAM_HEADER,
    error_details,
    step_cells,
    stream_rows,
    tokens_note,
)
from loadkit.reporters.search_report import probe_table
from loadkit.results.model import ProfileResult, RunResult

NAME_WIDTH = 24
LINE_WIDTH = 100      # sentences (headlines, warnings) wrap here rather than lose their end


def wrap(text: object, first: str, rest: str, width: int = LINE_WIDTH) -> list[str]:
    """A sentence as printable lines of at most ``width``: ``first`` opens the first line,
    ``rest`` indents the others. Nothing is cut: a headline's last clause (a stress
    profile's recovery time) is often the one a reader came for."""
    return textwrap.wrap(clean(text), width=width, initial_indent=first,
                         subsequent_indent=rest, break_on_hyphens=False) or [first.rstrip()]


def _profiles(result: RunResult) -> list[str]:
    rows = [[clean(p.name, NAME_WIDTH), clean(p.kind, 14), *summary_cells(p.summary)]
            for p in result.profiles]
    header = ["profile", "kind", "requests", "rps", "p50 ms", "p95 ms", "p99 ms", "max ms",
              "errors"]
    return table(header, rows, "llrrrrrrr")


def _steps(p: ProfileResult) -> list[str]:
    rows = []
    for s in p.stages:
        rows.append([str(s.index), clean(stage_load(s), 24) + (" (warm-up)" if s.warmup else ""),
                     f"{s.requests:,}", fmt_num(s.throughput_rps), fmt_num(s.latency_ms.p50),
                     fmt_num(s.latency_ms.p99),
                     errors_cell(s.errors, s.requests)])
    header = ["step", "load", "requests", "rps", "p50 ms", "p99 ms", "errors"]
    if p.summary.streamed:              # where TTFT breaks and ITL climbs, step by step
        rows = [row + step_cells(st) for row, st in zip(rows, p.stages, strict=True)]
        header += STEP_HEADER
    return table(header, rows, "llrrrrr" + "r" * (len(header) - 7), indent="  ")


def _probes(p: ProfileResult) -> list[str]:
    header, rows = probe_table(p)
    rows = [tuple(clean(c, 60) for c in r) for r in rows]
    return table(header, rows, "llrlrrrrrl", indent="  ") if rows else []


def _inputs(p: ProfileResult) -> list[str]:
    lines = []
    for g in input_groups(p):
        lines += wrap(g.line, "  by input: ", "    ")
        rows = [[clean(r[0], 40), *r[1:]] for r in g.rows]
        lines += table(list(INPUT_HEADER), rows, "lrrrr", indent="    ")
    return lines


def _server(p: ProfileResult) -> list[str]:
    """The server's own metrics: the turning-point sentence and what moved most."""
    lines = wrap(server_view.server_headline(p), "  server: ", "    ") \
        if server_view.server_headline(p) else []
    timing = server_view.timing_line(p)
    lines += wrap(timing, "  ", "    ") if timing else []
    rows = server_view.moved_rows(p)
    if rows:
        lines.append("  server series that moved most (first -> last step):")
        lines += table(list(server_view.MOVED_HEADER),
                       [[clean(r[0], 60), *r[1:]] for r in rows], "llrrr", indent="    ")
    return lines


def _verdicts(result: RunResult) -> list[str]:
    rows = []
    for v in result.verdicts:
        expr, scope = verdict_rule(result, v)
        rows.append([verdict_state(v).upper(), clean(v.profile, NAME_WIDTH),
                     clean(expr + scope, 90), clean(verdict_message(v, with_reason=not scope), 90)])
    return table(["result", "profile", "rule", "detail"], rows, "llll", indent="  ")


def render(result: RunResult) -> str:
    status, exit_code, status_text = status_line(result)
    sc = result.scenario
    lines = [(f"loadkit · {clean(sc.name, 60)} · {status.upper()} "
             f"(exit {exit_code}): {status_text}"),
             f"target {clean(sc.method + ' ' + sc.target.rstrip('/') + sc.path, 80)} · "
             f"{iso_utc(result.started_at)} · {fmt_duration(result.duration_s)} · "
             f"loadkit {clean(result.loadkit_version or '?', 20)}"
             + (" · PARTIAL RESULT" if result.partial else ""), ""]
    if result.profiles:
        lines += _profiles(result) + [""]
    errors = error_lines(result)
    if errors:
        lines += ["errors"] + [line for e in errors for line in wrap(clean(e, 400), "  ", "    ")]
        lines += [""]
    streams = stream_rows(result)
    if streams:
        rows = [[clean(r[0], NAME_WIDTH), *r[1:]] for r in streams]
        lines += ["streaming"] + table(list(STREAM_HEADER), rows, STREAM_ALIGN, indent="  ")
        note = tokens_note(result)
        lines += (wrap(note, "  ", "  ") if note else []) + [
            line for d in error_details(result) for line in wrap(d, "  ! ", "    ")] + [""]
    for p in result.profiles:
        head = headline(p)
        multi = len(p.measured_stages()) > 1
        by_input = _inputs(p) + _server(p)
        if head or multi or by_input:
            name = clean(p.name, NAME_WIDTH)
            lines += wrap(head, f"{name}: ", "  ") if head else [name]
        if p.kind == "search" and probe_table(p)[1]:
            lines += _probes(p)
        elif multi:
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
