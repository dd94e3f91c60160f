"""The ``loadkit`` command: parse, call the library, write files, map errors to exit codes.

Thin on purpose (DESIGN.md): every command delegates to a library function and
``main`` is the only place that calls ``sys.exit``. Heavy imports happen inside
the commands so ``loadkit --help`` and ``loadkit locust`` stay light. The group
and the exit point live in ``_base``; importing the command modules registers them."""

from __future__ import annotations

from loadkit.cli import gates, history, runs, tools  # noqa: F401  (registers the commands)
from loadkit.cli._base import _run, cli, main, write_reports

__all__ = ["_run", "cli", "main", "write_reports"]
