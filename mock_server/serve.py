"""Binding the app to a socket: for ``python -m mock_server`` and for in-process use.

``start(options)`` runs on the caller's event loop and returns the runner and
the base URL; ``BackgroundServer`` runs the same thing on a private event
loop in a daemon thread, so synchronous code (pytest fixtures, notebooks) can
start a server, get its URL and stop it.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

from aiohttp import web

from mock_server.app import make_app
from mock_server.options import MockOptions

SHUTDOWN_GRACE_S = 1.0  # in-flight requests get this long at shutdown; hangs are cancelled


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when installed (a faster server), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def start(options: MockOptions) -> tuple[web.AppRunner, str]:
    """Bind and start serving; ``options.port`` 0 picks a free port. Returns (runner, URL)."""
    runner = web.AppRunner(
        make_app(options),
        access_log=None,  # per-request logging would cost more than the request itself
        handler_cancellation=True,  # a client that hangs up cancels its hung/stalled handler
        shutdown_timeout=SHUTDOWN_GRACE_S,
    )
    await runner.setup()
    site = web.TCPSite(runner, options.host, options.port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    port = runner.addresses[0][1]
    return runner, base_url(options.host, port)


class BackgroundServer:
    """A mock server on its own event loop in a daemon thread.

    ``with BackgroundServer(opts) as url: ...`` or ``start()`` / ``stop()``.
    """

    def __init__(self, options: MockOptions) -> None:
        self.options = options
        self.url = ""
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    def start(self, timeout_s: float = 10.0) -> str:
        self._thread = threading.Thread(target=self._run, name="mock-server", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout_s):
            raise TimeoutError(f"mock server did not start within {timeout_s:g}s")
        if self._error is not None:
            raise self._error
        return self.url

    def stop(self, timeout_s: float = 10.0) -> None:
        loop, stop, thread = self._loop, self._stop, self._thread
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop closed in between
                pass
        if thread is not None:
            thread.join(timeout_s)

    def _run(self) -> None:
        loop = new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            try:
                self._stop = asyncio.Event()
                runner, self.url = loop.run_until_complete(start(self.options))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the starting thread
                self._error = exc
                return
            finally:
                self._started.set()
            loop.run_until_complete(self._stop.wait())
            loop.run_until_complete(runner.cleanup())
        finally:
            loop.close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
