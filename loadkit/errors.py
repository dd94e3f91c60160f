"""One error tree for loadkit; each class carries the exit code the CLI maps it to.

The CLI is the only place that calls ``sys.exit``: it catches ``LoadkitError`` and
exits with ``exc.exit_code`` after printing ``str(exc)`` on one line.
"""

from __future__ import annotations

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_INCONCLUSIVE = 4
EXIT_INTERRUPTED = 130


class LoadkitError(Exception):
    """Base of every error loadkit raises on purpose."""

    exit_code: int = EXIT_USAGE


class UsageError(LoadkitError):
    """Bad usage, scenario, dataset or SLA expression: nothing was sent (exit 2)."""

    exit_code = EXIT_USAGE


class ScenarioError(UsageError):
    """A scenario field is wrong; ``field`` is its path, e.g. ``profiles[2].rate``."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}" if field else problem)


class DatasetError(UsageError):
    """The dataset is missing, unreadable, empty, or lacks a column a template names."""


class SlaSyntaxError(UsageError):
    """An SLA expression does not parse."""


class TargetUnreachable(LoadkitError):
    """The target refused connections or never became ready: nothing measured (exit 3)."""

    exit_code = EXIT_UNREACHABLE


class Interrupted(LoadkitError):
    """The run was interrupted (Ctrl-C / SIGTERM) (exit 130)."""

    exit_code = EXIT_INTERRUPTED
