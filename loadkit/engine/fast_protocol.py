"""The fast transport's pieces below the pool: wire bytes and one connection.

``build_requests`` turns a RequestSpec and a PayloadSet into the complete HTTP/1.1
request bytes (request line, headers, body) for every payload, once, before the
run. ``Connection`` is an ``asyncio.Protocol`` that sends one of those byte strings
and parses the answer with httptools (the C parser uvicorn uses); it keeps its
parser and body buffer for its whole life, so a request costs a future, one write
and the parser's callbacks, nothing more. Its timeout is a ``deadline`` the pool's
periodic sweep checks (no timer handle per request).

Only ``on_body`` and ``on_message_complete`` are given to the parser: a header
callback would cost a Python call per header per response. The one case that
needs a header -- a response delimited by the server closing the connection --
is rare and handled off the hot path by re-reading the head it kept. The head
kept is every byte that arrived before the first body byte, however many reads
that took (a head split inside a line, a ``100 Continue`` before the answer), so
how the bytes were cut into reads never changes what the response is.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from time import perf_counter_ns
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, unquote, urlsplit

import httptools

from loadkit.engine.keepalive import keep_alive_hint
from loadkit.engine.redirects import REDIRECT_STATUSES
from loadkit.engine.transport import TransportError
from loadkit.results import kinds

if TYPE_CHECKING:
    from loadkit.scenario.plan import PayloadSet, RequestSpec

USER_AGENT = "loadkit"
# Headers the transport writes itself; a scenario header of the same name replaces ours
# (Host, User-Agent, Accept, Content-Type) or is refused by ``supports`` (framing ones).
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "expect",
                             "upgrade", "te"})


class _TooLarge(Exception):
    """Raised inside the parser's on_body; becomes TransportError("too_large", status)."""


class _Unsolicited(Exception):
    """A second response in the same read; the first stands, the connection is dropped."""


class StaleConnection(Exception):
    """A reused keep-alive connection closed before a byte came back: safe to retry once."""


def host_header(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:                                   # IPv6 literal
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    port = parts.port
    return host if port in (None, default) else f"{host}:{port}"


def build_requests(request: RequestSpec, payloads: PayloadSet) -> tuple[bytes, ...]:
    """Every payload's whole request as bytes; the hot loop only indexes this tuple."""
    parts = urlsplit(request.url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    method = request.method.upper()
    given = {name.lower() for name, _ in request.headers}
    head_lines = [f"{method} {target} HTTP/1.1"]
    if "host" not in given:
        head_lines.append(f"Host: {host_header(parts)}")
    if "user-agent" not in given:
        head_lines.append(f"User-Agent: {USER_AGENT}")
    if "accept" not in given:
        head_lines.append("Accept: */*")
    if parts.username is not None and "authorization" not in given:
        cred = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        head_lines.append("Authorization: Basic " + base64.b64encode(cred).decode("ascii"))
    for name, value in request.headers:
        if name.lower() in FRAMING_HEADERS:
            continue
        if "\r" in name or "\n" in name or "\r" in value or "\n" in value:
            raise ValueError(f"request.headers.{name}: contains a line break")
        head_lines.append(f"{name}: {value}")
    content_type_given = "content-type" in given
    head = "\r\n".join(head_lines).encode("latin-1")
    bodies = payloads.bodies or (b"",)
    out = []
    for body in bodies:
        lines = [head]
        if body or method not in ("GET", "DELETE", "OPTIONS"):
            if body and not content_type_given:
                lines.append(f"Content-Type: {payloads.content_type}".encode("latin-1"))
            lines.append(b"Content-Length: %d" % len(body))
        out.append(b"\r\n".join(lines) + b"\r\n\r\n" + body)
    return tuple(out)


def lenient(parser: httptools.HttpResponseParser) -> httptools.HttpResponseParser:
    """Accept a bare LF as a line end (RFC 9112 2.2 allows it; CGI scripts print such heads,
    and aiohttp, curl and browsers read them): nothing else is relaxed."""
    relax = getattr(parser, "set_dangerous_leniencies", None)
    if relax is not None:
        relax(lenient_optional_cr_before_lf=True)
    return parser


class HeadFields:
    """The few headers loadkit reads, of the last response in a byte string (1xx skipped).

    Read off the hot path, from the bytes a connection kept before the body began:
    framing (a close-delimited body), ``Location`` (a redirect), ``Content-Encoding``
    (a compressed answer) and ``Keep-Alive`` (how long the server keeps an idle
    connection).
    """

    __slots__ = ("codings", "complete", "encodings", "keep_alive", "lengths", "location",
                 "server_timing")

    def __init__(self) -> None:
        self.on_message_begin()

    def on_message_begin(self) -> None:
        self.complete = False
        self.lengths = 0
        self.codings: list[bytes] = []
        self.encodings: list[bytes] = []
        self.location: str | None = None
        self.keep_alive: bytes | None = None
        self.server_timing: bytes | None = None

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"content-length":
            self.lengths += 1
        elif name == b"transfer-encoding":
            self.codings += [c.strip().lower() for c in value.split(b",") if c.strip()]
        elif name == b"content-encoding":
            self.encodings += [c.strip().lower() for c in value.split(b",") if c.strip()]
        elif name == b"location":
            self.location = value.decode("latin-1").strip()
        elif name == b"keep-alive":
            self.keep_alive = value
        elif name == b"server-timing":       # several fields join as one list (RFC 9110)
            st = self.server_timing
            self.server_timing = value if st is None else st + b", " + value

    def on_headers_complete(self) -> None:
        self.complete = True


def head_fields(received: bytes) -> tuple[HeadFields, int]:
    """The last response's fields in ``received`` and its status (0: no status line yet)."""
    fields = HeadFields()
    parser = lenient(httptools.HttpResponseParser(fields))
    try:
        parser.feed_data(received)
    except httptools.HttpParserError:
        pass
    try:
        status = parser.get_status_code()
    except httptools.HttpParserError:  # pragma: no cover - no status line parsed
        status = 0
    return fields, status


def delimited_by_close(received: bytes) -> bool:
    """True when the last response begun in ``received`` ends only when the connection does.

    RFC 9112 6.3: a response with neither Content-Length nor a final ``chunked``
    transfer coding (and a status that may carry a body) runs to the close.
    ``received`` is what arrived before the body began: possibly a ``100 Continue``
    first, possibly a few body bytes after the head.
    """
    names, status = head_fields(received)
    if not names.complete:
        return False
    if status < 200 or status in (204, 304):
        return False
    if names.codings:
        return names.codings[-1] != b"chunked"
    return names.lengths == 0


# (status, body, last-byte perf_counter_ns), and the head's fields when a redirect or
# a compressed answer needs them (off the hot path: the transport looks at len()).
Answer = tuple[int, bytes, int] | tuple[int, bytes, int, HeadFields]


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; at most one request in flight."""

    __slots__ = (
        "_cap",
        "_done",
        "_fut",
        "_answer",
        "_head",
        "_inspect",
        "_keep",
        "_loop",
        "_on_lost",
        "_parts",
        "_size",
        "deadline",
        "alive",
        "idle_since",
        "keep_hint",
        "parser",
        "reused",
        "transport",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, max_bytes: int,
                 done: Callable[[Connection, bool], None],
                 on_lost: Callable[[Connection], None], inspect: bool = False) -> None:
        self._loop = loop
        self._inspect = inspect       # every answer's head fields are wanted (compression)
        self.transport: asyncio.Transport | None = None
        self.parser = lenient(httptools.HttpResponseParser(self))
        self.alive = False
        self.reused = False           # has completed a response before (stale-retry rule)
        self._fut: asyncio.Future[Answer] | None = None
        self.deadline = 0.0           # loop time after which the pool's sweep times it out
        self.idle_since = 0.0         # loop time (the pool's tick) it last went idle
        self.keep_hint: float | None = None   # the server's Keep-Alive: timeout, if it said
        self._parts: list[bytes] = []
        self._size = 0
        self._cap = max_bytes
        self._head: bytes | None = None
        self._answer: Answer | None = None   # parsed, handed over after the feed
        self._keep = False
        self._done = done             # pool callback: (conn, keep_alive)
        self._on_lost = on_lost       # pool callback when the connection is gone (any state)

    # -- asyncio.Protocol ------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.alive = True

    def data_received(self, data: bytes) -> None:
        if self._fut is None:         # bytes nobody asked for: the connection is unusable
            self._drop()
            return
        if self._size == 0:
            # No body byte yet: keep what came so far, so a close can be judged on the
            # whole head whatever the reads (rare beyond the first read: no copy then).
            head = self._head
            if head is None:
                self._head = data
            elif len(head) <= self._cap:
                self._head = head + data
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _TooLarge):
                self._fail(kinds.TOO_LARGE, self.parser.get_status_code())
            else:                     # _Unsolicited: the answer stands, the connection goes
                self._fail(kinds.PROTOCOL)
            return
        except httptools.HttpParserError:
            self._fail(kinds.PROTOCOL)
            return
        if self._answer is not None:
            self._settle(self._keep)

    def eof_received(self) -> bool:
        return False                  # let the transport close; connection_lost does the rest

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        self._on_lost(self)           # the pool hears of every close (idle or not)
        fut = self._fut
        if fut is None:
            return
        if self._head is None and self.reused:
            # Closed (FIN, or RST for the bytes we wrote after its FIN) before a byte came back.
            self._finish_error(StaleConnection())
        elif self._until_close():
            self._complete(keep_alive=False)
            self._settle(False)
        else:
            self._finish_error(TransportError(kinds.RESET))

    # -- httptools callbacks ------------------------------------------------------------
    def on_body(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._cap:
            raise _TooLarge()
        self._parts.append(chunk)

    def on_message_complete(self) -> None:
        if self._answer is not None:              # a second answer nobody asked for
            raise _Unsolicited()
        if self.parser.get_status_code() < 200:   # 1xx interim response: wait for the real one
            self._parts.clear()
            self._size = 0
            return
        self._complete(self.parser.should_keep_alive())

    # -- driving a request ------------------------------------------------------------------
    def request(self, wire: bytes, fut: asyncio.Future[Answer],
                deadline: float) -> None:
        self._fut = fut
        self._head = None
        self.deadline = deadline
        self.transport.write(wire)  # type: ignore[union-attr]

    def _complete(self, keep_alive: bool) -> None:
        """The parser saw the last byte: stamp it, keep the answer until the feed returns.

        Releasing the connection only after the whole chunk is parsed means bytes
        after the answer (garbage, an unasked response) drop it before anyone reuses it.
        """
        parts = self._parts
        status = self.parser.get_status_code()
        body = parts[0] if len(parts) == 1 else b"".join(parts)
        now = perf_counter_ns()
        if status in REDIRECT_STATUSES or self._inspect:
            self._answer = (status, body, now, head_fields(self._head or b"")[0])
        else:
            self._answer = (status, body, now)
        if not self.reused and self._head is not None and b"timeout=" in self._head:
            # Once per connection, and only when a Keep-Alive timeout may be there.
            self.keep_hint = keep_alive_hint(head_fields(self._head)[0].keep_alive)
        parts.clear()
        self._size = 0
        self._keep = keep_alive

    def _settle(self, keep_alive: bool) -> None:
        """Hand the connection back to the pool (or close it) and resolve the request."""
        answer = self._answer
        self._answer = None
        fut = self._fut
        self._fut = None
        self.reused = True
        if not keep_alive:
            self._close()
        self._done(self, keep_alive and self.alive)
        if fut is not None and not fut.done():
            fut.set_result(answer)  # type: ignore[arg-type]

    def _until_close(self) -> bool:
        """EOF mid-response: complete if the response was delimited by the close itself."""
        return self._head is not None and delimited_by_close(self._head)

    @property
    def busy(self) -> bool:
        return self._fut is not None

    def time_out(self) -> None:
        """Called by the pool's sweep once ``deadline`` has passed with no full answer."""
        if self._fut is not None:
            self._fail(kinds.TIMEOUT)

    def _fail(self, kind: str, status: int | None = None) -> None:
        if self._answer is not None:  # answered in full, then junk: keep the answer, drop the rest
            self._settle(False)
        elif self._fut is not None:
            self._finish_error(TransportError(kind, status))
        self._drop()

    def _finish_error(self, exc: BaseException) -> None:
        fut = self._fut
        self._fut = None
        self._answer = None
        self._parts.clear()
        self._size = 0
        self.alive = False
        self._done(self, False)
        if fut is not None and not fut.done():
            fut.set_exception(exc)

    def _close(self) -> None:
        self.alive = False
        if self.transport is not None:
            self.transport.close()

    def _drop(self) -> None:
        """Abort: after a timeout or a parse error the byte stream cannot be trusted."""
        self.alive = False
        if self.transport is not None:
            self.transport.abort()
