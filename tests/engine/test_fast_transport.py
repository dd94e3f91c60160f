"""The fast transport against tiny scripted loopback servers, on asyncio and uvloop.

Each test's server answers in one precise way (chunked, close, reset, silence...)
so the transport's handling of that case is what is checked. Every loop is bounded.
"""

from __future__ import annotations

import asyncio
import gc
import shutil
import socket
import ssl
import subprocess
import warnings
from collections.abc import Awaitable, Callable

import psutil
import pytest

from loadkit.engine.fast_protocol import build_requests
from loadkit.engine.fast_transport import FastTransport, supports
from loadkit.engine.transport import TransportError
from loadkit.scenario.plan import PayloadSet, RequestSpec

uvloop = pytest.importorskip("uvloop")

LOOPS = ["asyncio", "uvloop"]
BODY = b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}'
JSON = b'{"predictions": [0]}'

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, dict], Awaitable[None]]


def run(loop_name: str, coro_fn: Callable[[], Awaitable[object]]) -> object:
    if loop_name == "uvloop":
        return uvloop.run(asyncio.wait_for(coro_fn(), 20))
    return asyncio.run(asyncio.wait_for(coro_fn(), 20))


async def read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One whole request (head + Content-Length body), or None at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + await reader.readexactly(length)


def ok_response(body: bytes = JSON, extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n%s\r\n%s" % (len(body), extra, body))


async def serve(handler: Handler, ssl_ctx: ssl.SSLContext | None = None):
    """Start a loopback server; ``state`` counts connections and keeps requests seen."""
    state: dict = {"connections": 0, "requests": [], "open": 0, "max_open": 0}

    async def on_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state["connections"] += 1
        state["open"] += 1
        state["max_open"] = max(state["max_open"], state["open"])
        try:
            await handler(reader, writer, state)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            state["open"] -= 1
            writer.close()

    server = await asyncio.start_server(on_conn, "127.0.0.1", 0, ssl=ssl_ctx)
    port = server.sockets[0].getsockname()[1]
    return server, port, state


def keepalive(response: bytes) -> Handler:
    async def handler(reader, writer, state):
        while (req := await read_request(reader)) is not None:
            state["requests"].append(req)
            writer.write(response)
            await writer.drain()
    return handler


def transport(port: int, *, scheme: str = "http", connections: int = 1, timeout_s: float = 5.0,
              max_bytes: int = 1 << 20, insecure: bool = False, method: str = "POST",
              headers: tuple[tuple[str, str], ...] = ()) -> FastTransport:
    spec = RequestSpec(target=f"{scheme}://127.0.0.1:{port}", path="/predict", method=method,
                       timeout_s=timeout_s, max_response_bytes=max_bytes, insecure=insecure,
                       headers=headers)
    return FastTransport(spec, PayloadSet(batch_size=1, bodies=(BODY, b'{"x": 2}')), connections)


async def send_n(t: FastTransport, n: int) -> list[tuple[int, bytes]]:
    await t.start()
    try:
        return [(await t.send(i))[:2] for i in range(n)]
    finally:
        await t.close()


async def expect_error(t: FastTransport) -> str:
    await t.start()
    try:
        (await t.send(0))[:2]
    except TransportError as exc:
        return exc.kind
    finally:
        await t.close()
    return "no error"


@pytest.mark.parametrize("loop_name", LOOPS)
def test_content_length_responses_come_back_whole_over_one_kept_alive_connection(loop_name):
    async def main():
        server, port, state = await serve(keepalive(ok_response()))
        async with server:
            got = await send_n(transport(port, headers=(("X-Api-Key", "k1"),)), 5)
        return got, state

    got, state = run(loop_name, main)
    assert got == [(200, JSON)] * 5
    assert state["connections"] == 1
    first = state["requests"][0]
    assert first.startswith(b"POST /predict HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in first
    assert b"\r\nContent-Type: application/json\r\n" in first
    assert b"\r\nContent-Length: %d\r\n" % len(BODY) in first
    assert b"\r\nX-Api-Key: k1\r\n" in first
    assert first.endswith(b"\r\n\r\n" + BODY)
    assert state["requests"][1].endswith(b'{"x": 2}')


@pytest.mark.parametrize("loop_name", LOOPS)
def test_chunked_body_is_reassembled_to_the_last_byte(loop_name):
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n")

    async def main():
        server, port, _ = await serve(keepalive(chunked))
        async with server:
            return await send_n(transport(port), 3)

    assert run(loop_name, main) == [(200, b"hello world")] * 3


@pytest.mark.parametrize("loop_name", LOOPS)
def test_connection_close_from_server_reconnects_and_counts_it(loop_name):
    async def handler(reader, writer, state):
        if await read_request(reader) is not None:
            writer.write(ok_response(extra=b"Connection: close\r\n"))
            await writer.drain()

    async def main():
        server, port, state = await serve(handler)
        async with server:
            t = transport(port)
            got = await send_n(t, 4)
        return got, state, t

    got, state, t = run(loop_name, main)
    assert got == [(200, JSON)] * 4
    assert state["connections"] == 4
    assert t.reconnects == 3


@pytest.mark.parametrize("loop_name", LOOPS)
def test_a_silent_server_gives_timeout_and_the_connection_is_not_reused(loop_name):
    async def handler(reader, writer, state):
        req = await read_request(reader)
        if state["connections"] == 1:
            await reader.read()          # never answer the first connection
        elif req is not None:
            writer.write(ok_response())
            await writer.drain()

    async def main():
        server, port, state = await serve(handler)
        async with server:
            t = transport(port, timeout_s=0.2)
            await t.start()
            try:
                with pytest.raises(TransportError) as err:
                    (await t.send(0))[:2]
                after = (await t.send(0))[:2]
            finally:
                await t.close()
        return err.value.kind, after, state

    kind, after, state = run(loop_name, main)
    assert kind == "timeout"
    assert after == (200, JSON)
    assert state["connections"] == 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("loop_name", LOOPS)
def test_refused_connection_is_a_connect_error(loop_name):
    port = free_port()
    assert run(loop_name, lambda: expect_error(transport(port))) == "connect"


@pytest.mark.parametrize("loop_name", LOOPS)
def test_server_closing_mid_body_is_a_reset(loop_name):
    async def handler(reader, writer, state):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
        await writer.drain()

    async def main():
        server, port, _ = await serve(handler)
        async with server:
            return await expect_error(transport(port))

    assert run(loop_name, main) == "reset"


@pytest.mark.parametrize("loop_name", LOOPS)
def test_server_closing_before_answering_a_fresh_connection_is_a_reset(loop_name):
    async def handler(reader, writer, state):
        await read_request(reader)

    async def main():
        server, port, _ = await serve(handler)
        async with server:
            return await expect_error(transport(port))

    assert run(loop_name, main) == "reset"


@pytest.mark.parametrize("loop_name", LOOPS)
def test_body_delimited_by_connection_close_is_read_to_the_end(loop_name):
    async def handler(reader, writer, state):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
        await writer.drain()

    async def main():
        server, port, _ = await serve(handler)
        async with server:
            return await send_n(transport(port), 2)

    assert run(loop_name, main) == [(200, b"until the end")] * 2


@pytest.mark.parametrize("loop_name", LOOPS)
def test_response_over_the_byte_cap_is_too_large(loop_name):
    async def main():
        server, port, _ = await serve(keepalive(ok_response(b"x" * 5000)))
        async with server:
            small = await expect_error(transport(port, max_bytes=4096))
            big = await send_n(transport(port, max_bytes=5000), 1)
        return small, big

    small, big = run(loop_name, main)
    assert small == "too_large"
    assert big == [(200, b"x" * 5000)]


@pytest.mark.parametrize("loop_name", LOOPS)
def test_error_statuses_are_returned_for_the_checks_to_classify(loop_name):
    resp = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy"

    async def main():
        server, port, _ = await serve(keepalive(resp))
        async with server:
            return await send_n(transport(port), 2)

    assert run(loop_name, main) == [(503, b"busy")] * 2


@pytest.mark.parametrize("loop_name", LOOPS)
def test_idle_connection_closed_by_server_is_forgotten_and_replaced_by_a_fresh_one(loop_name):
    async def handler(reader, writer, state):
        if await read_request(reader) is not None:
            writer.write(ok_response())  # keep-alive promised, then closed while idle
            await writer.drain()

    async def main():
        server, port, state = await serve(handler)
        async with server:
            t = transport(port)
            await t.start()
            try:
                first = (await t.send(0))[:2]
                await asyncio.sleep(0.05)
                second = (await t.send(0))[:2]
            finally:
                await t.close()
        return first, second, state

    first, second, state = run(loop_name, main)
    assert first == second == (200, JSON)
    assert state["connections"] == 2


@pytest.mark.parametrize("loop_name", LOOPS)
def test_pool_never_opens_more_connections_than_asked(loop_name):
    async def handler(reader, writer, state):
        while (req := await read_request(reader)) is not None:
            state["requests"].append(req)
            await asyncio.sleep(0.005)
            writer.write(ok_response())
            await writer.drain()

    async def main():
        server, port, state = await serve(handler)
        async with server:
            t = transport(port, connections=3)
            await t.start()
            try:
                got = [r[:2] for r in await asyncio.gather(*(t.send(i) for i in range(20)))]
            finally:
                await t.close()
        return got, state

    got, state = run(loop_name, main)
    assert got == [(200, JSON)] * 20
    assert state["connections"] == 3
    assert state["max_open"] == 3


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed")
    d = tmp_path_factory.mktemp("tls")
    key, cert = d / "key.pem", d / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


@pytest.mark.parametrize("loop_name", LOOPS)
def test_tls_verifies_by_default_and_insecure_accepts_a_self_signed_cert(loop_name, self_signed):
    async def main():
        server, port, _ = await serve(keepalive(ok_response()), ssl_ctx=self_signed)
        async with server:
            refused = await expect_error(transport(port, scheme="https"))
            accepted = await send_n(transport(port, scheme="https", insecure=True), 2)
        return refused, accepted

    refused, accepted = run(loop_name, main)
    assert refused == "connect"
    assert accepted == [(200, JSON)] * 2


def client_sockets_to(port: int) -> list[object]:
    """This process's open sockets connected to ``port`` (the client ends, not the server's)."""
    return [c for c in psutil.Process().net_connections("tcp")
            if c.raddr and c.raddr.port == port]


@pytest.mark.parametrize("loop_name", LOOPS)
def test_close_over_tls_returns_only_once_every_socket_is_closed(loop_name, self_signed):
    # A TLS close waits for the peer's close_notify: returning before it (as a bare
    # transport.close() did) left sockets open past the run's loop -- a ResourceWarning
    # in the user's process, and uvloop's loop.close() failing with EBUSY.
    async def handler(reader, writer, state):
        while (req := await read_request(reader)) is not None:
            state["requests"].append(req)
            last = len(state["requests"]) == 3     # the third answer closes its connection
            writer.write(ok_response(extra=b"Connection: close\r\n" if last else b""))
            await writer.drain()
            if last:
                return

    async def main():
        server, port, _ = await serve(handler, ssl_ctx=self_signed)
        async with server:
            t = transport(port, scheme="https", insecure=True, connections=2)
            await t.start()
            got = await asyncio.gather(*(t.send(i) for i in range(3)))  # both connections
            await t.close()
            left = client_sockets_to(port)
        return [g[:2] for g in got], left

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got, left = run(loop_name, main)
        gc.collect()
    assert got == [(200, JSON)] * 3
    assert left == []
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_request_bytes_are_built_once_with_host_length_type_and_scenario_headers():
    spec = RequestSpec(target="http://example.test:8080/v1", path="/predict?x=1",
                       headers=(("Authorization", "Bearer t"), ("Content-Length", "999")))
    wire = build_requests(spec, PayloadSet(batch_size=1, bodies=(b"{}",)))
    assert wire == ((b"POST /v1/predict?x=1 HTTP/1.1\r\nHost: example.test:8080\r\n"
                    b"User-Agent: loadkit\r\nAccept: */*\r\nAuthorization: Bearer t\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"),)


def test_get_without_body_sends_no_content_length_and_default_port_is_left_out_of_host():
    spec = RequestSpec(target="https://example.test:443", method="get", path="/health")
    wire = build_requests(spec, PayloadSet(batch_size=1, bodies=()))
    assert wire == ((b"GET /health HTTP/1.1\r\nHost: example.test\r\nUser-Agent: loadkit\r\n"
                    b"Accept: */*\r\n\r\n"),)


@pytest.mark.parametrize("spec, expected", [
    pytest.param(RequestSpec(target="http://127.0.0.1:8080"), True, id="plain-http"),
    pytest.param(RequestSpec(target="https://127.0.0.1:8443"), True, id="https"),
    pytest.param(RequestSpec(target="ftp://127.0.0.1"), False, id="other-scheme"),
    pytest.param(RequestSpec(target="http://127.0.0.1", method="HEAD"), False, id="head"),
    pytest.param(RequestSpec(target="http://127.0.0.1",
                             headers=(("Transfer-Encoding", "chunked"),)), False, id="framing"),
    pytest.param(RequestSpec(target="http://127.0.0.1",
                             headers=(("Accept-Encoding", "gzip"),)), True, id="gzip"),
    pytest.param(RequestSpec(target="http://127.0.0.1",
                             headers=(("Accept-Encoding", "br"),)), False, id="brotli"),
    pytest.param(RequestSpec(target="http://127.0.0.1", headers=(("X-Api-Key", "k"),)), True,
                 id="plain-header"),
])
def test_supports_only_what_the_fast_transport_sends_exactly(spec, expected, monkeypatch):
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    assert supports(spec) is expected


def test_supports_defers_to_aiohttp_when_the_environment_names_a_proxy(monkeypatch):
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")
    assert supports(RequestSpec(target="http://model.example:8080")) is False
    monkeypatch.setenv("no_proxy", "model.example")
    assert supports(RequestSpec(target="http://model.example:8080")) is True


def closes_second_request_on_first_connection() -> Handler:
    async def handler(reader, writer, state):
        if await read_request(reader) is None:
            return
        writer.write(ok_response())
        await writer.drain()
        if state["connections"] == 1:
            await read_request(reader)    # the keep-alive race: close instead of answering
            return
        while await read_request(reader) is not None:
            writer.write(ok_response())
            await writer.drain()
    return handler


@pytest.mark.parametrize("loop_name", LOOPS)
def test_idempotent_request_on_a_reused_connection_closed_unanswered_is_retried_once(loop_name):
    async def main():
        server, port, state = await serve(closes_second_request_on_first_connection())
        async with server:
            t = transport(port, method="PUT")
            got = await send_n(t, 3)
        return got, state, t

    got, state, t = run(loop_name, main)
    assert got == [(200, JSON)] * 3
    assert t.stale_retries == 1
    assert state["connections"] == 2


@pytest.mark.parametrize("loop_name", LOOPS)
def test_post_on_a_reused_connection_closed_unanswered_is_a_reset_never_sent_twice(loop_name):
    async def main():
        server, port, state = await serve(closes_second_request_on_first_connection())
        async with server:
            t = transport(port)
            await t.start()
            try:
                first = (await t.send(0))[:2]
                with pytest.raises(TransportError) as err:
                    (await t.send(0))[:2]
                third = (await t.send(0))[:2]
            finally:
                await t.close()
        return first, err.value.kind, third, state, t

    first, kind, third, state, t = run(loop_name, main)
    assert (first, kind, third) == ((200, JSON), "reset", (200, JSON))
    assert t.stale_retries == 0
    assert state["connections"] == 2


@pytest.mark.parametrize("loop_name", LOOPS)
def test_garbage_after_a_complete_answer_drops_the_connection_without_losing_the_answer(loop_name):
    async def main():
        server, port, state = await serve(keepalive(ok_response() + b"garbage\r\n\r\n"))
        async with server:
            t = transport(port, connections=1)
            await t.start()
            try:
                got = [(await t.send(0))[:2] for _ in range(3)]
                got += [r[:2] for r in await asyncio.gather(*(t.send(0) for _ in range(4)))]
            finally:
                await t.close()
        return got, state

    got, state = run(loop_name, main)
    assert got == [(200, JSON)] * 7
    assert state["max_open"] == 1          # each dropped connection freed its slot exactly once


@pytest.mark.parametrize("loop_name", LOOPS)
def test_a_second_unasked_answer_in_the_same_read_does_not_replace_the_first(loop_name):
    second = b"HTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\nno"

    async def main():
        server, port, state = await serve(keepalive(ok_response() + second))
        async with server:
            return await send_n(transport(port), 2), state

    got, state = run(loop_name, main)
    assert got == [(200, JSON)] * 2
    assert state["connections"] == 2
