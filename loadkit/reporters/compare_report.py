"""Reports of ``loadkit compare``: terminal text, compare.json, compare.html, JUnit.

End of the compare flow (two result.json -> Comparison -> text). Like every
reporter it returns a string and does no I/O. It reads a
``loadkit.results.compare.Comparison``, the value ``loadkit.analysis.compare``
produces; reporters never import the analysis that made it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
from jinja2 import Environment

from loadkit.reporters._common import (
    clean,
    fmt_num,
    iso_utc,
    table,
)
from loadkit.reporters._documents import JunitCase, junit_suite, small_page
from loadkit.reporters.charts import Chart, figure, spectrum_chart, style, to_uri
from loadkit.results.codec import to_data
from loadkit.results.compare import Comparison, MetricComparison, StageComparison
from loadkit.results.hdr import LatencyHistogram

SCHEMA = "loadkit.compare/v1"
VERDICT_TEXT = {"pass": "PASS: no regression", "regression": "REGRESSION",
                "inconclusive": "INCONCLUSIVE: too little data to tell"}
BASE_COLOR, CAND_COLOR = "#2563eb", "#ea580c"


def fmt_change(m: MetricComparison) -> str:
    if m.metric == "error_rate":
        return f"{m.change:+.2f} pp"
    return f"{m.change * 100:+.1f}%"


def fmt_value(m: MetricComparison, value: float) -> str:
    if m.metric == "error_rate":
        return f"{fmt_num(round(value, 3))}%"
    return f"{fmt_num(value)} {m.unit}"


def fmt_ci(m: MetricComparison) -> str:
    if m.ci_low is None or m.ci_high is None:
        return "-"
    if m.metric == "error_rate":
        return f"{m.ci_low:+.2f}..{m.ci_high:+.2f} pp"
    return f"{m.ci_low:.2f}x..{m.ci_high:.2f}x"


def fmt_threshold(m: MetricComparison) -> str:
    if m.threshold is None:
        return "-"
    if m.metric == "error_rate":
        return f"+{fmt_num(m.threshold)} pp"
    sign = "-" if m.metric == "throughput" else "+"
    return f"{sign}{fmt_num(m.threshold * 100)}%"


def metric_state(m: MetricComparison, stage_verdict: str) -> str:
    if stage_verdict == "inconclusive":
        return "inconclusive"
    if m.regression:
        return "REGRESSION"
    if m.threshold is None:
        return "not gated"
    if m.practical:
        return "not significant"
    if m.significant and m.threshold is not None:
        return "below threshold"
    return "ok"


def _stage_name(s: StageComparison) -> str:
    return f"{s.profile} #{s.stage}" + (f" ({s.label})" if s.label else "")


def _rows(c: Comparison) -> list[list[str]]:
    rows = []
    for s in c.stages:
        for m in s.metrics:
            rows.append([clean(_stage_name(s), 32), m.metric, fmt_value(m, m.baseline),
                         fmt_value(m, m.candidate), fmt_change(m), fmt_ci(m), f"{m.p_value:.3g}",
                         fmt_threshold(m), metric_state(m, s.verdict)])
    return rows


def render_compare_text(c: Comparison) -> str:
    """The terminal table: one line per stage and metric, then the reasons."""
    lines = [f"loadkit compare: {VERDICT_TEXT[c.verdict]} (exit {c.exit_code})"]
    for side, ref in (("baseline ", c.baseline), ("candidate", c.candidate)):
        lines.append(f"  {side}  {clean(ref.scenario, 40)}  {clean(ref.target, 60)}  "
                     f"{iso_utc(ref.started_at)}" + ("  (partial)" if ref.partial else ""))
    lines.append(f"  one-sided tests at alpha {fmt_num(c.alpha)} on per-second windows; "
                 f"a regression must also pass its threshold")
    lines.append("")
    header = ["stage", "metric", "baseline", "candidate", "change", "CI (95%)", "p",
              "threshold", "state"]
    if c.stages:
        lines += table(header, _rows(c), "llrrrrrrl", indent="  ")
        lines.append("")
    for r in c.reasons:
        lines.append(f"  - {clean(r)}")
    for s in c.skipped:
        lines.append(f"  - not compared: {clean(s)}")
    return "\n".join(lines) + "\n"


def _data(c: Comparison) -> dict[str, Any]:
    data: dict[str, Any] = to_data(c)
    for s in data["stages"]:
        s.pop("baseline_histogram", None)
        s.pop("candidate_histogram", None)
    return data


def render_compare_json(c: Comparison) -> str:
    """compare.json: the whole Comparison (histograms left to the two result files)."""
    doc = {"schema": SCHEMA, "verdict": c.verdict, "exit_code": c.exit_code, **_data(c)}
    doc["verdict"] = c.verdict
    return json.dumps(doc, indent=2, allow_nan=False, default=str) + "\n"


def render_compare_junit(c: Comparison) -> str:
    """One <testcase> per stage and gated metric; inconclusive is an <error>, not a skip."""
    cases = []
    for s in c.stages:
        for m in s.metrics:
            if m.threshold is None:
                continue
            msg = clean(f"{m.metric} {fmt_value(m, m.baseline)} -> {fmt_value(m, m.candidate)} "
                        f"({fmt_change(m)}, p={m.p_value:.3g}, threshold {fmt_threshold(m)})")
            case = JunitCase(clean(f"loadkit.compare.{s.profile}"),
                             clean(f"{m.metric} stage {s.stage}"), "pass", msg)
            if s.verdict == "inconclusive":
                case = replace(case, outcome="error", kind="inconclusive",
                               message=clean("; ".join(s.reasons)))
            elif m.regression:
                case = replace(case, outcome="failure", kind="regression", message=msg)
            cases.append(case)
    if not c.stages:
        cases.append(JunitCase("loadkit.compare", "comparison", "error", kind="inconclusive",
                               message=clean("; ".join(c.reasons))))
    return junit_suite("loadkit.compare", cases)


# -- html ------------------------------------------------------------------------------

def window_chart(key: str, title: str, base: tuple[float, ...],
                 cand: tuple[float, ...]) -> Chart | None:
    """Per-second p99 of both runs over their own elapsed seconds."""
    if not base and not cand:
        return None
    with style():
        fig = figure(8.0, 2.6)
        ax = fig.add_subplot()
        for label, values, col in (("baseline", base, BASE_COLOR), ("candidate", cand, CAND_COLOR)):
            if values:
                ax.plot(np.arange(len(values)), values, color=col, label=label, marker=".")
        ax.set_xlabel("second of the stage")
        ax.set_ylabel("p99 (ms)")
        ax.set_ylim(bottom=0)
        ax.set_title(title, loc="left")
        ax.legend(loc="upper left")
        alt = (f"{title}: baseline median {fmt_num(float(np.median(base))) if base else '-'} ms, "
               f"candidate median {fmt_num(float(np.median(cand))) if cand else '-'} ms")
        return Chart(key, title, to_uri(fig), alt)


def _charts(s: StageComparison, i: int) -> list[Chart]:
    out: list[Chart] = []
    if s.baseline_histogram and s.candidate_histogram:
        spec = spectrum_chart(f"spectrum-{i}", "Latency by percentile",
                              [("baseline", LatencyHistogram.decode(s.baseline_histogram)),
                               ("candidate", LatencyHistogram.decode(s.candidate_histogram))],
                              colors=[BASE_COLOR, CAND_COLOR])
        if spec:
            out.append(spec)
    win = window_chart(f"windows-{i}", "p99 per second", s.baseline_window_p99_ms,
                       s.candidate_window_p99_ms)
    if win:
        out.append(win)
    return out


_HTML = small_page("loadkit compare: {{ verdict_text }}", """
th:first-child,td:first-child{text-align:left}.badge{padding:2px 10px;border-radius:10px;color:#fff;font-weight:600}
.pass{background:#16a34a}.regression,.REGRESSION{background:#dc2626;color:#fff}.inconclusive{background:#d97706;color:#fff}
""", """<h1>loadkit compare <span class="badge {{ c.verdict }}">{{ verdict_text }}</span></h1>
<p class="muted">exit {{ c.exit_code }} · one-sided tests at alpha {{ alpha }} on per-second windows;
a difference is a regression only when it is significant and beyond its threshold.</p>
<table><tr><th></th><th>scenario</th><th>target</th><th>started</th><th>status</th></tr>
{% for side, ref in refs %}<tr><td>{{ side }}</td><td>{{ ref.scenario }}</td><td>{{ ref.target }}</td>
<td>{{ iso(ref.started_at) }}</td><td>{{ ref.status }}{% if ref.partial %} (partial){% endif %}</td></tr>{% endfor %}
</table>
<ul>{% for r in c.reasons %}<li>{{ r }}</li>{% endfor %}
{% for s in c.skipped %}<li class="muted">not compared: {{ s }}</li>{% endfor %}</ul>
{% for st in stages %}
<h2>{{ st.name }} <span class="badge {{ st.s.verdict }}">{{ st.s.verdict }}</span></h2>
<p class="muted">{{ st.s.baseline_requests }} vs {{ st.s.candidate_requests }} requests;
{{ st.s.baseline_windows }} vs {{ st.s.candidate_windows }} one-second windows</p>
<table><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in st.rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</table>
{% for ch in st.charts %}<figure><img src="{{ ch.uri }}" alt="{{ ch.alt }}"></figure>{% endfor %}
{% endfor %}
</body></html>
""")


def render_compare_html(c: Comparison) -> str:
    """compare.html: self-contained (inline SVG charts), every value escaped by jinja2."""
    env = Environment(autoescape=True)
    stages = []
    for i, s in enumerate(c.stages):
        rows = [[m.metric, fmt_value(m, m.baseline), fmt_value(m, m.candidate), fmt_change(m),
                 fmt_ci(m), f"{m.p_value:.3g}", fmt_threshold(m), metric_state(m, s.verdict)]
                for m in s.metrics]
        stages.append({"name": _stage_name(s), "s": s, "rows": rows, "charts": _charts(s, i)})
    return env.from_string(_HTML).render(
        c=c, verdict_text=VERDICT_TEXT[c.verdict], alpha=fmt_num(c.alpha), iso=iso_utc,
        refs=[("baseline", c.baseline), ("candidate", c.candidate)], stages=stages,
        header=["metric", "baseline", "candidate", "change", "CI (95%)", "p", "threshold",
                "state"])
