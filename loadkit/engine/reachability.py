"""Before any load: is the target there, and (optionally) ready?

The runner calls ``check_reachable`` once before the first stage so a target on
a closed port ends the run with exit 3 and one clear line instead of a storm of
connect errors. ``measure_cold_start`` times how long a just-started target
takes to accept connections and to answer its readiness path with 200.
Messages name host:port and the path only: never userinfo or query tokens.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from urllib.parse import urlsplit

import aiohttp

from loadkit.engine.loop import run_on_new_loop
from loadkit.errors import TargetUnreachable, UsageError
from loadkit.scenario.plan import RequestSpec

POLL_S = 0.05


def _host_port(request: RequestSpec) -> tuple[str, int, str]:
    try:
        parts = urlsplit(request.target)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"target: not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("target: must be an http:// or https:// URL with a host")
    port = port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return host, port, shown


async def _connect_once(host: str, port: int, timeout_s: float) -> str | None:
    """None when a TCP connection opens, else a short reason."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except TimeoutError:
        return f"no answer within {timeout_s:g}s"
    except ConnectionRefusedError:
        return "connection refused"
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return None


async def _tls_once(host: str, port: int, timeout_s: float) -> str | None:
    """None when a verified TLS handshake succeeds, else the reason it did not.

    Done before any load so an untrusted certificate is one clear line (exit 3),
    not a run of nothing but connect errors.
    """
    ctx = ssl.create_default_context()
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ctx, server_hostname=host), timeout_s)
    except ssl.SSLCertVerificationError as exc:
        why = exc.verify_message or exc.reason or "not trusted"
        return f"TLS certificate verification failed ({why}); use --insecure to skip verification"
    except ssl.SSLError as exc:
        return f"TLS handshake failed ({exc.reason or exc})"
    except (TimeoutError, OSError):
        return None                  # not a TLS problem: the load will classify it
    writer.close()
    try:
        await writer.wait_closed()
    except (OSError, ssl.SSLError):
        pass
    return None


async def _ready_once(session: aiohttp.ClientSession, url: str) -> str | None:
    """None when GET ``url`` answers 200, else a short reason."""
    try:
        async with session.get(url, allow_redirects=False) as resp:
            await resp.read()
            return None if resp.status == 200 else f"HTTP {resp.status}"
    except TimeoutError:
        return "timeout"
    except aiohttp.ClientConnectorError:
        return "connection refused"
    except aiohttp.ClientError as exc:
        return type(exc).__name__


def _session(request: RequestSpec, timeout_s: float) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout_s),
        connector=aiohttp.TCPConnector(ssl=not request.insecure, force_close=True),
        headers=dict(request.headers),
    )


async def _wait(request: RequestSpec, wait_s: float) -> tuple[float, float]:
    """(seconds to first TCP accept, seconds to readiness 200) or TargetUnreachable."""
    host, port, shown = _host_port(request)
    t0 = time.perf_counter()
    give_up = t0 + wait_s
    per_try = min(max(request.timeout_s, 0.1), 5.0)
    while True:
        reason = await _connect_once(host, port, min(per_try, max(0.1, give_up - time.perf_counter())))
        if reason is None:
            break
        if time.perf_counter() >= give_up:
            waited = f" within {wait_s:g}s" if wait_s > 0 else ""
            raise TargetUnreachable(f"target {shown} is unreachable{waited}: {reason}")
        await asyncio.sleep(POLL_S)
    connected_s = time.perf_counter() - t0
    if urlsplit(request.target).scheme == "https" and not request.insecure:
        problem = await _tls_once(host, port, per_try)
        if problem is not None:
            raise TargetUnreachable(f"target {shown}: {problem}")
    path = request.readiness_path
    if not path or wait_s <= 0:
        return connected_s, connected_s
    url = request.target.rstrip("/") + "/" + path.lstrip("/")
    async with _session(request, per_try) as session:
        while True:
            reason = await _ready_once(session, url)
            if reason is None:
                return connected_s, time.perf_counter() - t0
            if time.perf_counter() >= give_up:
                raise TargetUnreachable(f"target {shown} never became ready: GET {path} did not "
                                        f"return 200 within {wait_s:g}s (last: {reason})")
            await asyncio.sleep(POLL_S)


def check_reachable(request: RequestSpec, wait_ready_s: float = 0.0) -> None:
    """Raise TargetUnreachable (exit 3) unless the target accepts a connection.

    With ``wait_ready_s > 0`` keep trying for that long, and when the request
    names a ``readiness_path`` also wait until it answers 200.
    """
    run_on_new_loop(_wait(request, max(0.0, wait_ready_s)))


def measure_cold_start(request: RequestSpec, timeout_s: float) -> tuple[float, ...]:
    """(seconds until the target accepted a TCP connection, seconds until it was ready).

    "Ready" is a 200 from ``readiness_path``; without one it equals the first
    figure. Polls every 50 ms from the moment of the call, so call it right after
    starting the target. Raises TargetUnreachable when not ready within ``timeout_s``.
    """
    connect_s, ready_s = run_on_new_loop(_wait(request, max(timeout_s, 0.05)))
    return (round(connect_s, 4), round(ready_s, 4))
