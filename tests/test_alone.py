"""The suite's own lock (tests/alone.py): an ``alone`` test runs with no other test beside
it, and is not starved by tests that keep arriving. Three Rooms on one folder stand for
three xdist workers (flock locks belong to each open file, so they exclude each other
inside one process too)."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

from tests.alone import Room
from tests.conftest import wait_until


def _enter_in_thread(room: Room, alone: bool, log: list[str], name: str,
                     leave: threading.Event) -> threading.Thread:
    def run() -> None:
        with room.enter(), (room.alone() if alone else contextlib.nullcontext()):
            log.append(f"{name} in")
            leave.wait(10)
            log.append(f"{name} out")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _wait_for(log: list[str], entry: str) -> None:
    wait_until(f"{entry!r} in {log}", lambda: entry in log, timeout_s=5)


def test_shared_tests_run_together_and_an_alone_test_waits_for_them_and_excludes_the_next(
        tmp_path: Path) -> None:
    a, b, c = Room(tmp_path), Room(tmp_path), Room(tmp_path)
    log: list[str] = []
    leave_a, leave_b, leave_c = threading.Event(), threading.Event(), threading.Event()
    try:
        ta = _enter_in_thread(a, False, log, "shared-1", leave_a)
        _wait_for(log, "shared-1 in")
        tb = _enter_in_thread(b, True, log, "alone", leave_b)
        time.sleep(0.1)
        # The alone test waits at the turnstile's far side: a test arriving now queues
        # behind it instead of joining the running one.
        tc = _enter_in_thread(c, False, log, "shared-2", leave_c)
        time.sleep(0.2)
        assert log == ["shared-1 in"]
        leave_a.set()
        _wait_for(log, "alone in")
        time.sleep(0.2)
        assert log == ["shared-1 in", "shared-1 out", "alone in"]
        leave_b.set()
        _wait_for(log, "shared-2 in")
        leave_c.set()
        for t in (ta, tb, tc):
            t.join(5)
        assert log == ["shared-1 in", "shared-1 out", "alone in", "alone out",
                       "shared-2 in", "shared-2 out"]
    finally:
        for e in (leave_a, leave_b, leave_c):
            e.set()
        for room in (a, b, c):
            room.close()


def test_shared_tests_do_not_wait_for_each_other(tmp_path: Path) -> None:
    a, b = Room(tmp_path), Room(tmp_path)
    log: list[str] = []
    leave = threading.Event()
    try:
        ta = _enter_in_thread(a, False, log, "one", leave)
        tb = _enter_in_thread(b, False, log, "two", leave)
        _wait_for(log, "one in")
        _wait_for(log, "two in")
        leave.set()
        ta.join(5)
        tb.join(5)
    finally:
        leave.set()
        a.close()
        b.close()


def test_a_module_fixture_turns_its_shared_hold_alone_and_back(tmp_path: Path) -> None:
    # Worker a is in a test (shared) whose module fixture measures; worker b is in
    # another test. The fixture waits for b's test, runs with b's next test waiting,
    # and a's test goes on shared again.
    a, b = Room(tmp_path), Room(tmp_path)
    log: list[str] = []
    leave_b, leave_next = threading.Event(), threading.Event()
    try:
        tb = _enter_in_thread(b, False, log, "b", leave_b)
        _wait_for(log, "b in")

        def fixture_then_test() -> None:
            with a.enter():
                with a.alone():
                    log.append("fixture in")
                    tn = _enter_in_thread(b, False, log, "b-next", leave_next)
                    time.sleep(0.2)
                    log.append("fixture out")
                log.append("test goes on")
                _wait_for(log, "b-next in")   # shared again: b's next test runs beside it
                leave_next.set()
                tn.join(5)

        ta = threading.Thread(target=fixture_then_test, daemon=True)
        ta.start()
        time.sleep(0.2)
        assert log == ["b in"]
        leave_b.set()
        ta.join(5)
        tb.join(5)
        assert log[:4] == ["b in", "b out", "fixture in", "fixture out"]
        assert log.index("b-next in") > log.index("fixture out")
    finally:
        leave_b.set()
        leave_next.set()
        a.close()
        b.close()
