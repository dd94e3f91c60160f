"""The trend page of ``loadkit history report``: history.html, self-contained.

End of the history flow (store -> History -> html). It has the run report's look
(the same small-page head and chart style): one chart per metric over the runs,
each change point marked with its commit, the current regime's band shaded;
charts are inline SVG images, the page has no script. Returns a string, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from jinja2 import Environment

from loadkit.reporters._common import fmt_num, iso_utc
from loadkit.reporters._documents import small_page
from loadkit.reporters.charts import GREEN, MUTED, RED, Chart, color, figure, style, to_uri
from loadkit.reporters.history_report import fmt_change, fmt_value, profiles_of, short_commit
from loadkit.results.history import GATE_METRICS, ChangePoint, History


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
    for pi, name in enumerate(profiles_of(h)):
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
