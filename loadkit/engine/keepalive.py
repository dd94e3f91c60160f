"""How long an idle kept-alive connection may be reused: the stale keep-alive race, avoided.

A server closes a connection that stayed idle past its keep-alive timeout. A
request written on it just as the server closes never reaches the application:
an idempotent one is retried, a POST is a ``reset`` (sending it twice could do
the work twice). At a low rate close to the server's timeout -- a soak at 1 rps
against uvicorn's ``--timeout-keep-alive 1`` -- that manufactures resets. So the
fast pool reuses an idle connection only while it has been idle for less than
the server keeps it, less a margin; an older one is closed by the pool's sweep
and the next request opens a fresh one.

The server's timeout is, in order: what it says (``Keep-Alive: timeout=N``, read
from the first answer of each connection), what it did (the idle time after
which it closed one of our connections, or closed one under a request), else a
conservative default under the common 5 s (uvicorn, Node, Apache); gunicorn's 2 s
and shorter ones are learned from the first connection they close.
"""

from __future__ import annotations

import re

DEFAULT_KEEP_S = 4.0
MAX_MARGIN_S = 1.0        # close this long before the server would (at most)...
MARGIN_SHARE = 0.25       # ...or this share of its timeout, whichever is less
_TIMEOUT = re.compile(rb"timeout\s*=\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


def keep_alive_hint(value: bytes | None) -> float | None:
    """The seconds a ``Keep-Alive: timeout=N, max=M`` header promises (None: no promise)."""
    if not value:
        return None
    m = _TIMEOUT.search(value)
    return float(m.group(1)) if m else None


class KeepAlive:
    """The pool's idea of the server's keep-alive timeout, and what it means for reuse."""

    __slots__ = ("keep_s", "limit_s", "said")

    def __init__(self) -> None:
        self.said = False               # the server told us (Keep-Alive header)
        self.keep_s = DEFAULT_KEEP_S
        self.limit_s = self._limit()

    def _limit(self) -> float:
        return self.keep_s - min(MAX_MARGIN_S, MARGIN_SHARE * self.keep_s)

    def told(self, seconds: float) -> None:
        """The server's own ``Keep-Alive: timeout`` (overrides the default, not a lesson)."""
        if not self.said or seconds < self.keep_s:
            self.said = True
            self.keep_s = max(seconds, 0.0)
            self.limit_s = self._limit()

    def closed_after(self, idle_s: float) -> None:
        """The server closed a connection after it was idle ``idle_s``: it keeps no longer."""
        if idle_s < self.keep_s:
            self.keep_s = max(idle_s, 0.0)
            self.limit_s = self._limit()

    def stale(self, idle_s: float) -> bool:
        """True when a connection idle this long should not carry another request."""
        return idle_s >= self.limit_s
