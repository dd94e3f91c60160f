"""Reports of ``loadkit canary``: the stage table (terminal), canary.json, canary.html, JUnit.

End of the canary flow (CanaryResult -> text); returns strings, does no I/O. It
reads a ``loadkit.results.canary.CanaryResult``: reporters import neither the
orchestration (``loadkit.canary``) nor the analysis that decided it.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from jinja2 import Environment

from loadkit.reporters._common import (
    clean,
    fmt_num,
    iso_utc,
    table,
)
from loadkit.reporters._documents import JunitCase, junit_suite, small_page
from loadkit.reporters.compare_report import window_chart
from loadkit.results.canary import CanaryResult, Criterion, StageOutcome
from loadkit.results.codec import to_data

SCHEMA = "loadkit.canary/v1"
DECISION_TEXT = {"promote": "PROMOTE", "hold": "HOLD", "rollback": "ROLLBACK"}


def fmt_share(share: float) -> str:
    return f"{fmt_num(round(share * 100, 2))}%"


def fmt_criterion(c: Criterion) -> str:
    if c.value is None:
        return "-"
    if c.name == "p99_ratio":
        return f"{c.value:.2f}x"
    if c.name == "error_rate":
        return f"{c.value:+.2f} pp"
    if c.name == "agreement":
        return f"{c.value:.0%}"
    if c.name == "sla":           # the scenario's rules on each arm, judged as a run
        return "held" if c.status == "pass" else f"{c.value:.0f} broken"
    return fmt_num(c.value)


def _row(s: StageOutcome) -> list[str]:
    def crit(name: str) -> str:
        try:
            c = s.criterion(name)
        except KeyError:
            return "-"
        return fmt_criterion(c) + ("" if c.status == "pass" else f" ({c.status})")

    return [str(s.index + 1), fmt_share(s.share), f"{s.candidate_requests}/{s.baseline_requests}",
            f"{fmt_num(s.candidate_p99_ms)}/{fmt_num(s.baseline_p99_ms)} ms", crit("p99_ratio"),
            crit("error_rate"), crit("agreement"), crit("sla"),
            f"{fmt_num(s.candidate_rps)}/{fmt_num(s.baseline_rps)}", s.decision.upper()]


HEADER = ["stage", "share", "requests c/b", "p99 c/b", "p99 ratio", "errors", "agreement",
          "sla", "rps c/b", "decision"]


def render_canary_text(r: CanaryResult) -> str:
    """The stage table with each criterion's value, then each stage's reason."""
    lines = [f"loadkit canary: {DECISION_TEXT[r.decision]} (exit {r.exit_code})"
             + ("  [interrupted]" if r.interrupted else ""),
             f"  scenario {clean(r.scenario, 40)}, load {r.load} split between",
             f"  baseline  {clean(r.baseline_url, 70)}",
             f"  candidate {clean(r.candidate_url, 70)}", ""]
    if r.stages:
        lines += table(HEADER, [_row(s) for s in r.stages], "rrrrrrrrrl", indent="  ")
        lines.append("")
        for s in r.stages:
            lines.append(f"  stage {s.index + 1} ({fmt_share(s.share)}): {s.decision}: "
                         f"{clean(s.reason)}")
            for m in s.agreement.mismatches:
                lines.append(f"    disagreement: {clean(m, 120)}")
    lines.append(f"  decision: {clean(r.reason)}")
    for w in r.warnings:
        lines.append(f"  warning: {clean(w)}")
    return "\n".join(lines) + "\n"


def render_canary_json(r: CanaryResult) -> str:
    doc: dict[str, Any] = {"schema": SCHEMA, "decision": r.decision, "exit_code": r.exit_code,
                           **to_data(r)}
    return json.dumps(doc, indent=2, default=str) + "\n"


_OUTCOME: dict[str, Literal["pass", "failure", "error"]] = {"rollback": "failure",
                                                             "hold": "error"}


def render_canary_junit(r: CanaryResult) -> str:
    """One <testcase> per stage and criterion: rollback is a failure, hold an error."""
    cases = [JunitCase(f"loadkit.canary.stage{s.index + 1}",
                       clean(f"{c.name} @ {fmt_share(s.share)}"), _OUTCOME.get(c.status, "pass"),
                       clean(c.detail), kind=c.status, message=clean(c.detail))
             for s in r.stages for c in s.criteria]
    if not r.stages:
        cases.append(JunitCase("loadkit.canary", "rollout", "error", kind="hold",
                               message=clean(r.reason)))
    return junit_suite("loadkit.canary", cases)


_HTML = small_page("loadkit canary: {{ decision }}", """
td.l,th.l{text-align:left}.badge{padding:2px 10px;border-radius:10px;color:#fff;font-weight:600}
.promote,.pass{background:#16a34a;color:#fff}.rollback{background:#dc2626;color:#fff}.hold{background:#d97706;color:#fff}
""", """<h1>loadkit canary <span class="badge {{ r.decision }}">{{ decision }}</span></h1>
<p>{{ r.reason }}</p>
<p class="muted">exit {{ r.exit_code }} · scenario {{ r.scenario }} · load {{ r.load }} ·
{{ iso(r.started_at) }}{% if r.interrupted %} · interrupted{% endif %}<br>
baseline {{ r.baseline_url }}<br>candidate {{ r.candidate_url }}</p>
<table><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</table>
{% for st in stages %}
<h2>Stage {{ st.s.index + 1 }}: {{ share(st.s.share) }} <span class="badge {{ st.s.decision }}">{{ st.s.decision }}</span></h2>
<p>{{ st.s.reason }}</p>
<p class="muted">baseline {{ st.s.baseline_load }} · candidate {{ st.s.candidate_load }}</p>
<table><tr><th class="l">criterion</th><th>value</th><th>promote</th><th>rollback</th><th class="l">status</th><th class="l">detail</th></tr>
{% for c in st.s.criteria %}<tr><td class="l">{{ c.name }}</td><td>{{ fmt(c) }}</td><td>{{ num(c.promote_threshold) }}</td>
<td>{{ num(c.rollback_threshold) }}</td><td class="l"><span class="badge {{ c.status }}">{{ c.status }}</span></td><td class="l">{{ c.detail }}</td></tr>{% endfor %}
</table>
{% for m in st.s.agreement.mismatches %}<p class="muted">disagreement: {{ m }}</p>{% endfor %}
{% if st.chart %}<figure><img src="{{ st.chart.uri }}" alt="{{ st.chart.alt }}"></figure>{% endif %}
{% endfor %}
{% for w in r.warnings %}<p class="muted">warning: {{ w }}</p>{% endfor %}
</body></html>
""")


def render_canary_html(r: CanaryResult) -> str:
    """canary.html: self-contained; per stage, the criteria and both sides' p99 per second."""
    stages = [{"s": s, "chart": window_chart(f"canary-{s.index}", "p99 per second",
                                             s.baseline_window_p99_ms, s.candidate_window_p99_ms)}
              for s in r.stages]
    return Environment(autoescape=True).from_string(_HTML).render(
        r=r, decision=DECISION_TEXT[r.decision], iso=iso_utc, header=HEADER,
        rows=[_row(s) for s in r.stages], stages=stages, share=fmt_share, fmt=fmt_criterion,
        num=fmt_num)
