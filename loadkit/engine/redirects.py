"""Following redirects, the same way on both transports.

``request.follow_redirects`` (default 10) is how many redirects one request may
follow; 0 reports the 3xx itself. Both transports follow a 301/302/303/307/308
that carries a ``Location``, the whole chain timed as one request (send to the
last byte of the final answer), and count every hop followed in the stage's
``redirects``. One more redirect than allowed is the error kind ``redirect_loop``
(with the last 3xx's status). The method rule is the one browsers, curl -L,
requests and aiohttp share: 303 turns any method but HEAD into a body-less GET,
301/302 turn a POST into one; 307/308 resend the same method and body. A hop to
another origin drops ``Authorization`` (as aiohttp does).

The count reaches the right stage through a context variable: each stage's
senders are created in a context holding its ``Tally``, and a transport that
follows a hop adds to whatever tally the running task carries (no per-request
argument, nothing on the path of a request that is not redirected).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    from loadkit.engine.server_timing import ServerTimingRecorder

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_FOLLOW = 10


class Tally:
    """Per-stage counts a transport adds to from inside a request (rare events only)."""

    __slots__ = ("decompress_ns", "decompressed", "redirects", "server_timing")

    def __init__(self) -> None:
        self.redirects = 0
        self.decompress_ns = 0        # time spent decoding compressed answers...
        self.decompressed = 0         # ...of this many
        self.server_timing: ServerTimingRecorder | None = None   # server_timing.py, when on


CURRENT_TALLY: ContextVar[Tally | None] = ContextVar("loadkit_stage_tally", default=None)


def count_redirects(n: int = 1) -> None:
    """Add ``n`` followed hops to the running stage's tally (if any)."""
    tally = CURRENT_TALLY.get()
    if tally is not None:
        tally.redirects += n


def next_method(status: int, method: str) -> tuple[str, bool]:
    """(method of the next hop, whether it keeps the body) after a ``status`` redirect."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        return "GET", False
    return method, True


def same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def resolve(base: str, location: str) -> str:
    return urljoin(base, location)
