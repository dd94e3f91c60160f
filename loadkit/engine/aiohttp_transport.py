"""The compatible transport: one aiohttp ClientSession with a pool sized to the load.

Sits under the engine's workers and pacer behind the ``Transport`` protocol. It is
slower than the fast transport but speaks everything aiohttp speaks (proxies from
the environment, cookies, HEAD, any header), so ``auto`` falls back to it whenever
the fast transport cannot send a request exactly. Redirects are followed as the
fast transport follows them (``redirects.py``).

``send`` reads the body to its last byte (so latency is send -> last byte) under
a cap, and turns every failure into a ``TransportError`` with one error kind.
"""

from __future__ import annotations

import asyncio
from time import perf_counter_ns
from typing import TYPE_CHECKING

import aiohttp
from yarl import URL

from loadkit.engine.encoding import asked_codings, decode, unsupported_coding
from loadkit.engine.failures import classify
from loadkit.engine.keepalive import DEFAULT_KEEP_S
from loadkit.engine.redirects import count_redirects
from loadkit.engine.server_timing import note_server_timing
from loadkit.engine.transport import TransportError
from loadkit.results import kinds

if TYPE_CHECKING:
    from loadkit.scenario.plan import PayloadSet, RequestSpec

# aiohttp refuses a header line over 8190 bytes by default; the fast transport's parser
# has no such limit, and a real server may send a big cookie or a long Link header.
MAX_HEADER_LINE = 64 * 1024


class AiohttpTransport:
    """aiohttp behind the Transport protocol; one session per run."""

    name = "aiohttp"

    def __init__(self, request: RequestSpec, payloads: PayloadSet, connections: int) -> None:
        if connections < 1:
            raise ValueError("connections must be at least 1")
        self._request = request
        self._method = request.method.upper()
        self._url = URL(request.url)
        self._bodies: tuple[bytes | None, ...] = tuple(b or None for b in payloads.bodies) or (None,)
        self._n = len(self._bodies)
        # A body-less request (a GET over an empty PayloadSet) gets no Content-Type.
        self._content_type = payloads.content_type if any(payloads.bodies) else ""
        self._connections = connections
        self._cap = request.max_response_bytes
        self._follow = request.follow_redirects
        # Compression only when the scenario asks (aiohttp's own Accept-Encoding is
        # skipped); gzip/deflate decoded by encoding.py, timed apart as on the fast
        # transport; any other coding asked for (br, zstd) is left to aiohttp.
        self._codings = asked_codings(request.headers)
        self._decode = (self._codings is not None and unsupported_coding(request.headers) is None
                        and any(c != "identity" for c in self._codings))
        self._timing = request.server_timing is not None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is not None:
            return
        headers = dict(self._request.headers)
        if self._content_type and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = self._content_type
        connector = aiohttp.TCPConnector(
            limit=self._connections,
            limit_per_host=0,
            ttl_dns_cache=300,
            # aiohttp keeps idle connections 15 s by default and reads no Keep-Alive
            # header: reuse them only as long as the fast pool would by default.
            keepalive_timeout=DEFAULT_KEEP_S,
            ssl=not self._request.insecure,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=headers,
            timeout=self._client_timeout(),
            auto_decompress=self._codings is not None and not self._decode,
            skip_auto_headers=("Accept-Encoding",) if self._codings is None else (),
            max_line_size=MAX_HEADER_LINE,
            max_field_size=MAX_HEADER_LINE,
        )

    def _client_timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self._request.timeout_s)

    async def send(self, payload: int) -> tuple[int, bytes, int]:
        session = self._session
        if session is None:
            raise RuntimeError("AiohttpTransport.send before start()")
        body = self._bodies[payload % self._n]
        try:
            async with session.request(self._method, self._url, data=body,
                                       allow_redirects=self._follow > 0,
                                       max_redirects=self._follow + 1) as resp:
                if resp.history:
                    count_redirects(len(resp.history))
                if self._timing:
                    note_server_timing(resp.headers.get("Server-Timing"))
                status = resp.status
                length = resp.content_length
                cap = self._cap
                if length is not None:
                    if length > cap:
                        resp.close()
                        raise TransportError(kinds.TOO_LARGE, status)
                    body = await resp.read()
                else:
                    body = await self._read_capped(resp, status, cap)
                # aiohttp hands the last byte over when this task resumes: the nearest
                # stamp it allows (the fast transport stamps inside its protocol).
                stamp = perf_counter_ns()
                if self._decode:
                    coded = resp.headers.get("Content-Encoding")
                    if coded:
                        body = decode(body, [c.strip().lower() for c in coded.split(",")
                                             if c.strip()], cap, status)
                return status, body, stamp
        except TransportError:
            raise
        except aiohttp.TooManyRedirects as exc:
            # aiohttp raises on the (follow + 1)-th redirect answer: follow hops were taken.
            count_redirects(len(exc.history) - 1)
            last = exc.history[-1].status if exc.history else None
            raise TransportError(kinds.REDIRECT_LOOP, last) from None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 -- every failure becomes one error kind, never a crash
            raise TransportError(classify(exc)) from None

    @staticmethod
    async def _read_capped(resp: aiohttp.ClientResponse, status: int, cap: int) -> bytes:
        """Read a body of unknown length (chunked / close-delimited), at most ``cap`` bytes."""
        chunks: list[bytes] = []
        size = 0
        content = resp.content
        while True:
            chunk = await content.readany()
            if not chunk:
                break
            size += len(chunk)
            if size > cap:
                resp.close()
                raise TransportError(kinds.TOO_LARGE, status)
            chunks.append(chunk)
        return b"".join(chunks)

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
