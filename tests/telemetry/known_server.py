"""An aiohttp target whose own metrics are known exactly, in a thread on a free port.

``/predict`` answers after ``latency_s`` and counts itself; ``/metrics`` (only with
the right bearer token: a scrape's auth header must reach the source) exposes

* ``app_in_flight`` — a gauge fixed at ``IN_FLIGHT`` (its stage mean is exact);
* ``app_requests_total`` — a counter of every /predict handled;
* ``app_service_seconds`` — a histogram into which every /predict observes
  ``SERVICE_S`` (in (0.01, 0.02]: interpolated p50 0.015, mean 0.015);
* ``Server-Timing: app;dur=<SERVICE_S in ms>`` on every /predict.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field

from aiohttp import web

TOKEN = "tok-s3cr3t-telemetry-9f2"
IN_FLIGHT = 3
SERVICE_S = 0.015
BOUNDS = ("0.005", "0.01", "0.02", "0.05", "+Inf")


@dataclass
class KnownServer:
    latency_s: float = 0.004
    predicts: int = 0
    scrapes: int = 0
    refused_scrapes: int = 0
    traceparents: set[str] = field(default_factory=set)
    url: str = ""
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None
    _ready: threading.Event = field(default_factory=threading.Event)

    async def predict(self, request: web.Request) -> web.Response:
        await request.read()
        self.traceparents.add(request.headers.get("traceparent", ""))
        await asyncio.sleep(self.latency_s)
        self.predicts += 1
        return web.json_response({"predictions": [1]},
                                 headers={"Server-Timing": f'db;dur=2.5, app;dur={SERVICE_S * 1000:g};desc="x"'})

    async def metrics(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.refused_scrapes += 1
            return web.Response(status=401)
        self.scrapes += 1
        n = self.predicts
        lines = ["# TYPE app_in_flight gauge", f"app_in_flight {IN_FLIGHT}",
                 "# TYPE app_requests_total counter", f"app_requests_total {n}",
                 "# TYPE app_service_seconds histogram"]
        lines += [f'app_service_seconds_bucket{{le="{b}"}} {0 if float(b) < SERVICE_S else n}'
                  for b in BOUNDS]
        lines += [f"app_service_seconds_sum {n * SERVICE_S}", f"app_service_seconds_count {n}"]
        return web.Response(text="\n".join(lines) + "\n")

    async def garbage(self, request: web.Request) -> web.Response:
        """A proxy's error page where metrics should be: not an exposition."""
        return web.Response(text="<html><body>502 Bad Gateway</body></html>",
                            content_type="text/html")

    async def slow(self, request: web.Request) -> web.Response:
        """Metrics that come too late for the scrape's own timeout."""
        await asyncio.sleep(0.5)
        return web.Response(text="# TYPE late gauge\nlate 1\n")

    def start(self) -> KnownServer:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._main, args=(sock,), daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def _main(self, sock: socket.socket) -> None:
        loop = self._loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_post("/predict", self.predict)
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/garbage", self.garbage)
        app.router.add_get("/slow", self.slow)
        self._runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(self._runner.setup())
        loop.run_until_complete(web.SockSite(self._runner, sock).start())
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup())
        loop.close()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
