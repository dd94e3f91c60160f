"""The one Status of a run (and of compare / canary gates), carrying its exit code.

Every command maps a judged result to its exit code through ``Status.exit_code``
and nowhere else (DESIGN.md, exit codes). An unjudged RunResult has no status at
all (``None``), which is never a pass.
"""

from __future__ import annotations

import enum

from loadkit.errors import (
    EXIT_FAIL,
    EXIT_INCONCLUSIVE,
    EXIT_INTERRUPTED,
    EXIT_PASS,
    EXIT_UNREACHABLE,
)


class Status(str, enum.Enum):  # noqa: UP042 -- DESIGN.md names this base
    """pass (0), fail (1), inconclusive (4), error (3: nothing could be measured), interrupted (130)."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"
    INTERRUPTED = "interrupted"

    @property
    def exit_code(self) -> int:
        return _EXIT[self]

    def __str__(self) -> str:
        return self.value


_EXIT = {
    Status.PASS: EXIT_PASS,
    Status.FAIL: EXIT_FAIL,
    Status.INCONCLUSIVE: EXIT_INCONCLUSIVE,
    Status.ERROR: EXIT_UNREACHABLE,
    Status.INTERRUPTED: EXIT_INTERRUPTED,
}


def exit_code_of(status: Status | str | None) -> int:
    """The exit code of a status (or its string value); an unjudged result (None) fails."""
    if status is None:
        return EXIT_FAIL
    try:
        return Status(status).exit_code
    except ValueError:
        return EXIT_FAIL


__all__ = ["Status", "exit_code_of"]
