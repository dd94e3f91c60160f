"""Stale keep-alive: an idle connection is reused only while the server still keeps it."""

from __future__ import annotations

import asyncio

import pytest

from loadkit.engine.fast_transport import FastTransport
from loadkit.engine.keepalive import DEFAULT_KEEP_S, KeepAlive, keep_alive_hint
from loadkit.scenario.plan import PayloadSet, RequestSpec

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n%s\r\nok"


async def _serve(extra: bytes, close_idle_after: float | None):
    """Answers every request; says ``extra`` headers; closes a connection idle that long."""
    state = {"connections": 0}

    async def on_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state["connections"] += 1
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"),
                                                  close_idle_after)
                except (TimeoutError, asyncio.IncompleteReadError):
                    return
                n = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(n)
                writer.write(OK % extra)
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], state


async def _pattern(extra: bytes, close_idle_after: float | None, gaps: list[float]):
    server, port, state = await _serve(extra, close_idle_after)
    async with server:
        t = FastTransport(RequestSpec(target=f"http://127.0.0.1:{port}", timeout_s=2.0),
                          PayloadSet(1, (b"{}",)), 1)
        await t.start()
        try:
            got = [(await t.send(0))[0]]
            for gap in gaps:
                await asyncio.sleep(gap)
                got.append((await t.send(0))[0])
        finally:
            await t.close()
    return got, state["connections"], t


def test_a_connection_idle_past_the_servers_stated_keep_alive_is_not_reused() -> None:
    # Keep-Alive: timeout=1 -> reuse while idle < 0.75 s; the server itself never closes.
    got, conns, t = asyncio.run(_pattern(b"Keep-Alive: timeout=1\r\n", None, [0.2, 0.9, 0.2]))
    assert got == [200] * 4
    assert conns == 2 and t.expired == 1


def test_the_servers_idle_close_teaches_the_pool_not_to_reuse_near_it() -> None:
    # No header; the server drops connections idle 0.4 s. After the first such close the
    # pool closes idle ones itself at 0.3 s: the request after 0.35 s never meets the race.
    got, conns, t = asyncio.run(_pattern(b"", 0.4, [0.6, 0.05, 0.35]))
    assert got == [200] * 4
    assert conns == 3
    assert t.expired == 1 and t.stale_retries == 0


@pytest.mark.parametrize(("value", "seconds"), [
    (b"timeout=5, max=100", 5.0), (b"max=100, timeout=2", 2.0), (b"Timeout = 1.5", 1.5),
    (b"max=100", None), (None, None),
])
def test_the_keep_alive_header_is_read_as_a_timeout_in_seconds(
        value: bytes | None, seconds: float | None) -> None:
    assert keep_alive_hint(value) == seconds


def test_what_the_server_says_or_does_lowers_the_reuse_limit_with_a_margin() -> None:
    k = KeepAlive()
    assert k.stale(DEFAULT_KEEP_S - 0.5) and not k.stale(DEFAULT_KEEP_S - 1.5)
    k.told(75.0)                                     # nginx: a long promise is believed
    assert not k.stale(60.0) and k.stale(74.5)
    k.closed_after(2.0)                              # ...but a close after 2 s idle wins
    assert not k.stale(1.4) and k.stale(1.5)
