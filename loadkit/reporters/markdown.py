"""summary.md: the run in a few GitHub-flavoured Markdown tables.

Written for a pull request comment or ``$GITHUB_STEP_SUMMARY`` (the CLI appends it
there): a status line, one summary row per profile, the analysis headlines, the errors
by kind (with a failed check's first failure), latency by input where a profile asked
for it, the SLA verdicts, warnings. Text that came from the scenario or the server is
escaped so a name cannot break the table or inject HTML.
"""

from __future__ import annotations

from loadkit.reporters import server_view
from loadkit.reporters._common import (
    status_line,
    INPUT_HEADER,
    fmt_duration,
    fmt_metric,
    headline,
    input_groups,
    iso_utc,
    error_lines,
    notes,
    summary_cells,
    verdict_counts,
    verdict_state,
)
from loadkit.reporters._verdicts import verdict_rule
from loadkit.reporters._streams import (
    STREAM_ALIGN,
    STREAM_HEADER,
    error_details,
    stream_rows,
    tokens_note,
)
from loadkit.reporters.search_report import probe_table
from loadkit.results.model import ProfileResult, RunResult

_ICON = {"pass": "✅", "fail": "❌", "inconclusive": "⚠️", "error": "❌", "interrupted": "⏹️"}
_ESCAPES = {"\\": "\\\\", "|": "\\|", "<": "&lt;", ">": "&gt;", "`": "\\`", "*": "\\*",
            "_": "\\_", "[": "\\[", "]": "\\]", "&": "&amp;"}


def esc(text: object) -> str:
    """Markdown-safe inline text (one line; pipes, HTML and emphasis neutralised)."""
    raw = " ".join(str(text).split())
    return "".join(_ESCAPES.get(c, c) for c in raw)


def _code(text: object) -> str:
    """Inline code span; backticks inside are replaced so the span cannot be closed early."""
    raw = " ".join(str(text).split()).replace("`", "'").replace("|", "\\|")
    return f"`{raw}`"


def _table(header: list[str], rows: list[list[str]], align: str) -> list[str]:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _summary(result: RunResult) -> list[str]:
    rows = [[esc(p.name), esc(p.kind), *summary_cells(p.summary, with_max=False)]
            for p in result.profiles]
    header = ["profile", "kind", "requests", "rps", "p50 ms", "p95 ms", "p99 ms", "errors"]
    return _table(header, rows, "llrrrrrr")


def _probes(p: ProfileResult) -> list[str]:
    """A capacity search's probes, in run order, with their verdicts."""
    header, rows = probe_table(p)
    if not rows:
        return []
    return ([f"**{esc(p.name)}** probes:", ""]
            + _table(list(header), [[esc(c) for c in r] for r in rows], "llrlrrrrrl") + [""])


def _inputs(p: ProfileResult) -> list[str]:
    """Latency by input: the sentence and a small table per group of the profile."""
    lines: list[str] = []
    for g in input_groups(p):
        lines += [f"**{esc(p.name)}** by input: {esc(g.line)}", ""]
        lines += _table(list(INPUT_HEADER), [[esc(r[0]), *r[1:]] for r in g.rows], "lrrrr")
        lines.append("")
    return lines


def _server(p: ProfileResult) -> list[str]:
    """The server's own metrics: the turning-point sentence and what moved most."""
    rows = server_view.moved_rows(p)
    line = server_view.server_headline(p)
    timing = server_view.timing_line(p)
    out = [f"**{esc(p.name)}** {esc(timing)}", ""] if timing else []
    if not rows and not line:
        return out
    out += [f"**{esc(p.name)}** server metrics" + (f": {esc(line)}" if line else ""), ""]
    if rows:
        out += _table(list(server_view.MOVED_HEADER),
                      [[_code(r[0]), *(esc(c) for c in r[1:])] for r in rows], "llrrr")
        out.append("")
    return out


def _verdicts(result: RunResult) -> list[str]:
    rows = []
    for v in result.verdicts:
        state = verdict_state(v)
        expr, scope = verdict_rule(result, v)
        # where a verdict was judged is in the rule column; the note keeps what else it says
        note = v.reason if v.inconclusive or not scope else ""
        note = note or ("no data: a rule with no data fails" if v.observed is None else "")
        rows.append([f"{_ICON[state]} {state}", esc(v.profile),
                     _code(expr) + (f" {esc(scope)}" if scope else ""),
                     fmt_metric(v.metric, v.observed, v.unit),
                     fmt_metric(v.metric, v.threshold, v.unit), esc(note)])
    return _table(["result", "profile", "rule", "observed", "threshold", "note"], rows, "llllll")


def render(result: RunResult) -> str:
    status, exit_code, status_text = status_line(result)
    counts = verdict_counts(result)
    lines = [(f"## {_ICON.get(status, '')} loadkit: {esc(result.scenario.name)} — "
             f"{status.upper()}"), ""]
    lines.append(f"**{esc(status_text)}** (exit {exit_code}) · "
                 f"{counts['pass']} passed, {counts['fail']} failed, "
                 f"{counts['inconclusive']} inconclusive")
    lines.append("")
    sc = result.scenario
    lines.append(f"Target {_code(sc.method + ' ' + sc.target.rstrip('/') + sc.path)} · "
                 f"started {iso_utc(result.started_at)} · "
                 f"duration {fmt_duration(result.duration_s)} · "
                 f"loadkit {esc(result.loadkit_version or '?')}"
                 + (" · **partial result**" if result.partial else ""))
    lines.append("")
    if result.profiles:
        lines += ["### Profiles", ""] + _summary(result) + [""]
        heads = [(p.name, headline(p)) for p in result.profiles if headline(p)]
        if heads:
            lines += [f"- **{esc(name)}**: {esc(text)}" for name, text in heads] + [""]
        errors = error_lines(result)
        if errors:
            lines += ["### Errors", ""] + [f"- {esc(e)}" for e in errors] + [""]
        streams = stream_rows(result)
        if streams:
            lines += ["### Streaming", ""] + _table(
                list(STREAM_HEADER), [[esc(r[0]), *r[1:]] for r in streams], STREAM_ALIGN)
            note = tokens_note(result)
            lines += ["", *([esc(note), ""] if note else []),
                      *[f"- {esc(d)}" for d in error_details(result)]]
            lines += [""] if error_details(result) else []
        for p in result.profiles:
            lines += _probes(p)
            lines += _inputs(p) + _server(p)
    if result.verdicts:
        lines += ["### SLA", ""] + _verdicts(result) + [""]
    warnings = notes(result)
    if warnings:
        lines += ["### Warnings", ""] + [f"- ⚠️ {esc(w)}" for w in warnings] + [""]
    return "\n".join(lines)
