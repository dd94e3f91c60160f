"""The same server event is the same error kind (and status) on both transports.

A raw loopback server misbehaves in one scripted way per case; each transport sends
two requests (so an event on a reused connection is covered too) and must report
the same kinds. Kinds come from the one table, ``loadkit.results.kinds``.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from loadkit.engine.aiohttp_transport import AiohttpTransport
from loadkit.engine.fast_transport import FastTransport
from loadkit.engine.transport import TransportError
from loadkit.results.kinds import ERROR_KINDS, KINDS
from loadkit.scenario.plan import PayloadSet, RequestSpec

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def _request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":", 1)[1]))


def _rst(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def answer(wire: bytes, then: str = "keep") -> Script:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await _request(reader)
            writer.write(wire)
            await writer.drain()
            if then == "close":
                writer.close()
                return
            if then == "rst":
                await asyncio.sleep(0.01)
                _rst(writer)
                return
    return script


async def read_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request(reader)
    writer.close()


async def read_then_rst(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request(reader)
    _rst(writer)


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request(reader)
    await asyncio.sleep(5)


CASES: dict[str, tuple[Script, str, str | None]] = {
    # name: (server script, kind both transports report, status recorded with it)
    "closed-before-answering": (read_then_close, "reset", None),
    "rst-before-answering": (read_then_rst, "reset", None),
    "closed-mid-body": (answer(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\npartial", "close"),
                        "reset", None),
    "rst-mid-body": (answer(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\npartial", "rst"),
                     "reset", None),
    "closed-mid-chunked": (answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  b"4\r\npart", "close"), "reset", None),
    "closed-mid-head": (answer(b"HTTP/1.1 200 OK\r\nContent-Le", "close"), "reset", None),
    "not-http": (answer(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "close"), "protocol", None),
    "bad-status-line": (answer(b"HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\nok"),
                        "protocol", None),
    "bad-chunk-size": (answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              b"zz\r\nok\r\n0\r\n\r\n"), "protocol", None),
    "too-large-sized": (answer(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"
                               + b"x" * 5000), "too_large", "200"),
    "too-large-chunked": (answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 + b"900\r\n" + b"x" * 2304 + b"\r\n" + b"900\r\n" + b"x" * 2304
                                 + b"\r\n0\r\n\r\n"), "too_large", "200"),
    "silent": (silent, "timeout", None),
}


async def _kinds_of(cls: type, script: Script) -> list[tuple[str, str | None]]:
    async def on_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await script(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        spec = RequestSpec(target=f"http://127.0.0.1:{port}", path="/p", timeout_s=0.15,
                           max_response_bytes=4096)
        t = cls(spec, PayloadSet(batch_size=1, bodies=(b"{}",)), 1)
        await t.start()
        got: list[tuple[str, str | None]] = []
        try:
            for i in range(2):
                try:
                    status, _ = (await t.send(i))[:2]
                    got.append(("ok", str(status)))
                except TransportError as exc:
                    got.append((exc.kind, None if exc.status is None else str(exc.status)))
        finally:
            await t.close()
    return got


@pytest.mark.parametrize("name", list(CASES))
def test_the_same_server_event_is_the_same_kind_on_both_transports(name: str) -> None:
    script, kind, status = CASES[name]
    for cls in (FastTransport, AiohttpTransport):
        got = asyncio.run(asyncio.wait_for(_kinds_of(cls, script), 10))
        assert got == [(kind, status)] * 2, cls.name


def test_every_kind_is_defined_once_and_listed_in_the_readme() -> None:
    assert len(set(ERROR_KINDS)) == len(ERROR_KINDS) == len(KINDS)
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme[readme.index("### Error kinds"):]
    rows = {line.split("|")[1].strip().strip("`") for line in table.splitlines()
            if line.startswith("| `")}
    assert rows == set(ERROR_KINDS)
