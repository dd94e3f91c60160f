"""The same store code path against a real PostgreSQL server, started here for the module.

Skipped when the server's binaries (initdb, pg_ctl) are not installed; `.ci/run`
installs Debian's ``postgresql`` package so CI runs it. As root (CI), the server
runs as the ``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadkit.cli import _run
from loadkit.history.figures import Provenance
from loadkit.history.store import HistoryStore
from loadkit.results import dumps
from tests.history.conftest import make_result, noisy_levels

pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    bindir = _bin_dir()
    if bindir is None or not (bindir / "initdb").exists():
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    prefix: list[str] = []
    # its own folder: pytest's temporary folders are private to root, the server is not root
    folder = Path(tempfile.mkdtemp(prefix="loadkit-pg-"))
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            user = None
        if user is None or shutil.which("runuser") is None:
            shutil.rmtree(folder)
            pytest.skip("running as root without a postgres user and runuser to run the server")
        prefix = ["runuser", "-u", "postgres", "--"]
        os.chown(folder, user.pw_uid, user.pw_gid)
    data, port = folder / "data", _free_port()

    def pg(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=60)

    pg(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "loadkit", "--no-sync",
       "-E", "UTF8")
    pg(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "30",
       "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
             "-c full_page_writes=off -c synchronous_commit=off", "start")
    try:
        yield f"postgresql://loadkit@127.0.0.1:{port}/postgres"
    finally:
        pg(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def test_runs_added_to_postgres_are_stored_once_and_show_their_change_point(pg_url, tmp_path,
                                                                             capsys):
    files = []
    for i, v in enumerate(noisy_levels([10.0] * 10 + [12.0] * 10, seed=1)):
        path = tmp_path / f"r{i}.json"
        path.write_text(dumps(make_result(v, run=i)), encoding="utf-8")
        files.append(str(path))
    assert _run(["history", "add", *files, "--db", pg_url, "--branch", "main"]) == 0
    assert _run(["history", "add", files[0], "--db", pg_url]) == 0
    capsys.readouterr()
    assert _run(["history", "show", "--json", "--db", pg_url]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["runs"]) == 20
    assert {cp["index"] for cp in data["change_points"] if cp["metric"] == "p50"} == {10}
    slow = tmp_path / "slow.json"
    slow.write_text(dumps(make_result(20.0, run=50)), encoding="utf-8")
    assert _run(["history", "check", str(slow), "--db", pg_url]) == 1


def test_a_failed_add_leaves_postgres_as_it_was(pg_url, monkeypatch):
    store = HistoryStore.open(pg_url, create=True)
    try:
        before = store.count()

        def crash(self, conn, result, key, prov):
            raise RuntimeError("the runner died here")

        monkeypatch.setattr(HistoryStore, "_insert", crash)
        with pytest.raises(RuntimeError):
            store.add([make_result(99.0, run=99, name="other")], Provenance())
        assert store.count() == before and "other" not in store.scenarios()
    finally:
        store.close()


def test_a_postgres_server_that_is_not_there_is_a_one_line_error(capsys):
    url = f"postgresql://loadkit:secret@127.0.0.1:{_free_port()}/postgres"
    assert _run(["history", "show", "--db", url]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "secret" not in err and "127.0.0.1" in err
