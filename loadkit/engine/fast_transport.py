"""The fast HTTP/1.1 transport: a keep-alive pool of asyncio protocols + httptools.

Sits under the engine's workers, beside the aiohttp transport, behind the same
``Transport`` protocol. Requests are pre-built as bytes (``fast_protocol``); a
send takes an idle connection (or opens one, up to ``connections``), writes the
bytes, and awaits a future the connection resolves when httptools reports the
last byte. Per-request timeouts are deadlines checked by one sweep every
``tick_s`` (a 20th of the timeout, at most 50 ms): a timer handle per request
cost about 0.7 µs of the ~9 µs a request costs, the sweep a few checks per tick.
A timeout fires between ``timeout_s`` and ``timeout_s + tick_s`` after the send
(plus any event-loop lag, which the health monitor reports).

``supports`` (``fast_support``, re-exported here) says when a scenario needs
something only aiohttp has (a proxy from the environment, HEAD, compression, odd
schemes), so the default choice can fall back honestly.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from loadkit.engine.fast_protocol import (
    Answer,
    Connection,
    HeadFields,
    StaleConnection,
    build_requests,
)
from loadkit.engine.closing import OpenConnections
from loadkit.engine.fast_support import supports, unsupported
from loadkit.engine.encoding import asked_codings, decode
from loadkit.engine.keepalive import KeepAlive
from loadkit.engine.redirects import (
    REDIRECT_STATUSES,
    count_redirects,
    next_method,
    resolve,
    same_origin,
)
from loadkit.engine.server_timing import note_server_timing
from loadkit.engine.transport import TransportError
from loadkit.results import kinds
from loadkit.scenario.plan import PayloadSet

if TYPE_CHECKING:
    from loadkit.scenario.plan import RequestSpec

__all__ = ["FastTransport", "ssl_context", "supports", "unsupported"]

# Methods a client may send twice (RFC 9110 9.2.2): only these are retried after a
# reused connection closed before answering -- the server may have read the request.
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE", "OPTIONS"})


def ssl_context(insecure: bool) -> ssl.SSLContext:
    """Verify by default (system CAs, hostname); ``insecure`` turns both off."""
    ctx = ssl.create_default_context()
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class FastTransport:
    """A pool of at most ``connections`` keep-alive HTTP/1.1 connections to one target.

    Attributes for the result's generator health: ``opened`` (connections made),
    ``reconnects`` (opens that replaced a dropped connection), ``stale_retries``
    (idempotent requests retried once because a reused connection closed before
    answering; a POST in that case is a ``reset`` error, as with aiohttp).
    """

    name = "fast"

    def __init__(self, request: RequestSpec, payloads: PayloadSet, connections: int) -> None:
        if connections < 1:
            raise ValueError("connections must be at least 1")
        parts = urlsplit(request.url)
        self._host = parts.hostname or "127.0.0.1"
        self._tls = parts.scheme == "https"
        self._port = parts.port or (443 if self._tls else 80)
        self._ssl = ssl_context(request.insecure) if self._tls else None
        self._wire = build_requests(request, payloads)
        self._request = request
        self._method = request.method.upper()
        self._bodies = payloads.bodies
        self._content_type = payloads.content_type
        self._follow = request.follow_redirects
        codings = asked_codings(request.headers) or ()
        self._decoding = any(c != "identity" for c in codings)   # answers may come compressed
        self._others: dict[str, FastTransport] = {}      # pools for redirects to other origins
        self._n_wire = len(self._wire)
        self._timeout_s = request.timeout_s
        self._timing = request.server_timing is not None   # keep every answer's head fields
        self._retry_stale = request.method.upper() in IDEMPOTENT_METHODS
        self.tick_s = min(0.05, request.timeout_s / 20)
        self._sweeper: asyncio.TimerHandle | None = None
        self._max_bytes = request.max_response_bytes
        self._limit = connections
        self._idle: deque[Connection] = deque()
        self._waiters: deque[asyncio.Future[Connection | None]] = deque()
        self._live = 0               # open or opening connections, idle or busy
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._conns: set[Connection] = set()
        self._unlost = OpenConnections()   # not lost yet: in use, idle or closing (close waits)
        self.opened = 0
        self.dropped = 0
        self.reconnects = 0
        self.stale_retries = 0
        self.expired = 0              # idle connections closed before the server's keep-alive
        self._keep = KeepAlive()
        self._now = 0.0               # loop time at the sweep's last tick
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._now = self._loop.time()
        self._closed = False
        self._ensure_sweeping()

    def _ensure_sweeping(self) -> None:
        if self._sweeper is None and not self._closed:
            loop = self._loop
            assert loop is not None
            self._sweeper = loop.call_later(self.tick_s, self._sweep)

    def _sweep(self) -> None:
        loop = self._loop
        assert loop is not None
        now = self._now = loop.time()
        for conn in [c for c in self._conns if c.busy and c.deadline <= now]:
            conn.time_out()
        keep = self._keep
        for conn in [c for c in self._idle if keep.stale(now - c.idle_since)]:
            self._idle.remove(conn)               # before the server closes it under a request
            self.expired += 1
            self._conns.discard(conn)
            self.dropped += 1
            conn._close()
            self._slot_freed()
        self._sweeper = loop.call_later(self.tick_s, self._sweep)

    # -- the hot path ---------------------------------------------------------------
    async def send(self, payload: int) -> tuple[int, bytes, int]:
        # Inlined (not a call to _exchange): one coroutine frame per request, not two.
        wire = self._wire[payload % self._n_wire]
        idle = self._idle
        conn = idle.pop() if idle else await self._acquire()
        loop = self._loop
        assert loop is not None
        fut: asyncio.Future[Answer] = loop.create_future()
        conn.request(wire, fut, loop.time() + self._timeout_s)
        try:
            answer = await fut
        except StaleConnection:
            answer = await self._after_stale(wire, conn)
        if len(answer) == 3:
            return answer  # type: ignore[return-value, unused-ignore]
        return await self._special(answer, payload)  # type: ignore[arg-type, unused-ignore]

    async def _exchange(self, wire: bytes) -> Answer:
        """``send``'s steps for bytes built on the way (a redirect hop)."""
        idle = self._idle
        conn = idle.pop() if idle else await self._acquire()
        loop = self._loop
        assert loop is not None
        fut: asyncio.Future[Answer] = loop.create_future()
        conn.request(wire, fut, loop.time() + self._timeout_s)
        try:
            return await fut
        except StaleConnection:
            return await self._after_stale(wire, conn)

    async def _after_stale(self, wire: bytes, conn: Connection) -> Answer:
        """A kept-alive connection closed before any answer: usually the server's idle
        timeout racing our request, but it may have read it (a crash, a reset fault).
        Like aiohttp, retry once only when sending twice is harmless."""
        loop = self._loop
        assert loop is not None
        self._keep.closed_after(loop.time() - conn.idle_since)
        if not self._retry_stale:
            raise TransportError(kinds.RESET) from None
        self.stale_retries += 1
        conn = await self._acquire()
        fut: asyncio.Future[Answer] = loop.create_future()
        conn.request(wire, fut, loop.time() + self._timeout_s)
        try:
            return await fut
        except StaleConnection:
            raise TransportError(kinds.RESET) from None

    # -- off the hot path: redirects ------------------------------------------------------
    async def _special(self, answer: tuple[int, bytes, int, HeadFields],
                       payload: int) -> tuple[int, bytes, int]:
        """An answer whose head mattered: follow its redirects (``redirects.py``), note
        its ``Server-Timing`` (``server_timing.py``), then decode its body (``encoding.py``:
        after the last byte's stamp, timed apart)."""
        method = self._method
        body = self._bodies[payload % len(self._bodies)] if self._bodies else b""
        url = self._request.url
        hops = 0
        while True:
            status, data, stamp, head = answer
            if status not in REDIRECT_STATUSES or not head.location or not self._follow:
                if self._timing:
                    note_server_timing(head.server_timing)
                if head.encodings and self._decoding:     # (timing alone keeps heads too)
                    data = decode(data, [c.decode("latin-1") for c in head.encodings],
                                  self._max_bytes, status)
                return status, data, stamp
            if hops == self._follow:
                raise TransportError(kinds.REDIRECT_LOOP, status)
            url = resolve(url, head.location)
            method, keep_body = next_method(status, method)
            body = body if keep_body else b""
            pool = await self._pool_for(url)
            hops += 1
            count_redirects()
            got = await pool._exchange(self._hop_wire(method, url, body))
            if len(got) == 3:
                return got  # type: ignore[return-value, unused-ignore]
            answer = got  # type: ignore[assignment, unused-ignore]

    def _hop_wire(self, method: str, url: str, body: bytes) -> bytes:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = self._request.headers
        if not same_origin(url, self._request.url):      # credentials stay with their origin
            headers = tuple(h for h in headers if h[0].lower() != "authorization")
        hop = replace(self._request, method=method, target=f"{parts.scheme}://{parts.netloc}",
                      path=path, headers=headers)
        return build_requests(hop, PayloadSet(1, (body,) if body else (),
                                              content_type=self._content_type))[0]

    async def _pool_for(self, url: str) -> FastTransport:
        """This pool for its own origin; a pool of the same size for any other (made once)."""
        if same_origin(url, self._request.url):
            return self
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        pool = self._others.get(origin)
        if pool is None:
            if parts.scheme not in ("http", "https"):
                raise TransportError(kinds.PROTOCOL)     # a Location we cannot follow
            pool = FastTransport(replace(self._request, target=origin, path="/"),
                                 PayloadSet(1, ()), self._limit)
            self._others[origin] = pool
            await pool.start()
        return pool

    # -- the pool ------------------------------------------------------------------
    async def _acquire(self) -> Connection:
        if self._sweeper is None:
            self._loop = asyncio.get_running_loop()
            self._now = self._loop.time()
            self._ensure_sweeping()
        while True:
            if self._closed:
                raise TransportError(kinds.OTHER)
            if self._idle:
                return self._idle.pop()
            if self._live < self._limit:
                return await self._open()
            waiter: asyncio.Future[Connection | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            got = await waiter
            if got is not None:
                return got
            # None: a slot was freed; loop round and open a connection

    async def _open(self) -> Connection:
        self._live += 1
        if self.dropped > self.reconnects:
            self.reconnects += 1
        loop = self._loop
        conn = self._new_connection()
        try:
            await asyncio.wait_for(
                loop.create_connection(  # type: ignore[union-attr]
                    lambda: conn, self._host, self._port, ssl=self._ssl,
                    server_hostname=self._host if self._tls else None),
                self._timeout_s)
        except TimeoutError:
            self._slot_freed()
            raise TransportError(kinds.TIMEOUT) from None
        except (OSError, ssl.SSLError):
            self._slot_freed()
            raise TransportError(kinds.CONNECT) from None
        except BaseException:
            self._slot_freed()
            raise
        self.opened += 1
        self._conns.add(conn)
        if conn.alive:                # (not already lost: connection_lost came first)
            self._unlost.add(conn)
        return conn

    def _new_connection(self) -> Connection:
        """A connection for the pool (a streaming transport gives its own kind)."""
        return Connection(self._loop, self._max_bytes,  # type: ignore[arg-type]
                          self._release, self._lost,
                          inspect=self._decoding or self._timing)

    def _release(self, conn: Connection, keep_alive: bool) -> None:
        """Called by a connection when its request ended (answered or failed)."""
        if keep_alive and not self._closed:
            conn.idle_since = self._now            # the sweep's clock: no syscall here
            if conn.keep_hint is not None:
                self._keep.told(conn.keep_hint)
                conn.keep_hint = None
            waiters = self._waiters
            while waiters:
                w = waiters.popleft()
                if not w.done():
                    w.set_result(conn)
                    return
            self._idle.append(conn)
            return
        self._conns.discard(conn)
        self.dropped += 1
        self._slot_freed()

    def _lost(self, conn: Connection) -> None:
        """A connection's socket closed. An idle one (the server's keep-alive timeout) is
        forgotten and its slot freed; a busy one's request ends, and frees it, itself."""
        self._unlost.lost(conn)
        try:
            self._idle.remove(conn)
        except ValueError:
            return                    # not idle: its request's end already freed the slot
        if self._loop is not None:    # the server keeps idle connections no longer than this
            self._keep.closed_after(self._loop.time() - conn.idle_since)
        self._conns.discard(conn)
        self.dropped += 1
        self._slot_freed()

    def _slot_freed(self) -> None:
        self._live -= 1
        while self._waiters:
            w = self._waiters.popleft()
            if not w.done():
                w.set_result(None)
                return

    async def close(self) -> None:
        """Close every connection; requests still waiting for one fail as "other"."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for w in self._waiters:
            if not w.done():
                w.set_result(None)
        self._waiters.clear()
        for other in self._others.values():
            await other.close()
        self._others.clear()
        self._idle.clear()
        self._conns.clear()
        await self._unlost.close_all()  # and those closed earlier, still closing (TLS)
