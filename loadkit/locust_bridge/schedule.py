"""A profile's Stages as Locust load-shape steps (pure; no locust import).

Where it sits: ``compile_profile`` gives Stages; this turns them into steps a
``LoadTestShape`` returns from ``tick()`` (users, spawn rate) plus what the users
need to know (per-user pacing, batch size), and ``ShapeClock`` decides which step
is current. ``shape.py`` wraps this for Locust.

Closed stages map one to one: ``concurrency: N`` is N users, each sending its next
request when the last one finishes. Open stages (``rate: R``) cannot be mapped
exactly, because Locust has no arrival-rate executor: they become ``users`` users
each paced with ``constant_throughput(R / users)``. That is still a closed model —
a user whose response takes longer than its pacing interval falls behind, the
offered rate drops, and latency is measured from the actual send rather than
from the scheduled one (coordinated omission). The gate flags such a stage
(achieved < 90% of the target) as the generator falling behind.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from loadkit.errors import ScenarioError
from loadkit.scenario.plan import Stage

FELL_BEHIND_FRACTION = 0.90


@dataclass(frozen=True)
class ShapeStep:
    """One stage as Locust runs it."""

    index: int
    label: str
    users: int
    spawn_rate: float                 # users started per second when entering the step
    duration_s: float | None          # whichever of duration / requests comes first
    requests: int | None
    warmup: bool = False
    batch_size: int = 1
    concurrency: int | None = None    # the stage's closed-model load, as planned
    rate: float | None = None         # the stage's target arrival rate, as planned
    user_rps: float | None = None     # per-user pacing (constant_throughput); None: no wait
    role: str = ""                    # the Stage's result role ("": warmup/measured)

    def message(self) -> dict[str, object]:
        """What the master broadcasts to workers when this step begins."""
        return {"index": self.index, "label": self.label, "warmup": self.warmup,
                "batch_size": self.batch_size, "user_rps": self.user_rps,
                "concurrency": self.concurrency, "rate": self.rate}


def users_for_rate(rate: float, user_rps: float, max_in_flight: int | None = None) -> int:
    """How many paced users offer ``rate``: enough that none is asked for more than ``user_rps``."""
    users = max(1, math.ceil(rate / user_rps - 1e-9))
    if max_in_flight is not None:
        users = max(1, min(users, max_in_flight))
    return users


def plan_shape(stages: Sequence[Stage], *, user_rps: float = 10.0) -> tuple[ShapeStep, ...]:
    """The steps for ``stages``; ``user_rps`` is the pacing ceiling per user for rate stages."""
    if user_rps <= 0:
        raise ScenarioError("user_rps", "must be positive")
    steps = []
    for s in stages:
        duration = s.duration_s
        if duration is None and s.stability is not None:
            duration = s.stability.max_duration_s
        if duration is None and s.requests is None:
            raise ScenarioError(f"stages[{s.index}]", "has neither a duration nor a request count")
        if s.rate is not None:
            users = users_for_rate(s.rate, user_rps, s.max_in_flight)
            pacing: float | None = s.rate / users
        else:
            users = int(s.concurrency or 1)
            pacing = None
        steps.append(ShapeStep(
            index=s.index, label=s.label, users=users, spawn_rate=float(max(users, 1)),
            duration_s=duration, requests=s.requests, warmup=s.warmup,
            batch_size=s.batch_size, concurrency=s.concurrency, rate=s.rate, user_rps=pacing,
            role=s.role,
        ))
    return tuple(steps)


class ShapeClock:
    """Which step is current, given the time and the request count so far.

    A step ends when its duration has passed or its request budget is spent
    (Locust's request count; on a master it lags by up to one worker report).
    """

    def __init__(self, steps: Sequence[ShapeStep]) -> None:
        self.steps = tuple(steps)
        self.position = 0
        self._t0: float | None = None
        self._requests0 = 0

    def reset(self) -> None:
        self.position = 0
        self._t0 = None
        self._requests0 = 0

    def _done(self, step: ShapeStep, now_s: float, requests: int) -> bool:
        assert self._t0 is not None
        if step.duration_s is not None and now_s - self._t0 >= step.duration_s:
            return True
        return step.requests is not None and requests - self._requests0 >= step.requests

    def current(self, now_s: float, total_requests: int) -> ShapeStep | None:
        """The step to run now, or None once the last one is over."""
        while self.position < len(self.steps):
            step = self.steps[self.position]
            if self._t0 is None:
                self._t0, self._requests0 = now_s, total_requests
                return step
            if not self._done(step, now_s, total_requests):
                return step
            self.position += 1
            self._t0 = None
        return None

    @property
    def total_duration_s(self) -> float | None:
        total = 0.0
        for s in self.steps:
            if s.duration_s is None:
                return None
            total += s.duration_s
        return total
