"""The scraper: each source's Prometheus endpoint fetched every ``interval`` during a
profile, in a thread of its own with its own event loop.

Where it sits: the runner opens a ``Telemetry`` around each profile and gives the
engine its ``stage_started`` / ``stage_stopped`` (the engine's ``StageObserver``),
which only post a message to the scraper's loop. Why a thread with its own loop
rather than a task on the engine's loop: parsing a large exposition (a model
server's page is thousands of lines) would block the load's loop for tens of ms;
here it only delays the next scrape. Scrapes use their own aiohttp session, so
they never share a connection with the load and are never recorded as load. Under
``--processes`` the parent scrapes once (children never do).

Every scrape is one request with the source's own timeout; a failure (``connect``,
``timeout``, ``http_<status>``, ``garbage``, ``too_large``) is counted in the
stage and the next scrape comes as usual. A stage boundary triggers a scrape at
once, so each stage's figures span the stage itself.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import aiohttp

from loadkit.redact import redact_url
from loadkit.results.server import ScrapeStats, ServerPoint, ServerSeries
from loadkit.scenario.plan import MetricsSource
from loadkit.telemetry.parse import ExpositionError, Selector, snapshot
from loadkit.telemetry.window import SourceLog

ACCEPT = ("application/openmetrics-text;version=1.0.0;q=0.9,"
          "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
MAX_BODY_BYTES = 16 * 1024 * 1024
STOP_GRACE_S = 0.5              # beyond a source's timeout, for its stage-closing scrape


class _Source:
    """One endpoint: its URL, selector, log and the loop that scrapes it."""

    def __init__(self, spec: MetricsSource, target: str) -> None:
        self.spec = spec
        self.url = spec.resolve(target)
        self.name = redact_url(self.url)
        self.selector = Selector(spec.include, spec.max_series)
        self.log = SourceLog(self.name)
        self.kick = asyncio.Event()
        self.headers = {"Accept": ACCEPT, **dict(spec.headers)}

    async def fetch(self, session: aiohttp.ClientSession) -> tuple[str, str]:
        timeout = aiohttp.ClientTimeout(total=self.spec.timeout_s)
        async with session.get(self.url, headers=self.headers, timeout=timeout,
                               allow_redirects=True) as resp:
            body = await resp.content.read(MAX_BODY_BYTES + 1)
            if resp.status != 200:
                raise _Failed(f"http_{resp.status}")
            if len(body) > MAX_BODY_BYTES:
                raise _Failed("too_large")
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise _Failed("garbage") from None
            return text, resp.headers.get("Content-Type", "")

    async def scrape_once(self, session: aiohttp.ClientSession) -> None:
        t = time.time()
        t0 = time.perf_counter()
        try:
            text, ctype = await self.fetch(session)
            snap = snapshot(text, t, self.selector, ctype)
        except _Failed as exc:
            self.log.failed(exc.kind, t)
        except TimeoutError:
            self.log.failed("timeout", t)
        except ExpositionError:
            self.log.failed("garbage", t)
        except (aiohttp.ClientError, OSError):
            self.log.failed("connect", t)
        else:
            self.log.scraped(snap, (time.perf_counter() - t0) * 1000.0)

    async def run(self, session: aiohttp.ClientSession, stopping: asyncio.Event) -> None:
        """Scrape every interval and at once when kicked; after ``stopping``, scrape until
        every stage window is closed (once, normally)."""
        while True:
            self.kick.clear()
            began = time.monotonic()
            await self.scrape_once(session)
            if stopping.is_set() and not self.log.open_windows():
                return
            wait_s = max(0.0, self.spec.interval_s - (time.monotonic() - began))
            try:
                await asyncio.wait_for(self.kick.wait(), timeout=wait_s)
            except TimeoutError:
                pass


class _Failed(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class Telemetry:
    """Scrape ``sources`` (relative URLs against ``target``) for the life of one profile.

    ``start()``, then the engine calls ``stage_started``/``stage_stopped`` (thread-safe,
    cheap), then ``stop()``; ``stage(index)`` and ``timeseries()`` read what was seen.
    """

    def __init__(self, sources: Sequence[MetricsSource], target: str,
                 insecure: bool = False) -> None:
        self.insecure = insecure
        self.sources = [_Source(s, target) for s in sources]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None

    # -- lifecycle (caller's thread) -------------------------------------------------
    def start(self) -> Telemetry:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(ready,),
                                        name="loadkit-telemetry", daemon=True)
        self._thread.start()
        ready.wait(5.0)
        return self

    def stop(self) -> None:
        """Take each source's stage-closing scrape (bounded by its timeout), then end."""
        loop = self._loop
        if loop is None or self._thread is None:
            return
        loop.call_soon_threadsafe(self._begin_stop)
        grace = max((s.spec.timeout_s for s in self.sources), default=0.0) + STOP_GRACE_S
        self._thread.join(grace + 1.0)

    def __enter__(self) -> Telemetry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the engine's StageObserver (called from the engine's thread) -----------------
    def stage_started(self, index: int) -> None:
        self._post(self._begin, index, time.time())

    def stage_stopped(self, index: int) -> None:
        self._post(self._end, index, time.time())

    def _post(self, fn: object, *args: object) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(fn, *args)  # type: ignore[arg-type]
            except RuntimeError:                       # closed between the check and the call
                pass

    # -- results (after stop) ----------------------------------------------------------
    def stage(self, index: int) -> tuple[dict[str, ServerSeries], tuple[ScrapeStats, ...]]:
        """Stage ``index``'s series of every source (a key two sources share gets the
        later source's ``instance`` label) and each source's scrape counts."""
        series: dict[str, ServerSeries] = {}
        stats: list[ScrapeStats] = []
        for src in self.sources:
            found, st = src.log.stage(index)
            for key, value in found.items():
                series[self._unique(key, src, series)] = value
            if st is not None:
                stats.append(st)
        return series, tuple(stats)

    def timeseries(self) -> tuple[ServerPoint, ...]:
        if len(self.sources) == 1:
            return tuple(self.sources[0].log.points)
        points = [p for s in self.sources for p in s.log.points]
        return tuple(sorted(points, key=lambda p: p.t))

    def _unique(self, key: str, src: _Source, taken: dict[str, ServerSeries]) -> str:
        if key not in taken:
            return key
        from urllib.parse import urlsplit

        instance = urlsplit(src.url).netloc.rsplit("@", 1)[-1]
        label = f'instance="{instance}"'
        return f"{key[:-1]},{label}}}" if key.endswith("}") else f"{key}{{{label}}}"

    # -- the scraper's thread ------------------------------------------------------------
    def _main(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(ready))
        finally:
            loop.close()

    async def _serve(self, ready: threading.Event) -> None:
        self._stopping = asyncio.Event()
        for src in self.sources:
            src.kick = asyncio.Event()
        # Each source scrapes one request at a time; no per-host limit, so a slow source
        # never holds up another on the same host (the target's /metrics and a sidecar).
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, ssl=not self.insecure)
        async with aiohttp.ClientSession(connector=connector) as session:
            tasks = [asyncio.ensure_future(s.run(session, self._stopping)) for s in self.sources]
            ready.set()
            await self._stopping.wait()
            grace = max((s.spec.timeout_s for s in self.sources), default=0.0) + STOP_GRACE_S
            done, pending = await asyncio.wait(tasks, timeout=grace)
            for t in pending:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _begin(self, index: int, t: float) -> None:
        for src in self.sources:
            src.log.begin(index, t)
            src.kick.set()

    def _end(self, index: int, t: float) -> None:
        for src in self.sources:
            src.log.end(index, t)
            src.kick.set()

    def _begin_stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        for src in self.sources:
            src.kick.set()
