"""Which measured stages of a stepped profile are load steps and which are recovery.

Shared by the SLA verdicts (which judge ramp/stress rules per step) and the
analysis (knee, breaking point, recovery time), so both agree on what a step is.
A stage's ``role`` says it (``recovery``: after the heaviest step; ``warmup``:
never judged); no label is read.
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
    return ([s for s in measured if s.role != "recovery"],
            [s for s in measured if s.role == "recovery"])
