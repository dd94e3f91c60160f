"""The small protocol every transport speaks, and the errors it raises.

A transport owns its connections and its per-request timeout; the engine owns
timing, pacing and recording. ``send`` returns the status and the whole body
(already read to the last byte) or raises ``TransportError`` with an error kind.
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

    async def send(self, payload: int) -> tuple[int, bytes]:
        """Send the request for payload ``payload`` and read the whole response."""

    async def close(self) -> None:
        """Close every connection; idempotent."""
