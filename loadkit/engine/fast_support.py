"""What the fast transport can send exactly as aiohttp would, and why not when it cannot.

The engine's factory asks this before it picks the fast transport for a scenario,
so the default choice can fall back to aiohttp honestly, naming the reason (a
scheme, a method, a framing header, an encoding, a proxy) in the message that
says to use ``--transport aiohttp``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

from loadkit.engine.encoding import unsupported_coding
from loadkit.engine.fast_protocol import FRAMING_HEADERS

if TYPE_CHECKING:
    from loadkit.scenario.plan import RequestSpec

SUPPORTED_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def unsupported(request: RequestSpec) -> str | None:
    """Why the fast transport cannot send this request exactly as aiohttp would (None: it can).

    Each reason names the header or feature, for the message that says to use
    ``--transport aiohttp``: a scheme other than http/https, a HEAD request (the
    response parser would wait for a body), a framing header set by the scenario
    (Transfer-Encoding, Connection, Expect...), an Accept-Encoding naming a coding
    other than gzip/deflate (br, zstd: not decoded here), a proxy in the environment.
    """
    try:
        parts = urlsplit(request.url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        return f"the target URL's port is not a number ({request.target!r})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"the scheme {parts.scheme!r} (http and https only)"
    if request.method.upper() not in SUPPORTED_METHODS:
        return f"the method {request.method.upper()} (HEAD answers carry no body to wait for)"
    for name, _ in request.headers:
        if name.lower() in FRAMING_HEADERS:
            return f"the header {name} (the fast transport frames requests itself)"
    coding = unsupported_coding(request.headers)
    if coding is not None:
        return f"Accept-Encoding: {coding} (the fast transport decodes gzip and deflate only)"
    proxies = getproxies()
    if (parts.scheme in proxies or "all" in proxies) and not proxy_bypass(parts.hostname):
        return "a proxy named in the environment (http_proxy / all_proxy)"
    return None


def supports(request: RequestSpec) -> bool:
    """True when the fast transport can send this request exactly as aiohttp would."""
    return unsupported(request) is None
