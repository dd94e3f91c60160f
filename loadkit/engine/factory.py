"""Choosing a transport: ``make_transport("aiohttp" | "fast" | "auto", ...)``.

The engine asks here once per run. ``auto`` takes the fast transport when its
module is present and its ``supports(request)`` says the request needs nothing it
lacks; otherwise aiohttp, which speaks everything. The chosen transport's
``name`` is what the result reports.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from loadkit.engine.aiohttp_transport import AiohttpTransport
from loadkit.errors import UsageError

if TYPE_CHECKING:
    from loadkit.engine.transport import Transport
    from loadkit.scenario.plan import PayloadSet, RequestSpec

TRANSPORTS = ("auto", "aiohttp", "fast")


def _fast_module() -> ModuleType | None:
    try:
        return importlib.import_module("loadkit.engine.fast_transport")
    except ImportError:
        return None


def fast_available(request: RequestSpec | None = None) -> bool:
    """True when the fast transport exists and (given a request) can send it exactly."""
    mod = _fast_module()
    if mod is None or not hasattr(mod, "FastTransport"):
        return False
    if request is None:
        return True
    supports = getattr(mod, "supports", None)
    return bool(supports(request)) if callable(supports) else True


def resolve_transport(name: str, request: RequestSpec) -> str:
    """The concrete transport name ``name`` stands for with this request."""
    if name not in TRANSPORTS:
        raise UsageError(f"transport: unknown transport {name!r} (choose auto, aiohttp or fast)")
    if name == "auto":
        return "fast" if fast_available(request) else "aiohttp"
    if name == "fast":
        if not fast_available():
            raise UsageError("transport: the fast transport is not available in this install")
        if not fast_available(request):
            mod = _fast_module()
            why = getattr(mod, "unsupported", lambda r: None)(request) or "this request"
            raise UsageError(f"transport: the fast transport cannot send {why}; use "
                             f"--transport aiohttp (or auto, which picks it)")
    return name


def make_transport(name: str, request: RequestSpec, payloads: PayloadSet,
                   connections: int) -> Transport:
    """A transport for ``request`` over ``payloads`` with a pool of ``connections``."""
    concrete = resolve_transport(name, request)
    if request.stream is not None:
        if concrete == "fast":
            from loadkit.engine.stream_fast import FastStreamTransport

            return FastStreamTransport(request, payloads, connections)
        from loadkit.engine.stream_aiohttp import AiohttpStreamTransport

        return AiohttpStreamTransport(request, payloads, connections)  # type: ignore[return-value]
    if concrete == "fast":
        mod = _fast_module()
        assert mod is not None
        return mod.FastTransport(request, payloads, connections)  # type: ignore[no-any-return]
    return AiohttpTransport(request, payloads, connections)
