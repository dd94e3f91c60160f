"""Fault injection: which request fails and how, and when the whole server stalls.

Sits beside latency.py under the app: the app asks ``FaultPicker.pick()`` once per
valid /predict and ``StallClock.remaining_s(now)`` before admitting a request
and before answering it. One uniform draw per request chooses at most one
fault, so each configured rate is hit on its own (10% errors are 10% of
requests, not 10% of what the other faults left over). The generator is
seeded, so a run with the same seed and the same arrival order fails the same
requests.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from mock_server.units import parse_duration_s

# Order matters only for reproducibility: the picker walks the rates cumulatively.
FAULT_KINDS: tuple[str, ...] = (
    "error",  # HTTP 500 after the service time
    "unavailable",  # HTTP 503 + Retry-After at once, without taking a slot
    "reset",  # connection aborted after the service time (no response at all)
    "hang",  # no response until the client gives up (or hang_s passes)
    "malformed",  # 200 with a body that is not valid JSON
    "slow_body",  # 200 whose bytes are trickled over trickle_s (chunked)
    "large_body",  # 200 with a valid JSON body padded to large_body_bytes
)

STALL_SYNTAX = "DURATION@every:PERIOD or DURATION@at:OFFSET (e.g. 1s@every:5s, 1s@at:3s)"


@dataclass(frozen=True)
class FaultRates:
    """Probability of each fault kind per valid /predict request; their sum is <= 1."""

    error: float = 0.0
    unavailable: float = 0.0
    reset: float = 0.0
    hang: float = 0.0
    malformed: float = 0.0
    slow_body: float = 0.0
    large_body: float = 0.0

    def __post_init__(self) -> None:
        total = sum(getattr(self, kind) for kind in FAULT_KINDS)
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {total:.3g}, more than 1 (100%)")

    @property
    def any(self) -> bool:
        return any(getattr(self, kind) > 0 for kind in FAULT_KINDS)


class FaultPicker:
    """Draws the fault (or None) for each request from a seeded generator."""

    def __init__(self, rates: FaultRates, seed: int = 0) -> None:
        self._rng = random.Random(f"faults:{seed}")
        self._cumulative: list[tuple[float, str]] = []
        edge = 0.0
        for kind in FAULT_KINDS:
            rate = getattr(rates, kind)
            if rate > 0:
                edge += rate
                self._cumulative.append((edge, kind))

    def pick(self) -> str | None:
        if not self._cumulative:
            return None
        u = self._rng.random()
        for edge, kind in self._cumulative:
            if u < edge:
                return kind
        return None


@dataclass(frozen=True)
class Stall:
    """All /predict responses pause for ``duration_s``: periodically or once.

    Times count from the first /predict request the server sees, so a stall
    lands inside a load test however long the client took to start.
    ``every``: windows start at P, 2P, 3P, ... ; ``at``: one window at T.
    """

    duration_s: float
    mode: str  # "every" | "at"
    when_s: float  # the period (every) or the offset (at)

    @property
    def spec(self) -> str:
        return f"{self.duration_s:g}s@{self.mode}:{self.when_s:g}s"

    @classmethod
    def parse(cls, spec: str) -> Stall | None:
        """Read ``1s@every:5s`` / ``1s@at:3s``; ``none`` or ``off`` mean no stall."""
        if not isinstance(spec, str):
            raise ValueError(f"expected a stall ({STALL_SYNTAX}), got {spec!r}")  # noqa: TRY004
        if spec.strip().lower() in ("", "none", "off"):
            return None
        duration, sep, schedule = spec.partition("@")
        mode, sep2, when = schedule.partition(":")
        mode = mode.strip().lower()
        if not sep or not sep2 or mode not in ("every", "at"):
            raise ValueError(f"{spec!r} is not a stall (use {STALL_SYNTAX})")
        try:
            duration_s, when_s = parse_duration_s(duration), parse_duration_s(when)
        except ValueError as exc:
            raise ValueError(f"{spec!r}: {exc}") from None
        if duration_s <= 0:
            raise ValueError(f"{spec!r}: the stall duration must be > 0")
        if mode == "every" and not duration_s < when_s:
            raise ValueError(f"{spec!r}: the stall must be shorter than its period")
        return cls(duration_s, mode, when_s)


class StallClock:
    """Answers "how long until the current stall ends?" on the server's monotonic clock."""

    def __init__(self, stall: Stall | None) -> None:
        self._stall = stall
        self._origin: float | None = None

    def start(self, now: float) -> None:
        """Anchor the schedule at the first request (later calls do nothing)."""
        if self._origin is None:
            self._origin = now

    def remaining_s(self, now: float) -> float:
        """Seconds left in the stall window containing ``now``; 0 outside any window."""
        stall, origin = self._stall, self._origin
        if stall is None or origin is None:
            return 0.0
        t = now - origin
        if stall.mode == "at":
            start = stall.when_s
        else:
            if t < stall.when_s:
                return 0.0
            start = math.floor(t / stall.when_s) * stall.when_s
        end = start + stall.duration_s
        return end - t if start <= t < end else 0.0
