"""The aiohttp transport for streamed answers: ``iter_any`` pieces, each timed on arrival.

Sits beside ``aiohttp_transport`` (whose session and error classes it reuses) as
``stream_fast`` sits beside the fast transport: a send answers ``(status,
StreamRead, last byte)``. Each piece ``iter_any`` yields (whatever the socket had) gets one
``perf_counter_ns`` and goes to the request's ``StreamRead``. The timeout is an
idle one (``sock_read``): a stream may run longer than ``request.timeout`` in
all, but not stall that long. A stream that breaks after content arrived is
``stream_incomplete``.
"""

from __future__ import annotations

import asyncio
from time import perf_counter_ns
from typing import TYPE_CHECKING

import aiohttp

from loadkit.engine.aiohttp_transport import AiohttpTransport
from loadkit.engine.failures import classify
from loadkit.engine.stream_read import StreamRead
from loadkit.engine.transport import TransportError

if TYPE_CHECKING:
    from loadkit.scenario.plan import PayloadSet, RequestSpec


class AiohttpStreamTransport(AiohttpTransport):
    """aiohttp whose answers are ``(status, StreamRead, last byte)``."""

    reads_streams = True

    def __init__(self, request: RequestSpec, payloads: PayloadSet, connections: int) -> None:
        super().__init__(request, payloads, connections)
        assert request.stream is not None
        self._spec = request.stream

    def _client_timeout(self) -> aiohttp.ClientTimeout:
        timeout = self._request.timeout_s
        return aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)

    async def send(self, payload: int) -> tuple[int, StreamRead, int]:  # type: ignore[override]
        session = self._session
        if session is None:
            raise RuntimeError("AiohttpStreamTransport.send before start()")
        spec = self._spec
        read = StreamRead(spec.format, spec.tokenizer is not None)
        body = self._bodies[payload % self._n]
        cap = self._cap
        try:
            async with session.request(self._method, self._url, data=body) as resp:
                read.status = status = resp.status
                read.content_type = resp.headers.get("Content-Type", "").lower()
                live = spec.streamed and 200 <= status < 300 and (
                    spec.format == "chunks" or "text/event-stream" in read.content_type)
                size = 0
                if not live:
                    whole = await self._read_capped(resp, status, cap)
                    read.last_ns = perf_counter_ns()
                    if not spec.streamed and 200 <= status < 300:
                        read.whole_body(whole)
                    else:
                        read.raw = whole
                    return status, read, read.last_ns
                feed = read.feed
                async for data in resp.content.iter_any():
                    size += len(data)
                    if size > cap:
                        resp.close()
                        raise TransportError("too_large", status)
                    feed(data, perf_counter_ns())
                read.last_ns = perf_counter_ns()
                return status, read, read.last_ns
        except TransportError:
            raise
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 -- every failure becomes one error kind
            kind = classify(exc)
            if read.chunks and kind in ("reset", "other"):
                kind = "stream_incomplete"
            raise TransportError(kind, read.status or None) from None
