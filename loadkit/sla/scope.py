"""What a verdict was judged on: the whole profile, one stage, or the steps of a ramp/stress.

Sits beside ``evaluate``: reporters call ``scope_of`` so that every format says
the same true thing about a verdict. ``Verdict.stage`` alone is ambiguous in a
stepped profile: for a latency or error-rate rule it is the first step that
BROKE the rule, while the verdict itself was judged on the first (lightest) step;
for a rule scoped to a stage it is the stage judged. The two are told apart by
the reason ``evaluate`` wrote: only a stage-scoped verdict speaks of a "stage N"
(stepped verdicts speak of "step N"), a wording ``evaluate`` keeps on purpose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from loadkit.results.model import ProfileResult, Verdict
from loadkit.sla.evaluate import LOAD_BROKEN_METRICS, STEPPED_KINDS, load_steps

ScopeKind = Literal["profile", "stage", "steps", "operating_point"]

_SCOPED = re.compile(r"\bstage \d+\b")
_OPERATING = re.compile(r"\bat the operating point, step (\d+)\b")


@dataclass(frozen=True)
class VerdictScope:
    """``judged``: the stage index the observed value was read on (None: the profile's
    measured stages together, or unknown); ``broken``: for ``steps``, the first step
    that broke the rule (None when every step held)."""

    kind: ScopeKind
    judged: int | None = None
    broken: int | None = None


def scope_of(profile: ProfileResult | None, v: Verdict) -> VerdictScope:
    """How ``v`` was judged, read from its profile (None when the profile did not run)."""
    if v.stage is not None and _SCOPED.search(v.reason):
        return VerdictScope("stage", judged=v.stage)
    if profile is None or profile.kind not in STEPPED_KINDS:
        return VerdictScope("profile") if v.stage is None else VerdictScope("stage", judged=v.stage)
    steps = load_steps(profile)
    if not steps:
        return VerdictScope("profile")
    if v.metric in LOAD_BROKEN_METRICS:
        return VerdictScope("steps", judged=steps[0].index, broken=v.stage)
    found = _OPERATING.search(v.reason)
    judged = v.stage if v.stage is not None else (int(found.group(1)) if found else None)
    return VerdictScope("operating_point", judged=judged)
