"""What the side documents share: the JUnit suite and the HTML page of ``compare``,
``canary`` and the run history (reporters: text in, text out, no I/O).

Kept apart from ``_common`` (what every run report shares) so each stays small.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

@dataclass(frozen=True)
class JunitCase:
    """One <testcase>: ``outcome`` "failure" or "error" carries ``kind`` (its type) and
    ``message``; ``text`` is the element's body ("pass": a <system-out>)."""

    classname: str
    name: str
    outcome: Literal["pass", "failure", "error"]
    text: str = ""
    kind: str = ""
    message: str = ""


def junit_suite(suite_name: str, cases: Sequence[JunitCase]) -> str:
    """A <testsuites> holding one <testsuite> of ``cases``, with its counts (UTF-8 text)."""
    suite = ET.Element("testsuite", {"name": suite_name})
    counts = {"tests": len(cases), "failures": 0, "errors": 0}
    for c in cases:
        case = ET.SubElement(suite, "testcase", {"classname": c.classname, "name": c.name,
                                                 "time": "0"})
        if c.outcome == "pass":
            ET.SubElement(case, "system-out").text = c.text
            continue
        counts["failures" if c.outcome == "failure" else "errors"] += 1
        ET.SubElement(case, c.outcome, {"type": c.kind, "message": c.message}).text = c.text
    for k, v in counts.items():
        suite.set(k, str(v))
    root = ET.Element("testsuites", {k: str(v) for k, v in counts.items()})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


_SMALL_PAGE_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font:14px/1.45 system-ui,sans-serif;color:#111827;max-width:1100px;margin:24px auto;padding:0 16px}}
table{{border-collapse:collapse;margin:8px 0 16px}}th,td{{padding:3px 9px;border-bottom:1px solid #e5e7eb;text-align:right}}
{css}
img{{max-width:100%}}.muted{{color:#6b7280}}
</style></head><body>
"""


def small_page(title: str, css: str, body: str) -> str:
    """The jinja2 source of compare.html or canary.html: one shared head and style, the
    page's own ``css`` lines (its badges) and ``body`` (both may use jinja2 syntax)."""
    return _SMALL_PAGE_HEAD.format(title=title, css=css.strip("\n")) + body
