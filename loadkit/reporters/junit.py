"""junit.xml: one <testcase> per SLA verdict, so CI test tabs show each rule.

The shape is the common denominator that Jenkins (junit plugin), GitLab
(``artifacts:reports:junit``) and the GitHub test-report actions all read:
``<testsuites>`` holding one ``<testsuite>`` per profile, ``classname`` =
``loadkit.<profile>``, name = the rule (plus the stage a rule is scoped to), a
``<failure>`` whose message says observed vs threshold. An inconclusive verdict is
an ``<error>`` rather than ``<skipped>``: most gates count skipped tests as
harmless, and an undecided SLA must never read as a pass.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import OrderedDict

from loadkit.reporters._common import (
    fmt_num,
    iso_utc,
    status_line,
    verdict_state,
)
from loadkit.reporters._verdicts import rule_name, verdict_detail
from loadkit.reporters.search_report import answer_line, search_of
from loadkit.results.model import RunResult, Verdict

# Characters XML 1.0 cannot carry at all, even escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: object) -> str:
    return _INVALID_XML.sub("?", str(text))


def _iso(ts: float) -> str:
    return iso_utc(ts).replace(" UTC", "").replace(" ", "T") if ts else ""


def _testcase(result: RunResult, v: Verdict) -> ET.Element:
    name = rule_name(result, v)
    case = ET.Element("testcase", {"classname": _x(f"loadkit.{v.profile}"), "name": _x(name),
                                   "time": "0"})
    state = verdict_state(v)
    message = _x(verdict_detail(result, v))
    if state == "fail":
        el = ET.SubElement(case, "failure", {"message": message, "type": "sla"})
        el.text = _x(f"{v.expr}: {message}")
    elif state == "inconclusive":
        el = ET.SubElement(case, "error", {"message": message, "type": "inconclusive"})
        el.text = _x(f"{v.expr}: {message}")
    else:
        out = ET.SubElement(case, "system-out")
        out.text = _x(f"{v.expr}: {message}")
    return case


def _search_case(result: RunResult, profile: str) -> ET.Element | None:
    """A capacity search's answer as a test case: its headline, an error when the answer
    is a bracket or a lower bound (indeterminate) rather than the number asked for."""
    found = next((p for p in result.profiles if p.name == profile), None)
    a = search_of(found) if found is not None else None
    if a is None:
        return None
    name = "max_rate_under_sla" if a.model == "open" else "max_concurrency_under_sla"
    case = ET.Element("testcase", {"classname": _x(f"loadkit.{profile}"), "name": name,
                                   "time": fmt_num(round(a.duration_s, 3))})
    if a.indeterminate:
        el = ET.SubElement(case, "error", {"message": _x(a.headline), "type": "inconclusive"})
        el.text = _x(f"{answer_line(a)}: {a.indeterminate}")
    else:
        out = ET.SubElement(case, "system-out")
        out.text = _x(f"{answer_line(a)}: {a.headline}")
    return case


def render(result: RunResult) -> str:
    """JUnit XML text (UTF-8, pretty-printed, deterministic for a given result)."""
    # Profiles in run order, then any verdict naming a profile the result lacks;
    # a profile without rules has no suite (there is nothing it could fail).
    groups: OrderedDict[str, list[Verdict]] = OrderedDict((p.name, []) for p in result.profiles)
    for v in result.verdicts:
        groups.setdefault(v.profile, []).append(v)
    durations = {p.name: max(0.0, p.finished_at - p.started_at) or p.summary.duration_s
                 for p in result.profiles}
    started = {p.name: p.started_at or result.started_at for p in result.profiles}

    root = ET.Element("testsuites", {"name": _x(f"loadkit: {result.scenario.name}")})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for profile, verdicts in groups.items():
        if not verdicts:
            continue
        states = [verdict_state(v) for v in verdicts]
        counts = {"tests": len(verdicts), "failures": states.count("fail"),
                  "errors": states.count("inconclusive"), "skipped": 0}
        for k in totals:
            totals[k] += counts[k]
        suite = ET.SubElement(root, "testsuite", {
            "name": _x(f"loadkit.{profile}"),
            **{k: str(n) for k, n in counts.items()},
            "time": fmt_num(round(durations.get(profile, 0.0), 3)),
            "timestamp": _iso(started.get(profile, result.started_at)),
        })
        props = ET.SubElement(suite, "properties")
        for key, value in (("scenario", result.scenario.name), ("target", result.scenario.target),
                           ("loadkit_version", result.loadkit_version),
                           ("run_status", status_line(result)[0])):
            ET.SubElement(props, "property", {"name": key, "value": _x(value)})
        for v in verdicts:
            suite.append(_testcase(result, v))
        answer = _search_case(result, profile)
        if answer is not None:
            suite.append(answer)
            suite.set("tests", str(int(suite.get("tests", "0")) + 1))
            totals["tests"] += 1
            if answer.find("error") is not None:
                suite.set("errors", str(int(suite.get("errors", "0")) + 1))
                totals["errors"] += 1
    for k, n in totals.items():
        root.set(k, str(n))
    root.set("time", fmt_num(round(result.duration_s, 3)))
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
