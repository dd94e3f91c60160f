"""A tiny aiohttp target for the engine's tests, run in a thread on a free loopback port.

The bundled mock server is the realistic target; this one exists for behaviour
the engine tests need to pin down exactly (a stall at a known time, a reset, a
body over the cap, a chosen status) without depending on its options.

Routes (POST or GET):
  /ok                 200 {"predictions": [1]} after ``latency_s``
  /sleep/{ms}         200 after ms milliseconds
  /sleep-body         200 after the body's ``{"ms": N}`` milliseconds (a stage's payload
                      says how slow its requests are)
  /status/{code}      that status, body {"error": "x"}
  /nojson             200 with a body that is not JSON
  /big/{n}            200 with n bytes (chunked when ?chunked=1)
  /reset              closes the connection without answering
  /close              200, then closes the connection (``Connection: close``)
  /ready              503 until ``ready_after_s`` has passed since start, then 200
Every request waits out a stall window when ``stall`` = (start_s, length_s),
counted from the first request. ``busy`` / ``max_busy`` count requests being
handled now / at most at once (``/sleep`` and ``/sleep-body`` only).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class TinyServer:
    latency_s: float = 0.0
    stall: tuple[float, float] | None = None
    ready_after_s: float = 0.0
    received: int = 0
    busy: int = 0
    max_busy: int = 0
    url: str = ""
    _first: float | None = None
    _started: float = field(default_factory=time.monotonic)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None

    async def _wait(self) -> None:
        self.received += 1
        now = time.monotonic()
        if self._first is None:
            self._first = now
        if self.stall is not None:
            start = self._first + self.stall[0]
            end = start + self.stall[1]
            if start <= now < end:
                await asyncio.sleep(end - now)

    async def ok(self, request: web.Request) -> web.Response:
        await request.read()
        await self._wait()
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        return web.json_response({"predictions": [1]})

    async def sleep(self, request: web.Request) -> web.Response:
        await request.read()
        return await self._busy_for(int(request.match_info["ms"]))

    async def sleep_body(self, request: web.Request) -> web.Response:
        ms = int(json.loads(await request.read())["ms"])
        return await self._busy_for(ms)

    async def _busy_for(self, ms: int) -> web.Response:
        await self._wait()
        self.busy += 1
        self.max_busy = max(self.max_busy, self.busy)
        try:
            await asyncio.sleep(ms / 1000)
        finally:
            self.busy -= 1
        return web.json_response({"predictions": [1]})

    async def status(self, request: web.Request) -> web.Response:
        await self._wait()
        return web.json_response({"error": "x"}, status=int(request.match_info["code"]))

    async def nojson(self, request: web.Request) -> web.Response:
        await self._wait()
        return web.Response(text="<html>not json</html>")

    async def big(self, request: web.Request) -> web.StreamResponse:
        await self._wait()
        n = int(request.match_info["n"])
        if request.query.get("chunked"):
            resp = web.StreamResponse()
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            block = b"x" * 4096
            sent = 0
            while sent < n:
                part = block[: min(4096, n - sent)]
                await resp.write(part)
                sent += len(part)
            await resp.write_eof()
            return resp
        return web.Response(body=b"x" * n)

    async def reset(self, request: web.Request) -> web.Response:
        await self._wait()
        assert request.transport is not None
        request.transport.abort()
        await asyncio.sleep(0.05)
        return web.Response(text="never")

    async def close(self, request: web.Request) -> web.Response:
        await request.read()
        await self._wait()
        resp = web.json_response({"predictions": [1]})
        resp.force_close()
        return resp

    async def ready(self, request: web.Request) -> web.Response:
        ok = time.monotonic() - self._started >= self.ready_after_s
        return web.Response(status=200 if ok else 503, text="ok" if ok else "warming")

    def _app(self) -> web.Application:
        app = web.Application()
        for method in ("POST", "GET"):
            app.router.add_route(method, "/ok", self.ok)
            app.router.add_route(method, "/sleep/{ms}", self.sleep)
            app.router.add_route(method, "/sleep-body", self.sleep_body)
            app.router.add_route(method, "/status/{code}", self.status)
            app.router.add_route(method, "/nojson", self.nojson)
            app.router.add_route(method, "/big/{n}", self.big)
            app.router.add_route(method, "/reset", self.reset)
            app.router.add_route(method, "/close", self.close)
        app.router.add_get("/ready", self.ready)
        return app

    def start(self) -> TinyServer:
        started = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop

            async def up() -> None:
                self._runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=0.5,
                                             handler_cancellation=True)
                await self._runner.setup()
                site = web.TCPSite(self._runner, "127.0.0.1", 0)
                await site.start()
                port = self._runner.addresses[0][1]
                self.url = f"http://127.0.0.1:{port}"

            loop.run_until_complete(up())
            started.set()
            loop.run_forever()
            assert self._runner is not None
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    def stop(self) -> None:
        """Stop serving and close the port; safe to call twice."""
        loop, self._loop = self._loop, None
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
