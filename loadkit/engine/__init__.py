"""The engine: the only async code in loadkit.

Stages in, StageResults out. ``run_stages`` is the entry point (it owns its
event loop; ``run_stages_async`` runs on the caller's). Transports speak the
small ``Transport`` protocol: ``make_transport`` picks one ("fast" when it can
send the request exactly, "aiohttp" otherwise), or the caller passes its own
instance. See DESIGN.md "Measuring right" for what is promised.
"""

from __future__ import annotations

from loadkit.engine.factory import TRANSPORTS, make_transport, resolve_transport
from loadkit.engine.reachability import check_reachable, measure_cold_start
from loadkit.engine.prepare import EngineRun, combine_payloads
from loadkit.engine.run import run_stages, run_stages_async
from loadkit.engine.transport import Transport, TransportError

__all__ = [
    "TRANSPORTS",
    "EngineRun",
    "Transport",
    "TransportError",
    "check_reachable",
    "combine_payloads",
    "make_transport",
    "measure_cold_start",
    "resolve_transport",
    "run_stages",
    "run_stages_async",
]
