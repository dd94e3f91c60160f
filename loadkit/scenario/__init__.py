"""The scenario file: schema, loading, ``${VAR}``, payloads, and profiles -> Stages.

Flow: ``load_scenario`` (file -> validated, frozen ``Scenario``) ->
``build_payloads`` (pre-encoded bodies per batch size) and ``compile_profile``
(each ``ProfileSpec`` -> ``Stage`` list for the engine). ``apply_overrides``
applies the command line's flags in between.
"""

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
