"""Reports of ``loadkit history``: the show table and JSON, the check's lines, the trend page.

End of the history flow (store -> History / TrendCheck -> text). Like every
reporter it returns strings and does no I/O; it reads the value types of
``loadkit.results.history`` and computes nothing. The trend page has the run
report's look (the same small-page head and chart style): one chart per metric
over the runs, each change point marked with its commit, the current regime's
band shaded; charts are inline SVG images, the page has no script.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jinja2 import Environment

from loadkit.reporters._common import fmt_num, iso_utc, small_page
from loadkit.reporters.charts import GREEN, MUTED, RED, Chart, color, figure, style, to_uri
from loadkit.reporters.text import clean, table
from loadkit.results.codec import to_data
from loadkit.results.history import GATE_METRICS, ChangePoint, History, Regime, TrendCheck

SHOWN_RUNS = 40          # the text table's newest runs; --json and the page have every run
TABLE_METRICS = ("p50", "p95", "p99", "mean", "throughput", "error_rate")
STATUS_TEXT = {"pass": "PASS", "fail": "REGRESSION", "inconclusive": "INCONCLUSIVE"}


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

def _profiles(h: History) -> list[str]:
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
    for profile in _profiles(h):
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


# -- the trend page ---------------------------------------------------------------

def trend_chart(h: History, profile: str, metric: str, key: str) -> Chart | None:
    """One metric over the runs: points, change points with their commits, the current
    regime's mean and 2-sigma band."""
    pts = [(i, r.profiles[profile][metric]) for i, r in enumerate(h.runs)
           if metric in r.profiles.get(profile, {})]
    if not pts:
        return None
    scale = 100.0 if metric == "error_rate" else 1.0
    unit = "%" if metric == "error_rate" else GATE_METRICS[metric].unit
    regime = next((g for g in h.regimes if g.profile == profile and g.metric == metric), None)
    cps = [cp for cp in h.change_points if cp.profile == profile and cp.metric == metric]
    title = f"{profile} · {metric}"
    with style():
        fig = figure(8.0, 2.6)
        ax = fig.add_subplot()
        ax.plot([i for i, _ in pts], [v * scale for _, v in pts], color=color(0), marker=".",
                label=metric)
        if regime is not None and regime.runs > 1:
            x = [regime.start, len(h.runs) - 1]
            ax.fill_between(x, [regime.low * scale] * 2, [regime.high * scale] * 2,
                            color=color(0), alpha=0.12, linewidth=0, label="current regime ±2 sd")
            ax.plot(x, [regime.mean * scale] * 2, color=color(0), linestyle=":", linewidth=1)
        for cp in cps:
            ax.axvline(cp.index - 0.5, color=RED if cp.direction == "worse" else GREEN,
                       linestyle="--", linewidth=1)
            ax.annotate(f"{short_commit(cp.commit)} {fmt_change(cp)}", (cp.index - 0.5, 1.0),
                        xycoords=("data", "axes fraction"), fontsize=7, color=MUTED,
                        rotation=90, va="top", ha="right")
        ax.set_xlabel("run (oldest first)")
        ax.set_ylabel(f"{metric} ({unit})")
        ax.set_ylim(bottom=0)
        ax.set_title(title, loc="left")
        ax.legend(loc="lower left")
        alt = (f"{title} over {len(pts)} runs; " + (
            "change points at runs " + ", ".join(f"{cp.index} ({fmt_change(cp)})" for cp in cps)
            if cps else "no change point"))
        return Chart(key, title, to_uri(fig), alt)


_HTML = small_page("loadkit history: {{ h.scenario }}", """
th:first-child,td:first-child{text-align:left}.worse{color:#dc2626;font-weight:600}.better{color:#16a34a;font-weight:600}
""", """<h1>loadkit history · {{ h.scenario }}</h1>
<p class="muted">{{ h.runs|length }} run(s){% if h.branch %} on branch {{ h.branch }}{% endif %},
{{ first }} to {{ last }} · change points by E-Divisive (Apache Otava) at significance
{{ significance }}{% if h.skipped_partial %} · {{ h.skipped_partial }} partial run(s) not analysed{% endif %}</p>
<h2>Change points</h2>
{% if points %}<table><tr><th>profile</th><th>metric</th><th>run</th><th>commit</th><th>started</th>
<th>before</th><th>after</th><th>change</th><th>direction</th><th>p</th></tr>
{% for p in points %}<tr><td>{{ p.profile }}</td><td>{{ p.metric }}</td><td>{{ p.index }}</td>
<td>{{ p.commit }}</td><td>{{ p.started }}</td><td>{{ p.before }}</td><td>{{ p.after }}</td>
<td>{{ p.change }}</td><td class="{{ p.direction }}">{{ p.direction }}</td><td>{{ p.p }}</td></tr>
{% endfor %}</table>{% else %}<p>None: every metric stayed in one regime.</p>{% endif %}
{% for prof in profiles %}<h2>{{ prof.name }}</h2>
{% for ch in prof.charts %}<figure><img src="{{ ch.uri }}" alt="{{ ch.alt }}"></figure>{% endfor %}
{% endfor %}
<h2>Runs</h2>
<table><tr><th>#</th><th>started</th><th>commit</th><th>branch</th><th>runner</th><th>status</th></tr>
{% for r in runs %}<tr><td>{{ r.i }}</td><td>{{ r.time }}</td><td>{{ r.commit }}</td><td>{{ r.branch }}</td>
<td>{{ r.runner }}</td><td>{{ r.status }}</td></tr>{% endfor %}</table>
</body></html>
""")


def _point_row(cp: ChangePoint) -> dict[str, str]:
    return {"profile": cp.profile, "metric": cp.metric, "index": str(cp.index),
            "commit": short_commit(cp.commit), "started": iso_utc(cp.started_at),
            "before": fmt_value(cp.metric, cp.before), "after": fmt_value(cp.metric, cp.after),
            "change": fmt_change(cp), "direction": cp.direction, "p": f"{cp.p_value:.2g}"}


def render_history_html(h: History, metrics: Sequence[str] = tuple(GATE_METRICS)) -> str:
    """history.html: self-contained (inline SVG charts), every value escaped by jinja2."""
    profiles = []
    for pi, name in enumerate(_profiles(h)):
        charts = [c for mi, m in enumerate(metrics)
                  if (c := trend_chart(h, name, m, f"trend-{pi}-{mi}")) is not None]
        profiles.append({"name": name, "charts": charts})
    runs = [{"i": i, "time": iso_utc(r.started_at), "commit": short_commit(r.commit),
             "branch": r.branch or "-", "runner": r.runner or "-", "status": r.status}
            for i, r in enumerate(h.runs)]
    return Environment(autoescape=True).from_string(_HTML).render(
        h=h, profiles=profiles, runs=runs, points=[_point_row(cp) for cp in h.change_points],
        significance=fmt_num(h.significance),
        first=iso_utc(h.runs[0].started_at) if h.runs else "-",
        last=iso_utc(h.runs[-1].started_at) if h.runs else "-")


def regime_line(g: Regime) -> str:
    return (f"{g.profile} {g.metric}: mean {fmt_value(g.metric, g.mean)} over {g.runs} run(s) "
            f"since run {g.start}")
