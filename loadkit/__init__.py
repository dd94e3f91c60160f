"""loadkit: load tests and performance SLAs for ML model HTTP endpoints.

The public API is the pipeline of DESIGN.md: ``load_scenario`` -> ``run`` ->
``RunResult`` (with ``Verdict``s from ``evaluate``). Imports are lazy so that
``import loadkit`` stays cheap and the Locust bridge can use the pure parts
without pulling in the asyncio engine.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "RunOptions",
    "RunResult",
    "Verdict",
    "__version__",
    "evaluate",
    "load_scenario",
    "run",
]

_LAZY = {
    "RunOptions": ("loadkit.runner", "RunOptions"),
    "RunResult": ("loadkit.results.model", "RunResult"),
    "Verdict": ("loadkit.results.model", "Verdict"),
    "evaluate": ("loadkit.sla", "evaluate"),
    "load_scenario": ("loadkit.scenario", "load_scenario"),
    "run": ("loadkit.runner", "run"),
}

if TYPE_CHECKING:
    from loadkit.results.model import RunResult, Verdict
    from loadkit.runner import RunOptions, run
    from loadkit.scenario import load_scenario
    from loadkit.sla import evaluate


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'loadkit' has no attribute {name!r}") from None
    return getattr(import_module(module), attr)
