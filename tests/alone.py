"""Tests that measure capacity or latency against the clock run with no other test beside them.

The suite runs on pytest-xdist workers (switched on in tests/conftest.py): on 2 cores that
halves its time, because most of it is waiting on servers and timers. A test that measures
what a real server sustains (an 8-slot mock's ceiling, a fixed 20 ms p50 against a plain
client, a canary's two arms) would measure the other worker's load instead, so it is
marked ``@pytest.mark.alone``: its call (not its setup or teardown, which measure nothing)
waits until the other workers are between tests, and they wait for it. A module fixture
that measures does the same with ``with alone(request.config):``.

A reader-writer lock over two files, with a turnstile so an ``alone`` test is not
starved: every test takes the turnstile, then the room shared, then lets the turnstile
go; an ``alone`` call lets its shared hold go and takes the room exclusive the same way. An ``alone`` test waiting for the room holds the
turnstile, so no new test slips in ahead of it; the tests already running finish first.
``flock`` locks belong to the open file, so each worker opens both files once.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


class Room:
    """The lock the workers of one test run share, in a folder the controller made."""

    def __init__(self, folder: Path) -> None:
        flags = os.O_CREAT | os.O_RDWR | os.O_CLOEXEC
        self._turnstile = os.open(folder / "turnstile", flags, 0o600)
        self._room = os.open(folder / "room", flags, 0o600)
        self._held: int | None = None

    def _take(self, mode: int) -> None:
        fcntl.flock(self._turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._room, mode)
        finally:
            fcntl.flock(self._turnstile, fcntl.LOCK_UN)
        self._held = mode

    def _let_go(self) -> None:
        fcntl.flock(self._room, fcntl.LOCK_UN)
        self._held = None

    @contextmanager
    def enter(self) -> Iterator[None]:
        """One test's setup, call and teardown, beside the other workers' tests."""
        self._take(fcntl.LOCK_SH)
        try:
            yield
        finally:
            self._let_go()

    @contextmanager
    def alone(self) -> Iterator[None]:
        """Inside a test: its call, or a module fixture that measures, with no other test
        running. The shared hold is let go first: two workers turning shared into
        exclusive at once must not wait for each other."""
        before = self._held
        if before == fcntl.LOCK_EX:
            yield
            return
        if before is not None:
            self._let_go()
        self._take(fcntl.LOCK_EX)
        try:
            yield
        finally:
            self._let_go()
            if before is not None:
                self._take(before)

    def close(self) -> None:
        os.close(self._turnstile)
        os.close(self._room)


ROOM = pytest.StashKey[Room]()


@contextmanager
def alone(config: pytest.Config) -> Iterator[None]:
    """What ``@pytest.mark.alone`` does for a test, for a module fixture that measures:
    ``with alone(request.config): result = run(...)``. Outside xdist, nothing."""
    room = config.stash.get(ROOM, None)
    if room is None:
        yield
        return
    with room.alone():
        yield
