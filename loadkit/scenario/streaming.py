"""A scenario's streaming parts as frozen values: StreamSpec, Slo, and their checks.

Where it sits: ``model.build_scenario`` calls these while it builds a Scenario from
the validated model (``llm_schema.py`` holds the pydantic side). Everything here
is refused before any dataset is read or any request sent (exit 2, naming the
field).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from loadkit.errors import ScenarioError
from loadkit.scenario.llm_schema import OPENAI_APIS, SloModel
from loadkit.scenario.plan import Slo, StreamSpec

if TYPE_CHECKING:
    from loadkit.scenario.model import Scenario
    from loadkit.scenario.schema import ScenarioModel


def slo_of(m: SloModel | None) -> Slo | None:
    return None if m is None else Slo(ttft_ms=m.ttft, itl_ms=m.itl, tpot_ms=m.tpot,
                                      latency_ms=m.latency)


def stream_spec(api: str, stream: bool | str | None, tokenizer: str | None,
            base_dir: Path) -> StreamSpec | None:
    """The StreamSpec of a request: openai-* stream unless ``stream: false``; http if asked."""
    path = None
    if tokenizer is not None:
        found = Path(tokenizer).expanduser()
        found = found if found.is_absolute() else (base_dir / found).resolve()
        if not found.is_file():
            raise ScenarioError("request.tokenizer", f"file not found: {tokenizer} (looked at "
                                f"{found}); a tokenizer is read locally, never downloaded")
        path = str(found)
    if api in OPENAI_APIS:
        return StreamSpec("openai", streamed=stream is not False, tokenizer=path)
    if isinstance(stream, str):
        return StreamSpec(stream, tokenizer=path)
    if path is not None:
        raise ScenarioError("request.tokenizer", "counts the tokens of a streamed answer: set "
                            "api: openai-chat / openai-completions, or stream: sse | chunks")
    return None



SLO_METRICS = ("goodput", "slo_attainment")


def check_slo_rules(m: ScenarioModel, scenario: Scenario) -> None:
    """A goodput or slo_attainment rule needs SLO bounds to count good requests by.

    Without an ``slo:`` block (the scenario's or the profile's) every request is
    neither good nor bad, and the rule could only end as "no data" after the run.
    """
    from loadkit.scenario.checks import rule_of  # checks imports this module's neighbours

    for i, (pm, spec) in enumerate(zip(m.profiles, scenario.profiles, strict=True)):
        if (spec.slo or scenario.slo) is not None:
            continue
        written = [(f"profiles[{i}].sla[{j}]", rule_of(e)) for j, e in enumerate(pm.sla)]
        written += [(f"sla[{j}]", rule_of(e)) for j, e in enumerate(m.sla)]
        for where, rule in written:
            if rule.metric in SLO_METRICS:
                raise slo_rule_without_slo(where, rule.metric, spec.name)


def slo_rule_without_slo(where: str, metric: str, profile: str) -> ScenarioError:
    """The refusal of a goodput/slo_attainment rule for a profile with no SLO bounds."""
    return ScenarioError(where, f"{metric} counts the requests within the SLO's bounds: add "
                         "an slo: block (e.g. slo: {ttft: 500ms, tpot: 50ms}), for profile "
                         f"{profile!r} or the scenario")


def check_streaming(m: ScenarioModel, scenario: Scenario) -> None:
    """What a streaming request cannot do, refused before anything is read or sent."""
    request = scenario.request
    if request.stream is None:
        slo_at = "slo" if m.slo is not None else next(
            (f"profiles[{i}].slo" for i, p in enumerate(m.profiles) if p.slo is not None), None)
        if slo_at is not None:
            raise ScenarioError(slo_at, "bounds streamed requests: set request.api "
                                "(openai-chat, openai-completions) or request.stream (sse, chunks)")
        return
    if m.checks.json_has or m.checks.body_contains:
        raise ScenarioError("checks.json_has" if m.checks.json_has else "checks.body_contains",
                            "a streamed answer is read event by event, not kept whole; only "
                            "checks.status applies (a broken stream is an error of its own)")
    if request.api in OPENAI_APIS:
        if not request.model:
            raise ScenarioError("request.model", f"required for api {request.api}: the name "
                                "of the served model (the body's \"model\")")
        if request.method != "POST":
            raise ScenarioError("request.method", f"{request.api} is POST (got {request.method})")
        if scenario.batch_sizes() != (1,):
            raise ScenarioError("request.batch_size", f"{request.api} sends one prompt per "
                                "request: batch_size must be 1")
        if scenario.dataset is None:
            raise ScenarioError("dataset", f"api {request.api} builds each body from a dataset "
                                "row: add a dataset with a prompt or messages column")
        if request.body is not None and not isinstance(request.body, dict):
            raise ScenarioError("request.body", f"with api {request.api} the body is a mapping "
                                "of extra fields merged into the request (e.g. temperature: 0)")
