"""The fast transport for streamed answers: each body piece timed as httptools hands it over.

Sits beside ``fast_protocol`` / ``fast_transport`` (whose pool it reuses): a
``StreamConnection`` is a ``Connection`` whose ``on_body`` takes one
``perf_counter_ns`` per piece and feeds it to the request's ``StreamRead``
(events split there with ``bytes.split``, never a Python step per byte), and
whose answer is ``(status, StreamRead)`` instead of ``(status, body)``. It also
reads the ``Content-Type`` header (one callback per header: a cost per
response, not per token) so a stream that is not an event stream is named.

Timeouts: a stream may take longer than ``request.timeout`` in all, so the
deadline is an *idle* one -- every body piece pushes it ``timeout`` further; a
stream that stalls that long is a ``timeout``. A connection that breaks after
content arrived is ``stream_incomplete`` (its partial timings are dropped), one
that breaks before is ``reset`` as for any request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from time import perf_counter_ns
from typing import TYPE_CHECKING

from loadkit.engine.fast_protocol import Answer, Connection, _TooLarge
from loadkit.engine.fast_transport import FastTransport
from loadkit.engine.stream_read import StreamRead
from loadkit.engine.transport import TransportError

if TYPE_CHECKING:
    from loadkit.scenario.plan import PayloadSet, RequestSpec, StreamSpec


class StreamConnection(Connection):
    """One keep-alive connection reading streamed answers."""

    __slots__ = ("_fmt", "_idle_s", "_keep_text", "_live", "_read", "_streamed")

    def __init__(self, loop: asyncio.AbstractEventLoop, max_bytes: int,
                 done: Callable[[Connection, bool], None],
                 on_lost: Callable[[Connection], None], spec: StreamSpec,
                 idle_s: float) -> None:
        super().__init__(loop, max_bytes, done, on_lost)
        self._fmt = spec.format
        self._streamed = spec.streamed
        self._keep_text = spec.tokenizer is not None
        self._idle_s = idle_s
        self._read: StreamRead | None = None
        self._live = False            # this answer's body is a stream to time

    def request(self, wire: bytes, fut: asyncio.Future[Answer],
                deadline: float) -> None:
        self._read = StreamRead(self._fmt, self._keep_text)
        self._live = False
        super().request(wire, fut, deadline)

    # -- httptools callbacks (beside the base class's) ------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) == 12 and name.lower() == b"content-type" and self._read is not None:
            self._read.content_type = value.decode("latin-1").lower()

    def on_headers_complete(self) -> None:
        read = self._read
        status = self.parser.get_status_code()
        self._live = (self._streamed and 200 <= status < 300 and read is not None
                      and (self._fmt == "chunks" or "text/event-stream" in read.content_type))

    def on_body(self, chunk: bytes) -> None:
        if not self._live:
            super().on_body(chunk)
            return
        self._size += len(chunk)
        if self._size > self._cap:
            raise _TooLarge()
        self._read.feed(chunk, perf_counter_ns())  # type: ignore[union-attr]
        self.deadline = self._loop.time() + self._idle_s

    def _complete(self, keep_alive: bool) -> None:
        read = self._read
        assert read is not None
        read.last_ns = perf_counter_ns()
        read.status = status = self.parser.get_status_code()
        if not self._live:
            parts = self._parts
            body = parts[0] if len(parts) == 1 else b"".join(parts)
            if not self._streamed and 200 <= status < 300:
                read.whole_body(body)
            else:
                read.raw = body
        self._parts.clear()
        self._size = 0
        self._answer = (status, read, read.last_ns)  # type: ignore[assignment]
        self._keep = keep_alive
        self._read = None

    def connection_lost(self, exc: Exception | None) -> None:
        read = self._read
        if (self._fut is not None and read is not None and read.chunks
                and not self._until_close()):
            self.alive = False
            self._finish_error(TransportError("stream_incomplete", read.status or 200))
            return
        super().connection_lost(exc)


class FastStreamTransport(FastTransport):
    """The fast transport whose answers are ``(status, StreamRead, last byte)``."""

    reads_streams = True

    def __init__(self, request: RequestSpec, payloads: PayloadSet, connections: int) -> None:
        super().__init__(request, payloads, connections)
        assert request.stream is not None
        self._spec = request.stream

    def _new_connection(self) -> Connection:
        return StreamConnection(self._loop, self._max_bytes,  # type: ignore[arg-type]
                                self._release, self._lost, self._spec, self._timeout_s)
