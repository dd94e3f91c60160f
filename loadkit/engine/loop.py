"""Event-loop set-up for the engine: uvloop when installed, asyncio's own loop otherwise.

``run_stages`` (the engine's synchronous entry point) creates one loop per run
with ``new_event_loop`` and closes it afterwards; nothing else in loadkit ever
sees a loop.
"""

from __future__ import annotations

import asyncio
import resource
import signal
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

from loadkit.engine.signals import SIGNALS, SignalGuard

T = TypeVar("T")


def uvloop_available() -> bool:
    """True when uvloop is importable on this platform (it is the faster loop)."""
    if sys.platform == "win32":
        return False
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def new_event_loop(use_uvloop: bool | None = None) -> asyncio.AbstractEventLoop:
    """A fresh loop; uvloop unless it is missing or ``use_uvloop`` is False."""
    if use_uvloop is None:
        use_uvloop = uvloop_available()
    if use_uvloop:
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run_on_new_loop(coro: Coroutine[Any, Any, T]) -> T:
    """``coro``'s result, run on a loop made for it and closed afterwards, cleanly.

    Also when SIGINT or SIGTERM comes while it runs (the readiness wait): the signal is
    taken by a loop handler, which cancels the task at the loop's next turn; the task
    unwinds (its ``async with`` blocks exit), the handlers found before are put back,
    and the signal is raised again outside the loop -- KeyboardInterrupt from Python's
    handler or the CLI's, the default action (death) where there was none. Raised from
    a plain signal handler instead, the KeyboardInterrupt landed in whatever code was
    running: inside aiohttp's ``data_received``, uvloop printed "Fatal error on
    transport" and a traceback under the CLI's one line. An ignored signal stays ignored.
    """
    loop = new_event_loop()
    task = loop.create_task(coro)
    routed = tuple(s for s in SIGNALS if signal.getsignal(s) is not signal.SIG_IGN)
    guard = SignalGuard(loop, task.cancel, task.cancel, routed)
    guard.install()
    try:
        try:
            result = loop.run_until_complete(task)
        except asyncio.CancelledError:
            if guard.first is None:
                raise
        else:
            if guard.first is None:
                return result
        guard.remove()
        signal.raise_signal(guard.first)
        raise KeyboardInterrupt   # the handler put back returned: still, nothing finished
    finally:
        guard.remove()
        close_loop(loop)


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel whatever is left, let it unwind, and close the loop."""
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()


def raise_open_files_limit(wanted: int) -> int:
    """Lift the soft RLIMIT_NOFILE towards ``wanted`` (never above the hard limit).

    A pool of a thousand connections needs a thousand descriptors; the usual soft
    limit of 1024 would turn a big open-model stage into ``EMFILE`` connect errors
    that look like the target's fault. Returns the soft limit in force afterwards.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft
    return target
