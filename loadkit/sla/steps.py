"""Which measured stages of a stepped profile are load steps and which are recovery.

Shared by the SLA verdicts (which judge ramp/stress rules per step) and the
analysis (knee, breaking point, recovery time), so both agree on what a step is.

A recovery stage is a measured stage whose label mentions "recovery" (the
scenario compiler's convention), or, in a stress profile whose labels name none,
the stages after the heaviest step when all of them run at a lower rate.
"""

from __future__ import annotations

from loadkit.results.model import ProfileResult, StageResult


def load_of(stage: StageResult) -> float:
    """The load a stage was asked for: its rate, else its concurrency (0 if neither)."""
    if stage.rate is not None:
        return float(stage.rate)
    return float(stage.concurrency or 0)


def split_steps(profile: ProfileResult) -> tuple[list[StageResult], list[StageResult]]:
    """(load steps, recovery stages) among the profile's measured stages, in run order."""
    measured = sorted(profile.measured_stages(), key=lambda s: s.index)
    if any("recovery" in s.label.lower() for s in measured):
        steps = [s for s in measured if "recovery" not in s.label.lower()]
        return steps, [s for s in measured if "recovery" in s.label.lower()]
    if not measured or profile.kind != "stress":
        return measured, []
    peak = max(range(len(measured)), key=lambda i: (load_of(measured[i]), -i))
    tail = measured[peak + 1:]
    if tail and all(load_of(s) < load_of(measured[peak]) for s in tail):
        return measured[:peak + 1], tail
    return measured, []
