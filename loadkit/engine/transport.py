"""The small protocol every transport speaks, and the errors it raises.

A transport owns its connections and its per-request timeout; the engine owns
timing, pacing and recording. ``send`` returns the status, the whole body
(already read to the last byte) and the ``perf_counter_ns`` at which that last
byte arrived -- taken by the transport as it reads, so the engine's latency ends
there and not when the awaiting task next gets the loop (after other requests'
checks) -- or raises ``TransportError`` with an error kind.
"""

from __future__ import annotations

from typing import Protocol


class TransportError(Exception):
    """A request that got no usable response; ``kind`` is the error class."""

    __slots__ = ("kind", "status")

    def __init__(self, kind: str, status: int | None = None) -> None:
        super().__init__(kind)
        self.kind = kind       # one of loadkit.results.kinds.ERROR_KINDS
        self.status = status


class Transport(Protocol):
    name: str

    async def start(self) -> None:
        """Prepare the connection pool (sized by the caller at construction)."""

    async def send(self, payload: int) -> tuple[int, bytes, int]:
        """Send the request for payload ``payload``; (status, body, last-byte perf_counter_ns)."""

    async def close(self) -> None:
        """Close every connection; idempotent."""
