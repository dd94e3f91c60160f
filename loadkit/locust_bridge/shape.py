"""A scenario profile as a Locust ``LoadTestShape`` (imports locust).

Where it sits: ``locustfile`` asks for one shape class per profile it exposes.
Locust uses any LoadTestShape subclass it finds in the locustfile, so the
locustfile only binds these at module level when a profile was chosen (or, with
``--class-picker``, one per profile so the web UI can pick one or "Default" = by
hand). The steps come from ``schedule.plan_shape``; each time a new step begins the
bridge broadcasts it so every recording process starts a new loadkit stage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from locust import LoadTestShape

from loadkit.locust_bridge.schedule import ShapeClock, ShapeStep


def make_shape_class(profile_name: str, steps: Sequence[ShapeStep],
                     announce: Callable[[ShapeStep], None]) -> type[LoadTestShape]:
    """A LoadTestShape that runs ``steps`` in order and stops after the last one."""
    frozen_steps = tuple(steps)

    class LoadkitShape(LoadTestShape):
        loadkit_profile = profile_name
        loadkit_steps = frozen_steps
        use_common_options = False

        def __init__(self) -> None:
            super().__init__()
            self._clock = ShapeClock(frozen_steps)
            self._last: ShapeStep | None = None

        def reset_time(self) -> None:
            super().reset_time()
            self._clock.reset()
            self._last = None

        def tick(self) -> tuple[int, float] | None:
            runner = self.runner
            total = runner.stats.total.num_requests if runner is not None else 0
            step = self._clock.current(self.get_run_time(), total)
            if step is None:
                return None
            if step is not self._last:
                self._last = step
                announce(step)
            return step.users, step.spawn_rate

    LoadkitShape.__name__ = LoadkitShape.__qualname__ = f"profile_{profile_name}"
    return LoadkitShape
