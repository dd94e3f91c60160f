"""loadkit: load tests and performance SLAs for ML model HTTP endpoints.

The public API (DESIGN.md, "Python API and pytest")::

    import loadkit
    result = loadkit.run("scenarios/quickstart.yaml", target=URL, duration="30s",
                         sla=["p99 < 200ms"])
    result.passed, result.status, result.exit_code, result.failed_verdicts
    loadkit.assert_sla(result)              # AssertionError naming each failed rule
    loadkit.write_reports(result, "reports/run-1", formats="json,junit")
    result = await loadkit.run_async(...)   # the same inside a running event loop

and the pieces it is made of: ``load_scenario`` / ``Scenario``, the result
codec (``dumps``, ``loads``, ``read``), ``judge`` (a RunResult's analysis,
verdicts and ``Status`` derived from what it stores), ``evaluate``, the error tree
(``LoadkitError`` and its subclasses, each with its ``exit_code``).
``loadkit.testing`` has a scripted ``MockTransport`` and a RunResult builder
for tests; the pytest plugin (``loadkit_run`` fixture) registers on install.

Imports are lazy (PEP 562) so that ``import loadkit`` stays cheap and the
Locust bridge can use the pure parts without pulling in the asyncio engine.
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "DatasetError",
    "Interrupted",
    "LoadkitError",
    "RunOptions",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SlaSyntaxError",
    "Status",
    "TargetUnreachable",
    "UsageError",
    "Verdict",
    "__version__",
    "assert_sla",
    "dumps",
    "evaluate",
    "judge",
    "load_scenario",
    "loads",
    "read",
    "run",
    "run_async",
    "write_reports",
]

_LAZY = {
    "DatasetError": "loadkit.errors",
    "Interrupted": "loadkit.errors",
    "LoadkitError": "loadkit.errors",
    "RunOptions": "loadkit.runner",
    "RunResult": "loadkit.results.model",
    "Scenario": "loadkit.scenario",
    "ScenarioError": "loadkit.errors",
    "SlaSyntaxError": "loadkit.errors",
    "Status": "loadkit.results.status",
    "TargetUnreachable": "loadkit.errors",
    "UsageError": "loadkit.errors",
    "Verdict": "loadkit.results.model",
    "assert_sla": "loadkit.api",
    "dumps": "loadkit.results.codec",
    "evaluate": "loadkit.sla",
    "judge": "loadkit.judge",
    "load_scenario": "loadkit.scenario",
    "loads": "loadkit.results.codec",
    "read": "loadkit.results.codec",
    "run": "loadkit.api",
    "run_async": "loadkit.api",
    "write_reports": "loadkit.api",
}

if TYPE_CHECKING:
    from loadkit.api import assert_sla, run, run_async, write_reports
    from loadkit.errors import (
        DatasetError,
        Interrupted,
        LoadkitError,
        ScenarioError,
        SlaSyntaxError,
        TargetUnreachable,
        UsageError,
    )
    from loadkit.results.codec import dumps, loads, read
    from loadkit.judge import judge
    from loadkit.results.model import RunResult, Verdict
    from loadkit.results.status import Status
    from loadkit.runner import RunOptions
    from loadkit.scenario import Scenario, load_scenario
    from loadkit.sla import evaluate


class _Package(types.ModuleType):
    """``loadkit.judge`` is the function, though ``loadkit/judge.py`` shares its name.

    Importing a submodule sets it as an attribute of its package, which would hide
    the lazily exported function of the same name; the module stays importable as
    ``loadkit.judge`` (``from loadkit.judge import judge_profile``) all the same.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == f"{__name__}.{name}":
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'loadkit' has no attribute {name!r}") from None
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
