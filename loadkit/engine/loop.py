"""Event-loop set-up for the engine: uvloop when installed, asyncio's own loop otherwise.

``run_stages`` (the engine's synchronous entry point) creates one loop per run
with ``new_event_loop`` and closes it afterwards; nothing else in loadkit ever
sees a loop.
"""

from __future__ import annotations

import asyncio
import resource
import sys


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
