"""Closing a pool's connections for good before its event loop closes.

A socket still open when the loop closes is a ResourceWarning in the user's
process, and uvloop fails closing a loop while a TLS connection is mid-close
(its shutdown callback finds the loop closed). A plain close ends on the next
loop turn; a TLS close sends close_notify and waits for the peer's, a round
trip. ``OpenConnections`` knows every connection whose transport has not yet
reported ``connection_lost`` (in use, idle, or closing), so the pool's
``close()`` can wait for exactly those, and abort the ones a silent peer keeps.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

# How long close() waits for connections to finish closing (a TLS close_notify round
# trip to a loopback or LAN peer takes milliseconds) before aborting what is left.
CLOSE_WAIT_S = 1.0


class Closable(Protocol):
    """A connection: its transport once connected (None before)."""

    transport: asyncio.Transport | None


class OpenConnections:
    """The connections whose transport is not gone yet; ``close_all`` ends them."""

    def __init__(self) -> None:
        self._open: set[Closable] = set()
        self._emptied: asyncio.Future[None] | None = None

    def __len__(self) -> int:
        return len(self._open)

    def add(self, conn: Closable) -> None:
        """A connection was made (call it only while its transport is open)."""
        self._open.add(conn)

    def lost(self, conn: Closable) -> None:
        """Its ``connection_lost`` ran: the socket is closed."""
        self._open.discard(conn)
        emptied = self._emptied
        if not self._open and emptied is not None and not emptied.done():
            emptied.set_result(None)

    async def close_all(self, wait_s: float = CLOSE_WAIT_S) -> None:
        """Close every open connection and return once each transport is gone:
        gracefully within ``wait_s``, then by abort (bounded by ``wait_s`` again)."""
        for conn in list(self._open):
            if conn.transport is not None and not conn.transport.is_closing():
                conn.transport.close()
        if await self._until_empty(wait_s):
            return
        for conn in list(self._open):
            if conn.transport is not None:
                conn.transport.abort()
        await self._until_empty(wait_s)

    async def _until_empty(self, wait_s: float) -> bool:
        """Wait (at most ``wait_s``) until no connection is open; True if none is."""
        if self._open:
            self._emptied = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(self._emptied, wait_s)
            except TimeoutError:
                pass
            finally:
                self._emptied = None
        return not self._open
