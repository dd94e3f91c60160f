"""Every legal HTTP/1.x response shape parses the same however its bytes are cut into reads.

Two layers: the fast transport's ``Connection`` fed directly (no network: every split
position of each head, and hypothesis for arbitrary cuts through the whole response),
and a scripted raw loopback server that writes each shape whole, split inside the
head, and a few bytes at a time, through BOTH transports, which must agree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadkit.engine.aiohttp_transport import AiohttpTransport
from loadkit.engine.fast_protocol import Connection
from loadkit.engine.fast_transport import FastTransport
from loadkit.engine.transport import TransportError
from loadkit.scenario.plan import PayloadSet, RequestSpec

BODY = b'{"predictions": [0]}'


@dataclass(frozen=True)
class Shape:
    """One response as the server writes it; ``closes``: the server closes after it."""

    wire: bytes
    status: int
    body: bytes
    closes: bool = False

    @property
    def head_len(self) -> int:
        end = len(self.wire) - len(self.body)
        if self.wire.rfind(b"\r\n\r\n", 0, end) < 0:            # a bare-LF head (CGI)
            return self.wire.rindex(b"\n\n", 0, end) + 2
        return self.wire.rindex(b"\r\n\r\n", 0, end) + 4


def _cl(status: bytes = b"200 OK", body: bytes = BODY, extra: bytes = b"",
        version: bytes = b"HTTP/1.1") -> bytes:
    return (version + b" " + status + b"\r\nContent-Type: application/json\r\n" + extra
            + b"Content-Length: %d\r\n\r\n" % len(body) + body)


MANY = b"".join(b"X-Header-%03d: value-%03d\r\n" % (i, i) for i in range(120))
LARGE = b"X-Large: " + b"v" * 16_000 + b"\r\n"

SHAPES = {
    "content-length": Shape(_cl(), 200, BODY),
    "chunked-extensions-trailers": Shape(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
        b"7;name=value\r\n{\"predi\r\n6;quoted=\"a;b\"\r\nctions\r\n7\r\n\": [0]}\r\n"
        b"0;last\r\nX-Checksum: 42\r\n\r\n", 200, BODY),
    "close-delimited": Shape(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + BODY,
                             200, BODY, closes=True),
    "close-delimited-empty": Shape(b"HTTP/1.1 200 OK\r\nServer: t\r\n\r\n", 200, b"",
                                   closes=True),
    "close-delimited-non-chunked-coding": Shape(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n" + BODY, 200, BODY, closes=True),
    "continue-then-answer": Shape(b"HTTP/1.1 100 Continue\r\n\r\n" + _cl(), 200, BODY),
    "early-hints-then-close-delimited": Shape(
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\n\r\n" + BODY, 200, BODY, closes=True),
    "http10-content-length": Shape(_cl(version=b"HTTP/1.0"), 200, BODY, closes=True),
    "http10-close-delimited": Shape(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                                    + BODY, 200, BODY, closes=True),
    "bare-lf-cgi-head": Shape(b"HTTP/1.0 200 Script output follows\r\nServer: SimpleHTTP\r\n"
                              b"Content-Type: application/json\n\n" + BODY, 200, BODY,
                              closes=True),
    "connection-close-content-length": Shape(_cl(extra=b"Connection: close\r\n"), 200, BODY,
                                             closes=True),
    "many-headers": Shape(_cl(extra=MANY), 200, BODY),
    "large-header": Shape(_cl(extra=LARGE), 200, BODY),
    "204-no-body": Shape(b"HTTP/1.1 204 No Content\r\nServer: t\r\n\r\n", 204, b""),
    "304-with-length-no-body": Shape(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 20\r\n"
                                     b"ETag: \"x\"\r\n\r\n", 304, b""),
    "zero-length": Shape(_cl(body=b""), 200, b""),
    "404-error-body": Shape(_cl(b"404 Not Found", b"nope"), 404, b"nope"),
}
IDS = list(SHAPES)


# -- layer 1: the Connection fed directly ------------------------------------------------

class _Wire:
    """The few asyncio.Transport methods a Connection calls."""

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def is_closing(self) -> bool:
        return False


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    lp = asyncio.new_event_loop()
    yield lp
    lp.close()


def feed(loop: asyncio.AbstractEventLoop, shape: Shape, cuts: list[int]) -> object:
    """The answer a Connection gives when ``shape`` arrives cut at ``cuts``."""
    conn = Connection(loop, 1 << 20, lambda c, keep: None, lambda c: None)
    conn.connection_made(_Wire())  # type: ignore[arg-type]
    fut: asyncio.Future[tuple[int, bytes]] = loop.create_future()
    conn.request(b"POST / HTTP/1.1\r\n\r\n", fut, 0.0)
    edges = [0, *sorted(set(cuts)), len(shape.wire)]
    for a, b in zip(edges, edges[1:], strict=False):
        if a < b:
            conn.data_received(shape.wire[a:b])
    if shape.closes:
        conn.connection_lost(None)
    if not fut.done():
        return "pending"
    exc = fut.exception()
    return exc.kind if isinstance(exc, TransportError) else (exc or fut.result()[:2])


@pytest.mark.parametrize("name", IDS)
def test_every_split_of_the_head_parses_as_the_whole_response(
        loop: asyncio.AbstractEventLoop, name: str) -> None:
    shape = SHAPES[name]
    expected = (shape.status, shape.body)
    assert feed(loop, shape, []) == expected
    step = max(1, shape.head_len // 400)          # the 16 kB header: every 40th byte
    wrong = {cut: got for cut in range(1, shape.head_len + 1, step)
             if (got := feed(loop, shape, [cut])) != expected}
    assert wrong == {}


@pytest.mark.parametrize("name", IDS)
def test_a_few_bytes_at_a_time_parses_as_the_whole_response(
        loop: asyncio.AbstractEventLoop, name: str) -> None:
    shape = SHAPES[name]
    for size in (1, 3, 7):
        if size == 1 and len(shape.wire) > 5000:
            continue
        assert feed(loop, shape, list(range(size, len(shape.wire), size))) == (
            shape.status, shape.body), size


@settings(max_examples=80, deadline=None)
@given(name=st.sampled_from(IDS), fractions=st.lists(st.floats(0, 1), max_size=12))
def test_any_cuts_through_any_shape_parse_as_the_whole_response(
        name: str, fractions: list[float]) -> None:
    shape = SHAPES[name]
    lp = asyncio.new_event_loop()
    try:
        got = feed(lp, shape, [int(f * len(shape.wire)) for f in fractions])
    finally:
        lp.close()
    assert got == (shape.status, shape.body)


def test_a_close_before_the_head_is_complete_is_a_reset(loop: asyncio.AbstractEventLoop) -> None:
    shape = SHAPES["close-delimited"]
    cut = Shape(shape.wire[:shape.head_len - 2], 200, b"", closes=True)
    assert feed(loop, cut, [10, 30]) == "reset"


def test_a_close_inside_a_chunked_or_sized_body_is_a_reset(
        loop: asyncio.AbstractEventLoop) -> None:
    for name in ("chunked-extensions-trailers", "content-length"):
        shape = SHAPES[name]
        short = Shape(shape.wire[:-3], shape.status, b"", closes=True)
        assert feed(loop, short, [5, shape.head_len]) == "reset", name


# -- layer 2: a scripted server, both transports -------------------------------------------

async def _read_request(reader: asyncio.StreamReader) -> bool:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return False
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":", 1)[1]))
    return True


def pieces_of(shape: Shape, delivery: str) -> list[bytes]:
    wire = shape.wire
    if delivery == "whole":
        return [wire]
    if delivery == "head-split":
        cut = shape.head_len // 2 + 1                 # inside a header line
        return [wire[:cut], wire[cut:shape.head_len - 1], wire[shape.head_len - 1:]]
    size = max(3, len(wire) // 24)                   # a few bytes at a time, <= 25 writes
    return [wire[i:i + size] for i in range(0, len(wire), size)]


async def _scripted(shape: Shape, delivery: str) -> tuple[asyncio.Server, int, list[int]]:
    served = [0]

    async def on_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await _read_request(reader):
                for i, piece in enumerate(pieces_of(shape, delivery)):
                    if i:
                        await asyncio.sleep(0.001)   # each piece its own read on the client
                    writer.write(piece)
                    await writer.drain()
                served[0] += 1
                if shape.closes:
                    break
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], served


DELIVERIES = ("whole", "head-split", "few-bytes")


async def _through(kind: str, shape: Shape) -> dict[str, list[object]]:
    got: dict[str, list[object]] = {}
    for delivery in DELIVERIES:
        server, port, served = await _scripted(shape, delivery)
        async with server:
            spec = RequestSpec(target=f"http://127.0.0.1:{port}", path="/p", timeout_s=5.0)
            cls = FastTransport if kind == "fast" else AiohttpTransport
            t = cls(spec, PayloadSet(batch_size=1, bodies=(b"{}",)), 1)
            await t.start()
            answers: list[object] = []
            try:
                for i in range(2):
                    try:
                        answers.append((await t.send(i))[:2])
                    except TransportError as exc:
                        answers.append(exc.kind)
            finally:
                await t.close()
            answers.append(served[0])
        got[delivery] = answers
    return got


@pytest.mark.parametrize("name", IDS)
def test_both_transports_read_every_shape_and_delivery_identically(name: str) -> None:
    shape = SHAPES[name]
    expected = [(shape.status, shape.body)] * 2 + [2]
    for kind in ("fast", "aiohttp"):
        got = asyncio.run(asyncio.wait_for(_through(kind, shape), 20))
        assert got == {d: expected for d in DELIVERIES}, kind
