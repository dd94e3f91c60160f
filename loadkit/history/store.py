"""The run store: SQLAlchemy Core over a SQLite file by default, any database URL for a team.

Second step of the history flow (figures -> store -> change points). One code
path for SQLite (embedded, nothing to start: ``$LOADKIT_HISTORY`` or
``.loadkit/history.sqlite``) and PostgreSQL (``postgresql://...``, through
psycopg, the ``postgres`` extra), so CI runners can share one history. Each run
keeps its provenance, one row per figure (profile summaries and stages), and its
whole result.json, so any past run can be re-rendered. Every add is one
transaction: a crash half-way leaves the store as it was. Database errors become
one-line ``UsageError`` s (exit 2) naming the store, never a traceback.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from loadkit.errors import UsageError
from loadkit.history.figures import Provenance, digest, figures
from loadkit.results import codec
from loadkit.results.history import StoredRun
from loadkit.results.model import RunResult

STORE_SCHEMA = "loadkit.history.store/1"
DEFAULT_PATH = Path(".loadkit") / "history.sqlite"
ENV_VAR = "LOADKIT_HISTORY"

metadata = sa.MetaData()
meta = sa.Table(
    "loadkit_meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)
runs = sa.Table(
    "loadkit_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("digest", sa.String(64), nullable=False, unique=True),
    sa.Column("scenario", sa.String(300), nullable=False, index=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("partial", sa.Boolean, nullable=False),
    sa.Column("result_schema", sa.String(60), nullable=False),
    sa.Column("loadkit_version", sa.String(40), nullable=False),
    sa.Column("git_commit", sa.String(100)),
    sa.Column("git_branch", sa.String(300)),
    sa.Column("runner", sa.String(300)),
    sa.Column("added_at", sa.Float, nullable=False),
    sa.Column("result_json", sa.Text, nullable=False),
)
figures_table = sa.Table(
    "loadkit_figures", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("loadkit_runs.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("profile", sa.String(300), nullable=False),
    sa.Column("stage", sa.Integer),          # NULL: the profile's summary of its measured stages
    sa.Column("metric", sa.String(60), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
)


@dataclass(frozen=True)
class Location:
    """Where a store lives: the SQLAlchemy URL, a label safe to print, the SQLite file if any."""

    url: str
    label: str
    path: Path | None


def locate(db: str | None, env: dict[str, str] | None = None) -> Location:
    """``--db`` (a path or a database URL), else ``$LOADKIT_HISTORY``, else the default file."""
    env = dict(os.environ) if env is None else env
    value = db or env.get(ENV_VAR) or str(DEFAULT_PATH)
    if "://" in value:
        try:
            url = sa.make_url(value)
        except sa.exc.ArgumentError:
            raise UsageError(f"--db: {value.split('://')[0]}://... is not a database URL") from None
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")   # psycopg 3, not psycopg2
        label = url.render_as_string(hide_password=True)
        path = Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None
        return Location(url.render_as_string(hide_password=False), label, path)
    path = Path(value).expanduser()
    return Location(f"sqlite:///{path.resolve()}", str(path), path)


def _problem(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return " ".join(str(orig).split()).split(" [SQL:")[0][:200]


class HistoryStore:
    """A store opened for reading or adding; ``open`` checks it is a loadkit history."""

    def __init__(self, engine: Engine, where: Location) -> None:
        self.engine = engine
        self.where = where

    @classmethod
    def open(cls, db: str | None = None, *, create: bool = False) -> HistoryStore:
        """Open (``create``: create if needed) the store; a missing, foreign or corrupt one is a
        UsageError naming it."""
        where = locate(db)
        if where.path is not None:
            if not create and not where.path.exists():
                raise UsageError(f"{where.label}: no history store here (add runs with "
                                 "`loadkit history add RESULT.json`, or pass --db)")
            if create:
                where.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = sa.create_engine(where.url)
        except (SQLAlchemyError, ImportError) as exc:
            raise UsageError(f"{where.label}: cannot open the history store ({_problem(exc)})") from None
        store = cls(engine, where)
        try:
            with store._guard():
                if create:
                    store._create()
                store._check_schema()
        except BaseException:
            engine.dispose()        # the connection the check opened goes, not to the collector
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise UsageError(f"{self.where.label}: not a readable loadkit history store "
                             f"({_problem(exc)})") from None

    def _create(self) -> None:
        with self.engine.begin() as conn:
            metadata.create_all(conn)
            if conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema")).first() is None:
                conn.execute(meta.insert().values(key="schema", value=STORE_SCHEMA))

    def _check_schema(self) -> None:
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table(meta.name):
                raise UsageError(f"{self.where.label}: not a loadkit history store (no "
                                 f"{meta.name} table); add runs with `loadkit history add`")
            found = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema")).scalar()
        if found != STORE_SCHEMA:
            raise UsageError(f"{self.where.label}: store schema is {found!r}, this loadkit "
                             f"reads {STORE_SCHEMA!r}")

    # -- writing -------------------------------------------------------------------------

    def add(self, results: Sequence[RunResult], prov: Provenance) -> list[bool]:
        """Store every result in one transaction; ``[True, False, ...]`` says which were new
        (a result already stored, or twice in ``results``, is a no-op)."""
        with self._guard():
            try:
                return self._add(results, prov)
            except IntegrityError:
                # another runner stored one of them between our look-up and our insert:
                # the whole transaction was rolled back, so run it again once
                return self._add(results, prov)

    def _add(self, results: Sequence[RunResult], prov: Provenance) -> list[bool]:
        added: list[bool] = []
        with self.engine.begin() as conn:
            seen: set[str] = set()
            for result in results:
                key = digest(result)
                exists = key in seen or conn.execute(
                    sa.select(runs.c.id).where(runs.c.digest == key)).first() is not None
                seen.add(key)
                added.append(not exists)
                if not exists:
                    self._insert(conn, result, key, prov)
        return added

    def _insert(self, conn: Connection, result: RunResult, key: str, prov: Provenance) -> None:
        inserted = conn.execute(runs.insert().values(
            digest=key, scenario=result.scenario.name, started_at=float(result.started_at),
            finished_at=float(result.finished_at),
            status=str(getattr(result.status, "value", result.status) or ""),  # an enum or a str
            partial=bool(result.partial), result_schema=result.schema,
            loadkit_version=result.loadkit_version or "", git_commit=prov.commit,
            git_branch=prov.branch, runner=prov.runner, added_at=time.time(),
            result_json=codec.dumps(result),
        )).inserted_primary_key
        assert inserted is not None
        run_id = inserted[0]
        rows = [{"run_id": run_id, "profile": f.profile, "stage": f.stage, "metric": f.metric,
                 "value": f.value} for f in figures(result) if math.isfinite(f.value)]
        if rows:
            conn.execute(figures_table.insert(), rows)

    # -- reading -------------------------------------------------------------------------

    def scenarios(self) -> list[str]:
        with self._guard(), self.engine.connect() as conn:
            return list(conn.execute(sa.select(runs.c.scenario).distinct()
                                     .order_by(runs.c.scenario)).scalars())

    def runs(self, scenario: str, branch: str | None = None) -> list[StoredRun]:
        """The scenario's runs oldest first, each with its profiles' summary figures."""
        cond = runs.c.scenario == scenario
        if branch is not None:
            cond = cond & (runs.c.git_branch == branch)
        with self._guard(), self.engine.connect() as conn:
            heads = conn.execute(
                sa.select(runs.c.id, runs.c.digest, runs.c.started_at, runs.c.status,
                          runs.c.git_commit, runs.c.git_branch, runs.c.runner, runs.c.partial)
                .where(cond).order_by(runs.c.started_at, runs.c.id)).all()
            values: dict[int, dict[str, dict[str, float]]] = {h.id: {} for h in heads}
            rows = conn.execute(
                sa.select(figures_table.c.run_id, figures_table.c.profile, figures_table.c.metric,
                          figures_table.c.value)
                .join(runs, runs.c.id == figures_table.c.run_id)
                .where(cond & figures_table.c.stage.is_(None)))
            for run_id, profile, metric, value in rows:
                values[run_id].setdefault(profile, {})[metric] = value
        return [StoredRun(id=h.id, digest=h.digest, scenario=scenario, started_at=h.started_at,
                          status=h.status, commit=h.git_commit, branch=h.git_branch,
                          runner=h.runner, partial=bool(h.partial), profiles=values[h.id])
                for h in heads]

    def stage_figures(self, run_id: int) -> list[dict[str, Any]]:
        """Every figure of one run, stages included (profile, stage, metric, value)."""
        with self._guard(), self.engine.connect() as conn:
            rows = conn.execute(sa.select(figures_table.c.profile, figures_table.c.stage,
                                          figures_table.c.metric, figures_table.c.value)
                                .where(figures_table.c.run_id == run_id)
                                .order_by(figures_table.c.id))
            return [dict(r._mapping) for r in rows]

    def result(self, run_id: int) -> RunResult:
        """The stored result.json of a run, loaded through the codec (re-renderable)."""
        with self._guard(), self.engine.connect() as conn:
            text = conn.execute(sa.select(runs.c.result_json).where(runs.c.id == run_id)).scalar()
        if text is None:
            raise UsageError(f"{self.where.label}: no run with id {run_id}")
        return codec.loads(text, source=f"{self.where.label} run {run_id}")

    def count(self) -> int:
        with self._guard(), self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(runs)).scalar() or 0)
