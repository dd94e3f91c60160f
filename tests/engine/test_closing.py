"""OpenConnections: a pool's close waits for every socket, and aborts what a peer holds."""

from __future__ import annotations

import asyncio
from typing import Any

from loadkit.engine.closing import OpenConnections


class FakeTransport:
    """Closes (calls ``lost``) on the next loop turn; or never, when the peer is silent."""

    def __init__(self, pool: OpenConnections, conn: Any, silent_peer: bool) -> None:
        self.pool, self.conn, self.silent_peer = pool, conn, silent_peer
        self.closing = False
        self.calls: list[str] = []

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.calls.append("close")
        self.closing = True
        if not self.silent_peer:
            asyncio.get_running_loop().call_soon(self.pool.lost, self.conn)

    def abort(self) -> None:
        self.calls.append("abort")
        asyncio.get_running_loop().call_soon(self.pool.lost, self.conn)


class FakeConn:
    transport: FakeTransport


def open_conns(pool: OpenConnections, *silent: bool) -> list[FakeConn]:
    conns = []
    for s in silent:
        conn = FakeConn()
        conn.transport = FakeTransport(pool, conn, s)
        pool.add(conn)  # type: ignore[arg-type]
        conns.append(conn)
    return conns


def test_close_all_returns_once_every_connection_is_lost_without_aborting_any() -> None:
    async def main() -> tuple[list[FakeConn], int]:
        pool = OpenConnections()
        conns = open_conns(pool, False, False)
        await pool.close_all(wait_s=5.0)
        return conns, len(pool)

    conns, left = asyncio.run(main())
    assert left == 0
    assert [c.transport.calls for c in conns] == [["close"], ["close"]]


def test_a_peer_that_never_finishes_the_close_is_aborted_after_the_wait() -> None:
    async def main() -> tuple[list[FakeConn], int, float]:
        pool = OpenConnections()
        conns = open_conns(pool, False, True)
        t0 = asyncio.get_running_loop().time()
        await pool.close_all(wait_s=0.05)
        return conns, len(pool), asyncio.get_running_loop().time() - t0

    conns, left, took = asyncio.run(main())
    assert left == 0
    assert [c.transport.calls for c in conns] == [["close"], ["close", "abort"]]
    assert 0.05 <= took < 1.0
