"""Reporters: a RunResult in, text out (json, html, junit, markdown, csv, terminal text).

The last room of the flow. Every reporter is ``render(result) -> str`` and reads
nothing but the RunResult (its verdicts included): no files, no environment, no
clock. The CLI alone decides where the text goes, so reports are golden-testable
and ``loadkit report`` can re-render any old result.json.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from loadkit.errors import UsageError
from loadkit.results.model import RunResult

Renderer = Callable[[RunResult], str]


def _lazy(module: str) -> Renderer:
    """Import a reporter on first use, so ``--format json`` never loads matplotlib."""

    def render(result: RunResult) -> str:
        from importlib import import_module

        return import_module(f"loadkit.reporters.{module}").render(result)  # type: ignore[no-any-return]

    render.__name__ = f"{module}.render"
    return render


# format name -> (file name, renderer); the order is the order files are written in.
FORMATS: dict[str, tuple[str, Renderer]] = {
    "json": ("result.json", _lazy("json_report")),
    "html": ("report.html", _lazy("html")),
    "junit": ("junit.xml", _lazy("junit")),
    "markdown": ("summary.md", _lazy("markdown")),
    "csv": ("timeseries.csv", _lazy("csv_report")),
}


def render_all(result: RunResult, formats: Iterable[str] | None = None) -> dict[str, str]:
    """File name -> text for each format asked (all when ``formats`` is None)."""
    names = list(FORMATS) if formats is None else list(dict.fromkeys(formats))
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise UsageError(f"--format: unknown format {unknown[0]!r} "
                         f"(choose from {', '.join(FORMATS)})")
    return {FORMATS[n][0]: FORMATS[n][1](result) for n in names}


__all__ = ["FORMATS", "Renderer", "render_all"]
