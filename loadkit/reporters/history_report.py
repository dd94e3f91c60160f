"""Reports of ``loadkit history``: the show table and JSON, the check's lines and JSON.

End of the history flow (store -> History / TrendCheck -> text). Like every
reporter it returns strings and does no I/O; it reads the value types of
``loadkit.results.history`` and computes nothing. The trend page is
``history_page`` (it needs matplotlib; these do not, so a check stays quick).
"""

from __future__ import annotations

import json
from typing import Any

from loadkit.reporters._common import clean, fmt_num, iso_utc, table
from loadkit.results.codec import to_data
from loadkit.results.history import GATE_METRICS, ChangePoint, History, Regime, TrendCheck
from loadkit.results.status import Status

SHOWN_RUNS = 40          # the text table's newest runs; --json and the page have every run
TABLE_METRICS = ("p50", "p95", "p99", "mean", "throughput", "error_rate")
STATUS_TEXT = {Status.PASS: "PASS", Status.FAIL: "REGRESSION", Status.INCONCLUSIVE: "INCONCLUSIVE"}


def fmt_value(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    if metric == "error_rate":
        return f"{fmt_num(round(value * 100, 3))}%"
    unit = GATE_METRICS[metric].unit if metric in GATE_METRICS else ""
    return f"{fmt_num(value)} {unit}".strip()


def fmt_change(cp: ChangePoint) -> str:
    if cp.metric == "error_rate":
        return f"{(cp.after - cp.before) * 100:+.2f} points"
    return f"{cp.change * 100:+.1f}%"


def short_commit(commit: str | None) -> str:
    return commit[:10] if commit else "-"


# -- show --json ------------------------------------------------------------------

def history_data(h: History) -> dict[str, Any]:
    """The object ``history show --json`` prints (DESIGN.md): runs oldest first with their
    per-profile figures, change points with the index of the new regime's first run."""
    runs = [{"index": i, "id": r.id, "started_at": r.started_at, "time": iso_utc(r.started_at),
             "commit": r.commit, "branch": r.branch, "runner": r.runner, "status": r.status,
             "profiles": r.profiles} for i, r in enumerate(h.runs)]
    points = [dict(to_data(cp), confidence=1.0 - cp.p_value) for cp in h.change_points]
    return {"schema": h.schema, "scenario": h.scenario, "branch": h.branch,
            "significance": h.significance, "min_magnitude": h.min_magnitude, "runs": runs, "change_points": points,
            "regimes": [to_data(r) for r in h.regimes], "skipped_partial": h.skipped_partial}


def render_history_json(h: History) -> str:
    return json.dumps(history_data(h), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# -- show (text) ------------------------------------------------------------------

def profiles_of(h: History) -> list[str]:
    names: dict[str, None] = {}
    for r in h.runs:
        names.update(dict.fromkeys(r.profiles))
    return list(names)


def render_history_text(h: History) -> str:
    """Runs oldest first per profile (the newest SHOWN_RUNS), change points, current regimes."""
    scope = f" · branch {h.branch}" if h.branch else ""
    lines = [f"loadkit history · {clean(h.scenario)}{scope} · {len(h.runs)} run(s), oldest first "
             f"· change points at significance {fmt_num(h.significance)}"]
    if h.skipped_partial:
        lines.append(f"({h.skipped_partial} partial run(s) stored but not analysed)")
    marks: dict[tuple[str, int], list[str]] = {}
    for cp in h.change_points:
        marks.setdefault((cp.profile, cp.index), []).append(f"{cp.metric} {fmt_change(cp)}")
    first = max(0, len(h.runs) - SHOWN_RUNS)
    for profile in profiles_of(h):
        metrics = [m for m in TABLE_METRICS if any(m in r.profiles.get(profile, {}) for r in h.runs)]
        rows = []
        for i in range(first, len(h.runs)):
            r = h.runs[i]
            fig = r.profiles.get(profile, {})
            rows.append([str(i), iso_utc(r.started_at).replace(" UTC", ""), short_commit(r.commit),
                         clean(r.branch or "-", 20)]
                        + [fmt_value(m, fig.get(m)) if m in fig else "-" for m in metrics]
                        + [clean("; ".join(marks.get((profile, i), [])), 50)])
        lines += ["", f"profile {clean(profile)}"]
        if first:
            lines.append(f"  ({first} older run(s) not shown; --json or --out has them all)")
        lines += table(["#", "started (UTC)", "commit", "branch", *metrics, "change point"], rows,
                       "rlll" + "r" * len(metrics) + "l", indent="  ")
    lines += ["", "change points" if h.change_points else "change points: none"]
    if h.change_points:
        rows = [[cp.profile, cp.metric, str(cp.index), short_commit(cp.commit),
                 fmt_value(cp.metric, cp.before), fmt_value(cp.metric, cp.after), fmt_change(cp),
                 cp.direction, f"{cp.p_value:.2g}"] for cp in h.change_points]
        lines += table(["profile", "metric", "run", "commit", "before", "after", "change",
                        "direction", "p"], rows, "llrlrrrlr", indent="  ")
    if h.regimes:
        lines += ["", "current regimes"] + [f"  {regime_line(g)}" for g in h.regimes]
    return "\n".join(lines) + "\n"


# -- check ------------------------------------------------------------------------

def render_check_text(c: TrendCheck) -> str:
    scope = f" against branch {c.branch}" if c.branch else ""
    lines = [f"loadkit history check · {clean(c.scenario)} · {STATUS_TEXT[c.status]}{scope}",
             clean(c.message)]
    rows = [[f.profile, f.metric, f.state, fmt_value(f.metric, f.observed),
             fmt_value(f.metric, f.regime_mean), str(f.regime_runs) if f.regime_runs else "-",
             "-" if f.change is None else (f"{f.change * 100:+.2f} pt" if f.metric == "error_rate"
                                           else f"{f.change * 100:+.1f}%"),
             "-" if f.p_value is None else f"{f.p_value:.2g}"] for f in c.findings]
    lines += table(["profile", "metric", "state", "candidate", "regime mean", "runs", "change",
                    "p"], rows, "lllrrrrr", indent="  ")
    return "\n".join(lines) + "\n"


def render_check_json(c: TrendCheck) -> str:
    return json.dumps(to_data(c), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def regime_line(g: Regime) -> str:
    return (f"{clean(g.profile)} {g.metric}: mean {fmt_value(g.metric, g.mean)}, sd "
            f"{fmt_value(g.metric, g.stdev)}, over {g.runs} run(s) from run {g.start}")
