"""Shared fixtures: the bundled mock model server on a free loopback port.

Two factories, both taking the mock server's options as keyword arguments —
the same names as ``python -m mock_server --help`` and a scenario's ``mock:``
block, with underscores (``error_rate=0.1``, ``latency="fixed:10ms"``,
``preset="flaky"``, ``stall="1s@at:2s"``). An unknown or malformed option
raises ``ValueError`` naming it, when the factory is called.

``mock_server(**options) -> str``
    Starts the server IN this process, on its own event loop in a daemon
    thread (``mock_server.serve.BackgroundServer``), and returns its base URL
    ``"http://127.0.0.1:PORT"``. Cheap (no process start); use it for most
    tests. Every server it started is stopped at teardown.

``mock_server_proc(**options) -> MockProcess``
    Starts ``python -m mock_server --port 0 ...`` as a subprocess and reads its
    first stdout line, ``LISTENING http://127.0.0.1:PORT``. The result IS the
    base URL (a ``str`` subclass, so ``url + "/predict"`` works) and also has
    ``.proc`` (the ``subprocess.Popen``) and ``.kill()``. Use it when the
    server must not share the test's GIL (measurement tests) or must be
    signalled or killed. Terminated (then killed) at teardown.

Both bind 127.0.0.1 only. ``metrics(url)`` reads a mock server's /metrics.

``write_scenario(content, filename="scenario.yaml") -> Path``
    Writes a scenario (a mapping, dumped as YAML, or YAML text, dedented) into
    ``tmp_path`` beside a copy of the iris data at ``data/iris.csv``.

``closed_port``: a loopback port nobody listens on.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, Self

import pytest
import yaml

from tests.alone import ROOM, Room

# Bytecode caches, as Python writes them by default. Some CI images set
# PYTHONDONTWRITEBYTECODE: then pytest re-compiles every test module and loadkit module
# at each start, and every loadkit, mock-server and Locust process the suite starts
# compiles loadkit from source again.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

ROOT = Path(__file__).resolve().parents[1]
IRIS_CSV = ROOT / "scenarios" / "data" / "iris.csv"
START_TIMEOUT_S = 30.0  # a loaded 2-core CI machine may take a while to import numpy


# -- tests marked ``alone`` run with no other xdist worker busy (tests/alone.py) -----------

_ROOM_DIR = pytest.StashKey[Path]()


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """This suite runs on pytest-xdist workers unless ``-n`` (or ``--tx``, ``--pdb``) says
    otherwise: ``-n auto --maxprocesses 4 --dist loadfile``. Set here rather than in
    pyproject's addopts so that only this folder's tests are spread over workers, not
    ``pytest examples/pytest``, whose load-test gates must not run side by side.
    ``pytest -n 0`` runs everything in one process, for a debugger."""
    option = config.option
    if (not config.pluginmanager.hasplugin("xdist") or hasattr(config, "workerinput")
            or option.numprocesses is not None or option.tx or option.usepdb):
        return
    option.numprocesses = "auto"
    option.maxprocesses = option.maxprocesses or 4
    if option.dist == "no":
        option.dist = "loadfile"


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: one worker more than the usable cores (``--maxprocesses`` caps it).

    Most of a test here waits on a server or a timer, so one worker per core leaves the
    cores half idle (2 workers: 262 s on 2 cores; 3: 229 s). xdist's own count would be
    the physical cores, 1 on a 2-vCPU machine with hyperthreads.
    PYTEST_XDIST_AUTO_NUM_WORKERS still decides when set.
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return len(os.sched_getaffinity(0)) + 1


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Controller: one lock folder for this run, handed to every worker."""
    config = node.config
    if _ROOM_DIR not in config.stash:
        config.stash[_ROOM_DIR] = Path(tempfile.mkdtemp(prefix="loadkit-tests-"))
    node.workerinput["loadkit_room"] = str(config.stash[_ROOM_DIR])


def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and "loadkit_room" in workerinput:
        config.stash[ROOM] = Room(Path(workerinput["loadkit_room"]))


def pytest_unconfigure(config: pytest.Config) -> None:
    if ROOM in config.stash:
        config.stash[ROOM].close()
    if _ROOM_DIR in config.stash:
        shutil.rmtree(config.stash[_ROOM_DIR], ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item,
                            nextitem: pytest.Item | None) -> Generator[None, object, object]:
    """Every test's setup, call and teardown hold the room, shared."""
    room = item.config.stash.get(ROOM, None)
    if room is None:
        return (yield)
    with room.enter():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """An ``alone`` test's call holds it alone. Its setup (starting a mock server process,
    a second of imports) and teardown run beside the others: they measure nothing."""
    room = item.config.stash.get(ROOM, None)
    if room is None or item.get_closest_marker("alone") is None:
        return (yield)
    with room.alone():
        return (yield)


class MockProcess(str):
    """The base URL of a mock server subprocess, carrying the process itself."""

    proc: subprocess.Popen[bytes]

    def __new__(cls, url: str, proc: subprocess.Popen[bytes]) -> Self:
        self = super().__new__(cls, url)
        self.proc = proc
        return self

    @property
    def url(self) -> str:
        return str(self)

    def kill(self) -> None:
        """SIGKILL the server (a crash, as a client sees it) and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def mock_server() -> Iterator[Callable[..., str]]:
    """``url = mock_server(capacity=4, latency="fixed:10ms")``: an in-process mock server."""
    from mock_server.options import from_mapping
    from mock_server.serve import BackgroundServer

    servers: list[BackgroundServer] = []

    def start(**options: Any) -> str:
        server = BackgroundServer(from_mapping(options))
        url = server.start(timeout_s=START_TIMEOUT_S)
        servers.append(server)
        return url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def mock_server_proc() -> Iterator[Callable[..., MockProcess]]:
    """``url = mock_server_proc(error_rate=0.1)``: a mock server in its own process."""
    from mock_server.options import to_argv

    started: list[subprocess.Popen[bytes]] = []
    stderr_files: list[Any] = []

    def start(**options: Any) -> MockProcess:
        # a file, not a pipe: an unread pipe could fill up; closed with the fixture's teardown
        stderr = tempfile.TemporaryFile()  # noqa: SIM115
        stderr_files.append(stderr)
        proc = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "--port", "0", *to_argv(options)],
            cwd=ROOT,
            env=_env_with_root_on_path(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        started.append(proc)
        line = _first_line(proc, START_TIMEOUT_S)
        if not line.startswith("LISTENING "):
            stderr.seek(0)
            err = stderr.read().decode(errors="replace").strip()
            raise RuntimeError(f"mock server did not start: {err or line or 'no output'}")
        return MockProcess(line.split(" ", 1)[1], proc)

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()
    for f in stderr_files:
        f.close()


def metrics(url: str) -> dict[str, float]:
    """A mock server's /metrics samples by name (labels kept in the name)."""
    with urllib.request.urlopen(url + "/metrics", timeout=5) as resp:
        text = resp.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def scenario_file(folder: Path, content: dict[str, Any] | str,
                  filename: str = "scenario.yaml") -> Path:
    """Write a scenario (a mapping, dumped as YAML, or YAML text, dedented) into ``folder``
    beside a copy of the iris data at ``data/iris.csv``; returns its path."""
    data = folder / "data"
    if not (data / "iris.csv").exists():
        data.mkdir(exist_ok=True)
        shutil.copy(IRIS_CSV, data / "iris.csv")
    text = (textwrap.dedent(content) if isinstance(content, str)
            else yaml.safe_dump(content, sort_keys=False))
    path = folder / filename
    path.write_text(text)
    return path


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """``path = write_scenario(mapping_or_yaml_text)``: ``scenario_file`` in tmp_path."""

    def write(content: dict[str, Any] | str, filename: str = "scenario.yaml") -> Path:
        return scenario_file(tmp_path, content, filename)

    return write


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env_with_root_on_path() -> dict[str, str]:
    """The environment, with the checkout importable even when loadkit is not installed."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(paths))


def _first_line(proc: subprocess.Popen[bytes], timeout_s: float) -> str:
    """The first stdout line, or "" if the process exits or stays silent past the timeout."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + timeout_s
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:  # EOF: the process exited
                break
            buf += chunk
        elif proc.poll() is not None:
            break
    return buf.split(b"\n", 1)[0].decode(errors="replace").strip()


def wait_until(what: str, check: Callable[[], Any], timeout_s: float = 30.0,
               poll_s: float = 0.05) -> Any:
    """Poll ``check()`` until it returns something truthy (returned), or fail naming ``what``.

    What a test waits for instead of sleeping a guess: the condition itself.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g}s waiting for {what}")
        time.sleep(poll_s)


def signal_delivered(pid: int, sig: int) -> bool:
    """True once ``sig`` sent to ``pid`` is no longer pending (Linux ``/proc``).

    Two signals of one kind sent before the first is delivered merge into one
    in the kernel; a test sending a second one waits for this first.
    """
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True                                   # gone: nothing is pending any more
    bit = 1 << (sig - 1)
    pending = [int(line.split()[1], 16) for line in status.splitlines()
               if line.startswith(("SigPnd:", "ShdPnd:"))]
    return not any(p & bit for p in pending)
