"""The click group, shared option parsing, report writing and the one exit point.

Every command module registers on ``cli``; ``main`` is the only ``sys.exit`` in loadkit."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from loadkit import __version__
from loadkit.api import FORMAT_NAMES as FORMAT_NAMES  # re-exported for the commands
from loadkit.errors import (
    EXIT_INTERRUPTED,
    EXIT_PASS,
    EXIT_USAGE,
    LoadkitError,
    UsageError,
)
from loadkit.redact import redact_text


def parse_processes(value: str) -> int:
    if value == "auto":
        return os.cpu_count() or 1
    try:
        n = int(value)
    except ValueError:
        raise UsageError(f"--processes: {value!r} is not a number or 'auto'") from None
    if n < 1:
        raise UsageError("--processes: must be at least 1")
    return n


def parse_formats(values: Sequence[str]) -> tuple[str, ...] | None:
    from loadkit.api import parse_formats as parse

    return parse(list(values), flag="--format")


def parse_option(name: str, parse: Callable[[str], float], value: str | None) -> float | None:
    """Parse a unit option; a bad value is one line naming the option."""
    if value is None or value == "":
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise UsageError(f"{name}: {exc}") from None


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM outside the engine's stages (mock start-up, readiness wait, between profiles)
    acts as Ctrl-C: the mock server child is stopped and the exit is 130, not a bare kill.
    The engine installs its own graceful handlers while a stage runs and restores this one."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def default_out(name: str) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name) or "run"
    return Path("reports") / f"{safe}-{stamp}"


def write_reports(result: Any, out: Path, formats: Sequence[str] | None = None) -> list[Path]:
    """Render every report of ``result`` into ``out`` (``loadkit.write_reports``)."""
    from loadkit.api import write_reports as write

    return write(result, out, formats)


ABORTED = "loadkit: aborted; no reports written"


class LoadkitGroup(click.Group):
    """The command group: a command's int return is the exit code, a LoadkitError exits
    with its own code after one redacted line, Ctrl-C exits 130.

    So ``CliRunner().invoke(cli, [...])`` reports the same exit code, stdout and
    stderr as the installed ``loadkit`` command.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            rv = super().invoke(ctx)
        except LoadkitError as exc:
            click.echo(f"loadkit: error: {redact_text(str(exc))}", err=True)
            raise click.exceptions.Exit(exc.exit_code) from None
        except (KeyboardInterrupt, click.exceptions.Abort):
            click.echo(ABORTED, err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        if isinstance(rv, int) and not isinstance(rv, bool) and rv != EXIT_PASS:
            raise click.exceptions.Exit(rv)
        return rv


@click.group(cls=LoadkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="loadkit")
def cli() -> None:
    """Load tests and performance SLAs for ML model HTTP endpoints."""


def _run(args: Sequence[str] | None = None) -> int:
    """Run the group as the console does, returning the exit code instead of exiting."""
    try:
        rv = cli.main(args=args, prog_name="loadkit", standalone_mode=False)
    except click.exceptions.Abort:                  # Ctrl-C while click itself was parsing
        click.echo(ABORTED, err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE if exc.exit_code == 2 else exc.exit_code
    except KeyboardInterrupt:
        click.echo(ABORTED, err=True)
        return EXIT_INTERRUPTED
    return rv if isinstance(rv, int) else EXIT_PASS


def main(args: Sequence[str] | None = None) -> None:
    """Console entry point: the only ``sys.exit`` in loadkit."""
    sys.exit(_run(args))
