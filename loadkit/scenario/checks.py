"""Cross-field checks of a scenario: each needs several fields at once, and names one.

Where it sits: ``model.build_scenario`` calls these once the schema (``schema.py``)
accepted every field on its own and the frozen values are built: duplicate profile
names, SLA rules scoped to a stage that the profile does not have, a search without a
rule it can search on, template placeholders that cannot be filled. Each raises one
ScenarioError naming the field (exit 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loadkit.errors import ScenarioError
from loadkit.scenario import profile_schema as s
from loadkit.scenario.schema import ScenarioModel
from loadkit.scenario.template import compile_template
from loadkit.sla import Rule, parse_rule

if TYPE_CHECKING:  # pragma: no cover
    from loadkit.scenario.model import ProfileSpec, Scenario


def rule_of(entry: str | s.SlaRuleModel) -> Rule:
    """A rule as written in the file (a string, or a mapping with abort/grace/stage)."""
    if isinstance(entry, str):
        return parse_rule(entry)
    return parse_rule(entry.rule, abort=entry.abort, grace_s=entry.grace, stage=entry.stage)


def check_profiles(profiles: tuple[ProfileSpec, ...]) -> None:
    seen: set[str] = set()
    for i, p in enumerate(profiles):
        if p.name in seen:
            raise ScenarioError(f"profiles[{i}].name", f"duplicate profile name {p.name!r}")
        seen.add(p.name)


def _stage_field(where: str, entry: str | s.SlaRuleModel) -> str:
    return where if isinstance(entry, str) else f"{where}.stage"


def _span(indices: list[int]) -> str:
    if len(indices) == 1:
        return f"stage is {indices[0]}"
    return f"stages are {indices[0]}-{indices[-1]}"


def check_sla_stages(m: ScenarioModel, scenario: Scenario) -> None:
    """A rule scoped to a stage must name a measured stage of its own profile.

    Stage indices are the ones reports print (``compile_profile``'s: a warm-up stage,
    when there is one, is 0). A global rule cannot be scoped: profiles differ.
    """
    from loadkit.scenario.profiles import compile_profile  # profiles imports this module

    for j, entry in enumerate(m.sla):
        if rule_of(entry).stage is not None:
            raise ScenarioError(_stage_field(f"sla[{j}]", entry),
                                "a stage belongs to one profile: put this rule in that "
                                "profile's sla")
    for i, (pm, spec) in enumerate(zip(m.profiles, scenario.profiles, strict=True)):
        scoped = [(j, e, rule_of(e).stage) for j, e in enumerate(pm.sla)]
        scoped = [(j, e, n) for j, e, n in scoped if n is not None]
        if not scoped:
            continue
        stages = compile_profile(spec, scenario)
        measured = [st.index for st in stages if not st.warmup]
        warmup = [st.index for st in stages if st.warmup]
        for j, entry, n in scoped:
            if n in measured:
                continue
            if n in warmup:
                what = f"stage {n} is the warm-up of profile {spec.name!r}, which no SLA judges"
            else:
                what = f"stage {n} is out of range for profile {spec.name!r}"
            note = f" (stage {warmup[0]} is its warm-up)" if warmup and n not in warmup else ""
            raise ScenarioError(_stage_field(f"profiles[{i}].sla[{j}]", entry),
                                f"{what}: its measured {_span(measured)}{note}, numbered as "
                                "in the report's step column")


def check_search_rules(m: ScenarioModel, scenario: Scenario) -> None:
    """A search needs a rule that load can break (latency or error rate), unscoped.

    Its probes are decided as it runs, so a rule scoped to one of its stages names
    nothing known in advance; and with no such rule every probe would hold.
    """
    from loadkit.sla.evaluate import LOAD_BROKEN_METRICS

    for i, (pm, spec) in enumerate(zip(m.profiles, scenario.profiles, strict=True)):
        if spec.kind != "search":
            continue
        for j, entry in enumerate(pm.sla):
            if rule_of(entry).stage is not None:
                raise ScenarioError(_stage_field(f"profiles[{i}].sla[{j}]", entry),
                                    "a search decides its probes as it runs: a rule cannot be "
                                    "scoped to one of its stages")
        # the default rule (no sla: anywhere) judges a run, but a search is asked for
        # a capacity under the user's own SLA: it does not choose one for them
        chosen = spec.sla if spec.sla_origin != "default" else ()
        usable = [r for r in chosen if r.metric in LOAD_BROKEN_METRICS and not r.abort]
        if not usable:
            given = ", ".join(r.expr for r in chosen)
            raise ScenarioError(f"profiles[{i}].sla",
                                "a search needs a latency or error-rate rule to search on "
                                "(e.g. p99 < 300ms or error_rate < 1%), in the profile's sla "
                                "or the global sla" + (f"; it has only {given}" if given
                                                       else "; it has none"))


def check_template(scenario: Scenario) -> None:
    """Placeholders that cannot work are refused at load time, before any dataset is read."""
    template = compile_template(scenario.request.body)
    if template.uses_rows and scenario.dataset is None:
        hole = template.holes[0]
        raise ScenarioError(hole.where, f"'{{{{ {hole.expr} }}}}' needs a dataset; add a "
                                        "dataset: block")
    big = [b for b in scenario.batch_sizes() if b > 1]
    if template.per_row and big:
        hole = template.per_row[0]
        raise ScenarioError(hole.where, f"'{{{{ {hole.expr} }}}}' takes one row but batch_size "
                                        f"{big[0]} is used; use {{{{ rows }}}} or "
                                        f"{{{{ rows.{hole.column or 'COLUMN'} }}}}")
    for i, p in enumerate(scenario.profiles):
        if p.breakdown and p.breakdown != "payload_bytes" and scenario.dataset is None:
            raise ScenarioError(f"profiles[{i}].breakdown", f"column {p.breakdown!r} needs a "
                                "dataset (or use breakdown: payload_bytes)")
