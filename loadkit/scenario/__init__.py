"""The scenario file: schema, loading, ``${VAR}``, payloads, and profiles -> Stages.

Flow: ``load_scenario`` (file -> validated, frozen ``Scenario``) ->
``build_payloads`` (pre-encoded bodies per batch size) and ``compile_profile``
(each ``ProfileSpec`` -> ``Stage`` list for the engine). ``apply_overrides``
applies the command line's flags in between.

Imports are lazy (PEP 562, as in ``loadkit/__init__.py``): the engine imports
``loadkit.scenario.plan`` (plain dataclasses), and a spawned generator process
must not pay for pydantic and pandas (the schema and the dataset reader) just
because that import runs this file.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = [
    "Checks",
    "DatasetSpec",
    "PayloadSet",
    "ProfileSpec",
    "Recovery",
    "RequestSpec",
    "RequestTemplate",
    "Scenario",
    "Spike",
    "Stability",
    "Stage",
    "StopWhen",
    "apply_overrides",
    "build_payloads",
    "compile_profile",
    "load_scenario",
    "scenario_from_text",
]

_LAZY = {
    "Checks": "loadkit.scenario.plan",
    "DatasetSpec": "loadkit.scenario.model",
    "PayloadSet": "loadkit.scenario.plan",
    "ProfileSpec": "loadkit.scenario.model",
    "Recovery": "loadkit.scenario.model",
    "RequestSpec": "loadkit.scenario.plan",
    "RequestTemplate": "loadkit.scenario.model",
    "Scenario": "loadkit.scenario.model",
    "Spike": "loadkit.scenario.model",
    "Stability": "loadkit.scenario.plan",
    "Stage": "loadkit.scenario.plan",
    "StopWhen": "loadkit.scenario.model",
    "apply_overrides": "loadkit.scenario.overrides",
    "build_payloads": "loadkit.scenario.payloads",
    "compile_profile": "loadkit.scenario.profiles",
    "load_scenario": "loadkit.scenario.loader",
    "scenario_from_text": "loadkit.scenario.loader",
}

if TYPE_CHECKING:
    from loadkit.scenario.loader import load_scenario, scenario_from_text
    from loadkit.scenario.model import (
        DatasetSpec,
        ProfileSpec,
        Recovery,
        RequestTemplate,
        Scenario,
        Spike,
        StopWhen,
    )
    from loadkit.scenario.overrides import apply_overrides
    from loadkit.scenario.payloads import build_payloads
    from loadkit.scenario.plan import Checks, PayloadSet, RequestSpec, Stability, Stage
    from loadkit.scenario.profiles import compile_profile


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'loadkit.scenario' has no attribute {name!r}") from None
    value = getattr(import_module(module), name)
    globals()[name] = value          # resolved once; later lookups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
