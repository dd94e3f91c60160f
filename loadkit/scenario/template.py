"""Request body templates: a JSON-able structure with ``{{ ... }}`` placeholders.

Where it sits: ``model.py`` compiles ``request.body`` once at load time (so a bad
placeholder is refused before anything runs); ``payloads.py`` renders it once per
body, before the run. The rule, kept deliberately small:

* A string that is exactly one placeholder is replaced by a JSON value:
  ``{{ rows }}`` -> the batch as a list of row objects ``[{col: value, ...}, ...]``;
  ``{{ rows.values }}`` -> the batch as a list of value lists (dataset column order);
  ``{{ rows.COL }}`` -> the batch's values of column COL, as a list;
  ``{{ row }}`` -> one row object; ``{{ row.COL }}`` -> one value (batch_size 1 only);
  ``{{ batch_size }}`` -> how many rows the batch has, a number (a V2/KServe
  ``shape: ["{{ batch_size }}", 4]``).
* Inside a longer string only ``{{ row.COL }}`` and ``{{ batch_size }}`` may appear;
  each is replaced by its text (``"id-{{ row.id }}"``).
* Mapping keys are never templated; everything else is sent as written.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from loadkit.errors import ScenarioError
from loadkit.scenario.source import field_path

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
HELP = ("use {{ rows }}, {{ rows.values }}, {{ rows.COLUMN }}, {{ row }}, {{ row.COLUMN }} "
        "or {{ batch_size }}")

Row = dict[str, Any]
Renderer = Callable[[Sequence[Row], Sequence[str]], Any]


@dataclass(frozen=True)
class Hole:
    """One placeholder: what it takes from the batch, and where in the body it is."""

    expr: str
    kind: str            # rows | rows_values | rows_column | row | row_column | batch_size
    column: str | None
    where: str           # field path, e.g. request.body.instances

    @property
    def per_row(self) -> bool:
        return self.kind in ("row", "row_column")


def _hole(expr: str, where: str) -> Hole:
    text = expr.strip()
    head, dot, column = text.partition(".")
    column = column.strip()
    if head == "rows" and not dot:
        return Hole(text, "rows", None, where)
    if head == "rows" and column == "values":
        return Hole(text, "rows_values", None, where)
    if head == "rows" and column:
        return Hole(text, "rows_column", column, where)
    if head == "row" and not dot:
        return Hole(text, "row", None, where)
    if head == "row" and column:
        return Hole(text, "row_column", column, where)
    if text == "batch_size":
        return Hole(text, "batch_size", None, where)
    raise ScenarioError(where, f"unknown placeholder '{{{{ {text} }}}}' ({HELP})")


def _take(hole: Hole, rows: Sequence[Row], columns: Sequence[str]) -> Any:
    if hole.kind == "rows":
        return list(rows)
    if hole.kind == "rows_values":
        return [[r[c] for c in columns] for r in rows]
    if hole.kind == "rows_column":
        return [r[hole.column] for r in rows]  # type: ignore[index]
    if hole.kind == "row":
        return rows[0]
    if hole.kind == "batch_size":
        return len(rows)
    return rows[0][hole.column]  # type: ignore[index]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Template:
    """A compiled body: render it with one batch of rows to get a JSON-able value."""

    render: Renderer
    holes: tuple[Hole, ...]
    is_empty: bool = False

    @property
    def uses_rows(self) -> bool:
        return bool(self.holes)

    @property
    def per_row(self) -> tuple[Hole, ...]:
        return tuple(h for h in self.holes if h.per_row)

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """(column, where) for every placeholder naming a column."""
        return tuple((h.column, h.where) for h in self.holes if h.column is not None)


def compile_template(body: Any, where: tuple[Any, ...] = ("request", "body")) -> Template:
    """Compile ``body`` once; refuse unknown placeholders and values JSON cannot carry."""
    holes: list[Hole] = []

    def comp(node: Any, loc: tuple[Any, ...]) -> Renderer:
        path = field_path(loc)
        if isinstance(node, str):
            return _compile_string(node, path, holes)
        if isinstance(node, dict):
            parts = []
            for key, value in node.items():
                if not isinstance(key, str):
                    raise ScenarioError(path, f"mapping key {key!r} must be a string in a JSON body")
                parts.append((key, comp(value, loc + (key,))))
            return lambda rows, cols: {k: f(rows, cols) for k, f in parts}
        if isinstance(node, list):
            items = [comp(v, loc + (i,)) for i, v in enumerate(node)]
            return lambda rows, cols: [f(rows, cols) for f in items]
        if node is None or isinstance(node, (bool, int, float)):
            if isinstance(node, float) and not math.isfinite(node):
                raise ScenarioError(path, f"{node} cannot be sent in a JSON body")
            return lambda rows, cols: node
        if isinstance(node, (dt.date, dt.datetime)):
            text = node.isoformat()
            return lambda rows, cols: text
        raise ScenarioError(path, f"a {type(node).__name__} value cannot be sent in a JSON body")

    render = comp(body, where)
    return Template(render=render, holes=tuple(holes), is_empty=body is None)


def _compile_string(text: str, path: str, holes: list[Hole]) -> Renderer:
    found = list(_PLACEHOLDER.finditer(text))
    if not found:
        if "{{" in text:
            raise ScenarioError(path, f"unclosed placeholder in {text[:40]!r} ({HELP})")
        return lambda rows, cols: text
    if len(found) == 1 and found[0].group(0) == text.strip():
        hole = _hole(found[0].group(1), path)
        holes.append(hole)
        return lambda rows, cols: _take(hole, rows, cols)
    pieces: list[str | Hole] = []
    last = 0
    for m in found:
        hole = _hole(m.group(1), path)
        if hole.kind not in ("row_column", "batch_size"):
            raise ScenarioError(path, f"'{{{{ {hole.expr} }}}}' must be the whole string; only "
                                      "{{ row.COLUMN }} and {{ batch_size }} can sit inside "
                                      "other text")
        holes.append(hole)
        pieces += [text[last:m.start()], hole]
        last = m.end()
    pieces.append(text[last:])
    if any("{{" in p for p in pieces if isinstance(p, str)):
        raise ScenarioError(path, f"unclosed placeholder in {text[:40]!r} ({HELP})")

    def interpolate(rows: Sequence[Row], cols: Sequence[str]) -> str:
        return "".join(p if isinstance(p, str) else _text(_take(p, rows, cols)) for p in pieces)

    return interpolate
