"""The run store: idempotent, transactional adds; bad stores and results refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadkit.cli import _run
from loadkit.history.figures import Provenance, provenance
from loadkit.history.store import HistoryStore, locate
from loadkit.results import dumps, loads
from tests.history.conftest import make_result


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    return err


def test_adding_the_same_result_twice_stores_it_once(tmp_path: Path, capsys):
    db = str(tmp_path / "h.sqlite")
    text = dumps(make_result(10.0, run=0))
    first = write(tmp_path, "a.json", text)
    reindented = write(tmp_path, "b.json", json.dumps(json.loads(text), indent=1))
    assert _run(["history", "add", first, "--db", db]) == 0
    assert _run(["history", "add", first, reindented, first, "--db", db]) == 0
    out = capsys.readouterr().out
    assert out.count("already stored") == 3
    store = HistoryStore.open(db)
    assert store.count() == 1


def test_the_whole_result_is_kept_and_loads_back_equal(tmp_path: Path):
    result = make_result(12.5, run=3, errors=7, profiles=("latency", "throughput"))
    store = HistoryStore.open(str(tmp_path / "h.sqlite"), create=True)
    assert store.add([result], Provenance("abc123", "main", "ci-1")) == [True]
    (run,) = store.runs("iris")
    assert store.result(run.id) == result
    assert (run.commit, run.branch, run.runner) == ("abc123", "main", "ci-1")
    assert run.profiles["throughput"]["error_rate"] == pytest.approx(7 / 200)
    assert run.profiles["latency"]["p99"] == pytest.approx(12.5 * 2.5, rel=1e-3)
    stages = [f for f in store.stage_figures(run.id) if f["stage"] == 0 and f["metric"] == "p50"]
    assert [f["value"] for f in stages] == [pytest.approx(12.5, rel=1e-3)] * 2


def test_a_crash_half_way_through_an_add_leaves_the_store_as_it_was(tmp_path: Path, monkeypatch):
    db = str(tmp_path / "h.sqlite")
    store = HistoryStore.open(db, create=True)
    store.add([make_result(10.0, run=0)], Provenance())
    real = HistoryStore._insert
    calls = []

    def crash_on_second(self, conn, result, key, prov):
        calls.append(key)
        if len(calls) == 2:
            raise KeyboardInterrupt          # as a Ctrl-C between two inserts would
        real(self, conn, result, key, prov)

    monkeypatch.setattr(HistoryStore, "_insert", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        store.add([make_result(11.0, run=1), make_result(12.0, run=2)], Provenance())
    assert len(calls) == 2
    assert [r.started_at for r in HistoryStore.open(db).runs("iris")] == [make_result(run=0).started_at]


def test_an_unreadable_result_stores_nothing_and_says_so_in_one_line(tmp_path: Path, capsys):
    db = tmp_path / "h.sqlite"
    good = write(tmp_path, "good.json", dumps(make_result(10.0)))
    bad = write(tmp_path, "bad.json", "{not json")
    assert _run(["history", "add", good, bad, "--db", str(db)]) == 2
    assert "bad.json: not valid JSON" in one_line_error(capsys)
    assert not db.exists()


def test_a_result_of_an_unknown_schema_is_refused_in_one_line(tmp_path: Path, capsys):
    data = json.loads(dumps(make_result(10.0)))
    data["schema"] = "loadkit.result/v99"
    path = write(tmp_path, "future.json", json.dumps(data))
    assert _run(["history", "add", path, "--db", str(tmp_path / "h.sqlite")]) == 2
    err = one_line_error(capsys)
    assert "future.json" in err and "loadkit.result/v99" in err


def test_a_corrupt_store_is_refused_in_one_line_and_left_untouched(tmp_path: Path, capsys):
    db = tmp_path / "h.sqlite"
    db.write_bytes(b"this is not a database, it is a text file that says so" * 50)
    before = db.read_bytes()
    result = write(tmp_path, "r.json", dumps(make_result(10.0)))
    for args in (["history", "show"], ["history", "add", result], ["history", "check", result]):
        assert _run([*args, "--db", str(db)]) == 2, args
        err = one_line_error(capsys)
        assert str(db) in err and "not a readable loadkit history store" in err
    assert db.read_bytes() == before


def test_a_missing_store_and_a_scenario_with_no_history_are_one_line_errors(tmp_path: Path, capsys):
    db = str(tmp_path / "none.sqlite")
    assert _run(["history", "show", "--db", db]) == 2
    assert "no history store here" in one_line_error(capsys)
    with HistoryStore.open(db, create=True) as store:
        store.add([make_result(10.0)], Provenance())
    assert _run(["history", "show", "--db", db, "--scenario", "checkout"]) == 2
    assert "no history for 'checkout'" in one_line_error(capsys)
    other = write(tmp_path, "o.json", dumps(make_result(10.0, name="checkout")))
    assert _run(["history", "check", other, "--db", db]) == 2
    assert "no history for 'checkout'" in one_line_error(capsys)


def test_a_sqlite_file_of_another_program_is_not_taken_for_a_history(tmp_path: Path, capsys):
    import sqlite3

    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as conn:        # (commits; the close is ours)
        conn.execute("create table notes (x text)")
    conn.close()
    assert _run(["history", "show", "--db", str(db)]) == 2
    assert "not a loadkit history store" in one_line_error(capsys)


def test_a_store_refused_at_open_leaves_no_connection_open(tmp_path: Path, monkeypatch):
    # The schema check's pooled connection must be closed with the refusal, not left for
    # the garbage collector (a ResourceWarning; a server-side session with PostgreSQL).
    import sqlite3

    import sqlalchemy as sa

    from loadkit.errors import UsageError

    engines: list[sa.Engine] = []
    real = sa.create_engine

    def create_engine(url: str) -> sa.Engine:
        engines.append(real(url))
        return engines[-1]

    monkeypatch.setattr("loadkit.history.store.sa.create_engine", create_engine)
    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("create table notes (x text)")
    conn.close()
    with pytest.raises(UsageError, match="not a loadkit history store"):
        HistoryStore.open(str(db))
    assert engines[0].pool.checkedin() == 0


def test_the_default_store_is_the_env_variable_then_the_dot_loadkit_file(tmp_path: Path):
    assert locate(None, {}).path == Path(".loadkit/history.sqlite")
    assert locate(None, {"LOADKIT_HISTORY": str(tmp_path / "x.db")}).path == tmp_path / "x.db"
    pg = locate("postgresql://ci:s3cret@db.internal:5432/perf", {})
    assert pg.url.startswith("postgresql+psycopg://") and "s3cret" not in pg.label
    assert pg.path is None


def test_commit_branch_and_runner_come_from_github_actions_or_gitlab_unless_given():
    gh = {"GITHUB_ACTIONS": "true", "GITHUB_SHA": "a1b2", "GITHUB_REF_NAME": "12/merge",
          "GITHUB_HEAD_REF": "feature-x", "RUNNER_NAME": "gh-7"}
    assert provenance(env=gh) == Provenance("a1b2", "feature-x", "github-actions:gh-7")
    gl = {"GITLAB_CI": "true", "CI_COMMIT_SHA": "c3d4", "CI_COMMIT_BRANCH": "main",
          "CI_RUNNER_DESCRIPTION": "shared-1"}
    assert provenance(env=gl) == Provenance("c3d4", "main", "gitlab:shared-1")
    assert provenance("given", None, None, env=gl).commit == "given"
    assert provenance(env={}) == Provenance()


def test_a_stored_run_can_be_printed_back_and_re_rendered(tmp_path: Path, capsys):
    db = str(tmp_path / "h.sqlite")
    results = [make_result(10.0 + i, run=i) for i in range(3)]
    HistoryStore.open(db, create=True).add(results, Provenance())
    capsys.readouterr()
    assert _run(["history", "result", "1", "--db", db]) == 0
    assert loads(capsys.readouterr().out) == results[1]


def test_streaming_figures_are_stored_and_gated_when_a_run_has_them(tmp_path: Path):
    from dataclasses import replace

    from loadkit.history.gate import check
    from loadkit.results.model import LatencySummary

    def streamed(ttft_ms: float, run: int):
        r = make_result(10.0, run=run)
        ttft = LatencySummary(p50=ttft_ms, p99=ttft_ms * 2, mean=ttft_ms)
        p = r.profiles[0]
        summary = replace(p.summary, ttft_ms=ttft, goodput_rps=40.0, output_tokens_per_s=900.0)
        return replace(r, profiles=(replace(p, summary=summary),))

    store = HistoryStore.open(str(tmp_path / "h.sqlite"), create=True)
    store.add([streamed(100.0 + i % 3, i) for i in range(8)], Provenance())
    runs = store.runs("iris")
    assert runs[0].profiles["latency"]["ttft_p99"] == 200.0
    assert runs[0].profiles["latency"]["goodput"] == 40.0
    outcome = check(streamed(180.0, 50), runs)
    bad = {f.metric for f in outcome.findings if f.state == "regression"}
    assert outcome.status == "fail" and {"ttft_p50", "ttft_p99"} <= bad
    assert "p50" not in bad


def test_a_v1_result_file_is_stored_with_the_figures_the_codec_reads_from_it(tmp_path: Path):
    from loadkit.results import read

    v1 = Path(__file__).resolve().parents[1] / "results" / "data" / "v1_result.json"
    db = str(tmp_path / "h.sqlite")
    assert _run(["history", "add", str(v1), "--db", db]) == 0
    (run,) = HistoryStore.open(db).runs("iris-staging")
    loaded = read(str(v1))
    for p in loaded.profiles:
        assert run.profiles[p.name]["p50"] == p.summary.latency_ms.p50
        assert run.profiles[p.name]["error_rate"] == p.summary.error_rate
    assert _run(["history", "add", str(v1), "--db", db]) == 0       # the same run: a no-op
    assert HistoryStore.open(db).count() == 1
