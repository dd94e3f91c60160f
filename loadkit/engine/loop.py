"""Event-loop set-up for the engine: uvloop when installed, asyncio's own loop otherwise.

``run_stages`` (the engine's synchronous entry point) creates one loop per run
with ``new_event_loop`` and closes it afterwards; nothing else in loadkit ever
sees a loop.
"""

from __future__ import annotations

import asyncio
import resource
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

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

    Also when a signal handler raises KeyboardInterrupt out of the running loop
    (SIGTERM during the readiness wait): the task left suspended is cancelled
    and unwound (its ``async with`` blocks exit) before the loop closes, instead
    of being finalised by the garbage collector later ("coroutine ignored
    GeneratorExit"), and the interrupt propagates.
    """
    loop = new_event_loop()
    try:
        return loop.run_until_complete(loop.create_task(coro))
    finally:
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
