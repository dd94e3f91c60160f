"""``loadkit history ...``: store runs, show their change points, gate a run on the trend.

Thin like every command: parse, call ``loadkit.history``, render with
``loadkit.reporters.history_report``, write files, return the exit code. Heavy
imports (SQLAlchemy, Otava, matplotlib) happen inside the commands.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from loadkit.cli._base import cli, parse_option
from loadkit.errors import EXIT_PASS, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from loadkit.history.store import HistoryStore
    from loadkit.results.history import History
    from loadkit.results.model import RunResult

F = TypeVar("F", bound=Callable[..., Any])

DB_HELP = "History store: a SQLite file or a database URL (default $LOADKIT_HISTORY, " \
          "else .loadkit/history.sqlite)."


def db_option(f: F) -> F:
    return click.option("--db", help=DB_HELP)(f)


def significance_option(f: F) -> F:
    f = click.option("--min-magnitude", default="5%", show_default=True,
                     help="Smallest move of a regime's mean that a change point may have.")(f)
    return click.option("--significance", default="0.0002", show_default=True,
                        help="Largest p-value at which a change point is kept.")(f)


def _fraction(name: str, value: str | None) -> float | None:
    from loadkit.units import parse_fraction

    out = parse_option(name, parse_fraction, value)
    if out is not None and not 0 <= out < 1:
        raise UsageError(f"{name}: must be between 0 and 1 (got {value})")
    return out


def _significance(value: str) -> float:
    out = _fraction("--significance", value)
    if not out:
        raise UsageError(f"--significance: must be between 0 and 1 (got {value})")
    return out


def _scenario(store: HistoryStore, name: str | None) -> str:
    """The scenario to read: ``--scenario``, or the store's only one."""
    names = store.scenarios()
    if name is not None:
        if name not in names:
            known = f" (it has: {', '.join(names)})" if names else " (it is empty)"
            raise UsageError(f"--scenario: no history for {name!r} in {store.where.label}{known}")
        return name
    if not names:
        raise UsageError(f"{store.where.label}: no runs stored yet (add some with "
                         "`loadkit history add RESULT.json`)")
    if len(names) > 1:
        raise UsageError(f"{store.where.label} holds {len(names)} scenarios "
                         f"({', '.join(names)}): pick one with --scenario")
    return names[0]


def _history(db: str | None, scenario: str | None, branch: str | None,
             significance: str, min_magnitude: str) -> History:
    from loadkit.history.changes import analyse
    from loadkit.history.store import HistoryStore

    level = _significance(significance)
    magnitude = _fraction("--min-magnitude", min_magnitude) or 0.0
    store = HistoryStore.open(db)
    try:
        name = _scenario(store, scenario)
        runs = store.runs(name, branch)
    finally:
        store.close()
    if not runs:
        raise UsageError(f"--branch: no run of {name!r} is stored for branch {branch!r}")
    return analyse(name, runs, significance=level, min_magnitude=magnitude, branch=branch)


@cli.group()
def history() -> None:
    """Run history: store results, find change points, gate a run on the trend."""


@history.command("add")
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False))
@db_option
@click.option("--commit", help="Commit the runs measured (default: the CI's, if any).")
@click.option("--branch", help="Branch the runs measured (default: the CI's, if any).")
@click.option("--runner", help="Machine that ran them (default: the CI runner's name, if any).")
def add(results: tuple[str, ...], db: str | None, commit: str | None, branch: str | None,
        runner: str | None) -> int:
    """Store RESULTS (result.json files); a run already stored is left as it is."""
    from loadkit.history.figures import provenance
    from loadkit.history.store import HistoryStore
    from loadkit.results import read

    loaded = [read(path) for path in results]     # all readable, or nothing is stored
    store = HistoryStore.open(db, create=True)
    try:
        added = store.add(loaded, provenance(commit, branch, runner))
    finally:
        store.close()
    for path, result, new in zip(results, loaded, added, strict=True):
        click.echo(f"{'added' if new else 'already stored'}: {path} "
                   f"({result.scenario.name}, {len(result.profiles)} profile(s))")
    click.echo(f"history: {store.where.label}")
    return EXIT_PASS


@history.command("show")
@click.option("--scenario", help="Scenario name (default: the store's only one).")
@click.option("--branch", help="Only the runs of this branch.")
@db_option
@significance_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (runs, change points).")
def show(scenario: str | None, branch: str | None, db: str | None, significance: str,
         min_magnitude: str, as_json: bool) -> int:
    """Runs oldest first and the change points of every metric."""
    from loadkit.reporters import history_report

    h = _history(db, scenario, branch, significance, min_magnitude)
    render = history_report.render_history_json if as_json else history_report.render_history_text
    click.echo(render(h), nl=False)
    return EXIT_PASS


@history.command("check")
@click.argument("result_file", type=click.Path(dir_okay=False))
@db_option
@click.option("--branch", help="Gate against this branch's runs (e.g. main), not every run.")
@significance_option
@click.option("--alpha", default="0.01", show_default=True,
              help="Significance of a regression against the current regime.")
@click.option("--min-change", default="10%", show_default=True,
              help="Smallest relative move that counts (the error rate: --error-rate points).")
@click.option("--error-rate", "error_points", default="0.5%", show_default=True,
              help="Smallest error-rate rise that counts, in percentage points.")
@click.option("--min-runs", default=5, show_default=True, type=int,
              help="Runs a regime needs before it can judge.")
@click.option("--json", "as_json", is_flag=True, help="Print the check as JSON.")
def check(result_file: str, db: str | None, branch: str | None, significance: str,
          min_magnitude: str, alpha: str, min_change: str, error_points: str, min_runs: int,
          as_json: bool) -> int:
    """Gate RESULT_FILE against its scenario's current regime: 0 same or better,
    1 regression, 4 history too short."""
    from loadkit.history import gate
    from loadkit.history.figures import digest
    from loadkit.history.store import HistoryStore
    from loadkit.reporters import history_report
    from loadkit.results import read

    level = _significance(significance)
    magnitude = _fraction("--min-magnitude", min_magnitude) or 0.0
    a = _fraction("--alpha", alpha)
    if not a:
        raise UsageError(f"--alpha: must be between 0 and 1 (got {alpha})")
    change = _fraction("--min-change", min_change) or 0.0
    points = _fraction("--error-rate", error_points) or 0.0
    if min_runs < 2:
        raise UsageError("--min-runs: must be at least 2")
    candidate = read(result_file)
    store = HistoryStore.open(db)
    try:
        name = _scenario(store, candidate.scenario.name)
        runs = store.runs(name, branch)
    finally:
        store.close()
    outcome = gate.check(candidate, runs, candidate_digest=digest(candidate), significance=level,
                         min_magnitude=magnitude, alpha=a, min_change=change, error_points=points, min_regime=min_runs,
                         branch=branch)
    render = history_report.render_check_json if as_json else history_report.render_check_text
    click.echo(render(outcome), nl=False)
    return outcome.status.exit_code


@history.command("report")
@click.option("--scenario", help="Scenario name (default: the store's only one).")
@click.option("--branch", help="Only the runs of this branch.")
@db_option
@significance_option
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder for history.html and history.json.")
def report(scenario: str | None, branch: str | None, db: str | None, significance: str,
           min_magnitude: str, out: str) -> int:
    """Write a self-contained trend page: each metric over the runs, change points, regimes."""
    from loadkit.reporters import history_page, history_report

    h = _history(db, scenario, branch, significance, min_magnitude)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("history.html", history_page.render_history_html(h)),
                       ("history.json", history_report.render_history_json(h))):
        (folder / name).write_text(text, encoding="utf-8")
        click.echo(f"wrote {folder / name}")
    return EXIT_PASS


def _stored(db: str | None, scenario: str | None,
            index: int | None) -> tuple[RunResult, str | None]:
    """The RunResult of one stored run (``index`` as `history show` numbers them; default the
    newest) and its commit."""
    from loadkit.history.store import HistoryStore

    store = HistoryStore.open(db)
    try:
        name = _scenario(store, scenario)
        runs = [r for r in store.runs(name) if not r.partial]
        if not runs:
            raise UsageError(f"no complete run of {name!r} is stored")
        i = len(runs) - 1 if index is None else index
        if not -len(runs) <= i < len(runs):
            raise UsageError(f"--run: {index} is out of range: {name!r} has runs 0-{len(runs) - 1}")
        return store.result(runs[i].id), runs[i].commit
    finally:
        store.close()


@history.command("export")
@click.argument("result_file", required=False, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", required=True,
              type=click.Choice(["github-action-benchmark", "bencher"]))
@click.option("--bigger", is_flag=True, help="github-action-benchmark: the bigger-is-better "
              "metrics (throughput, goodput) instead of the smaller-is-better ones.")
@click.option("--scenario", help="Without RESULT_FILE: the scenario whose newest run to export.")
@click.option("--run", "index", type=int, help="Without RESULT_FILE: this run (as `show` numbers them).")
@db_option
@click.option("--out", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def export(result_file: str | None, fmt: str, bigger: bool, scenario: str | None,
           index: int | None, db: str | None, out: str | None) -> int:
    """Export a run's gate figures for github-action-benchmark or Bencher."""
    from loadkit.history.export import export as render
    from loadkit.history.figures import provenance
    from loadkit.results import read

    if result_file:
        result, commit = read(result_file), provenance().commit
    else:
        result, commit = _stored(db, scenario, index)
    text = render(result, fmt, bigger=bigger, commit=commit)
    if out:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)
    return EXIT_PASS


@history.command("result")
@click.argument("index", type=int, required=False)
@click.option("--scenario", help="Scenario name (default: the store's only one).")
@db_option
def result(index: int | None, scenario: str | None, db: str | None) -> int:
    """Print a stored run's result.json (INDEX as `show` numbers them; default the newest),
    e.g. to re-render it: `loadkit history result 3 > r.json && loadkit report r.json`."""
    from loadkit.results import dumps

    run, _commit = _stored(db, scenario, index)
    click.echo(dumps(run), nl=False)
    return EXIT_PASS
