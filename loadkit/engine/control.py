"""The state one running stage shares between its senders and its conductor.

Workers (closed model) and the pacer (open model) read ``stopping`` between
requests and keep ``in_flight`` exact: it goes up before a send and down when a
request is recorded, so whatever is still counted when the stage cancels its
stragglers is the stage's ``in_flight_at_end`` (abandoned, not an error).

``record_ok`` / ``record_error`` are the recorder's methods the senders call
(``(latency_us, status, payload)`` / ``(kind, latency_us, status, payload)``):
chosen once per stage, so a stage recorded by input (``Recorder.ok_by_input``)
costs a plain stage nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loadkit.engine.transport import Transport
    from loadkit.results.recorder import Recorder
    from loadkit.scenario.plan import Checks

# Why a stage stopped issuing requests.
DEADLINE, DONE, STABLE, INTERRUPT, ABORT = "deadline", "done", "stable", "interrupt", "abort"


@dataclass(eq=False)
class StageControl:
    """Mutable per-stage state; lives on the event loop only (no locking)."""

    transport: Transport
    recorder: Recorder
    checks: Checks
    offset: int                     # first index of this stage's batch in the combined payloads
    count: int                      # how many payloads that batch has (>= 1)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: bool = False
    reason: str = ""
    in_flight: int = 0
    issued: int = 0
    slot_waiter: asyncio.Future[None] | None = None
    record_ok: Callable[..., Any] = field(init=False)     # recorder.ok unless recorded by input
    record_error: Callable[..., Any] = field(init=False)  # recorder.error, likewise

    def __post_init__(self) -> None:
        self.record_ok = self.recorder.ok
        self.record_error = self.recorder.error

    def record_by_input(self) -> None:
        """Record this stage's requests by input (after ``Recorder.begin_breakdown``)."""
        self.record_ok = self.recorder.ok_by_input
        self.record_error = self.recorder.error_by_input

    def request_stop(self, reason: str) -> None:
        """Stop issuing; the first reason given wins."""
        if not self.stopping:
            self.stopping = True
            self.reason = reason
            self.stop.set()
            self.wake()

    def release(self) -> None:
        """One request finished and was recorded: free its slot."""
        self.in_flight -= 1
        w = self.slot_waiter
        if w is not None:
            self.slot_waiter = None
            if not w.done():
                w.set_result(None)

    def wake(self) -> None:
        w = self.slot_waiter
        if w is not None and not w.done():
            w.set_result(None)
