"""The state one running stage shares between its senders and its conductor.

Workers (closed model) and the pacer (open model) read ``stopping`` between
requests and keep ``in_flight`` exact: it goes up before a send and down when a
request is recorded, so whatever is still counted when the stage cancels its
stragglers is the stage's ``in_flight_at_end`` (abandoned, not an error).

Stages overlap at a handover: the next stage issues while the previous one's
last requests complete. ``InFlight`` is the run-wide count the open model's
``max_in_flight`` bounds (every request the generator has out, whichever stage
issued it), and where a pacer waiting for a free slot parks its future.

``record_ok`` / ``record_error`` are the methods of the stage's own
``StageRecording`` the senders call (``(latency_us, status, payload)`` /
``(kind, latency_us, status, payload)``): chosen once per stage, so a stage
recorded by input (``ok_by_input``) costs a plain stage nothing, and a request
completing after the next stage began is still recorded in its own stage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from loadkit.engine.redirects import Tally

if TYPE_CHECKING:
    from loadkit.engine.stream_settle import StreamSettle
    from loadkit.engine.transport import Transport
    from loadkit.results.recorder import StageRecording
    from loadkit.scenario.plan import Checks

# Why a stage stopped issuing requests.
DEADLINE, DONE, STABLE, INTERRUPT, ABORT = "deadline", "done", "stable", "interrupt", "abort"


class InFlight:
    """Requests out across every stage of a run; one pacer may wait here for a slot."""

    __slots__ = ("count", "waiter")

    def __init__(self) -> None:
        self.count = 0
        self.waiter: asyncio.Future[None] | None = None

    def wake(self) -> None:
        w = self.waiter
        if w is not None:
            self.waiter = None
            if not w.done():
                w.set_result(None)


@dataclass(eq=False)
class StageControl:
    """Mutable per-stage state; lives on the event loop only (no locking)."""

    transport: Transport
    sink: StageRecording
    checks: Checks
    offset: int                     # first index of this stage's batch in the combined payloads
    count: int                      # how many payloads that batch has (>= 1)
    slots: InFlight = field(default_factory=InFlight)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: bool = False
    reason: str = ""
    in_flight: int = 0              # this stage's requests out
    issued: int = 0
    tally: Tally = field(default_factory=Tally)   # hops followed etc., added to by transports
    check_ns: int = 0               # time the stage's body checks held the loop...
    checked: int = 0                # ...over this many responses (0 unless checks read bodies)
    stream: StreamSettle | None = None  # a streaming endpoint: settles each answer (stream_settle)
    record_ok: Callable[..., Any] = field(init=False)     # sink.ok unless recorded by input
    record_error: Callable[..., Any] = field(init=False)  # sink.error, likewise
    failure: Callable[[int, bytes], str | None] = field(init=False)

    def __post_init__(self) -> None:
        self.record_ok = self.sink.ok
        self.record_error = self.sink.error
        # Checks that read the body (JSON, substrings) are timed: that work runs on the
        # loop, and a response arriving meanwhile waits for it (health judges how much).
        self.failure = self._timed_failure if self.checks.reads_body else self.checks.failure

    def _timed_failure(self, status: int, body: bytes) -> str | None:
        t0 = perf_counter_ns()
        kind = self.checks.failure(status, body)
        self.check_ns += perf_counter_ns() - t0
        self.checked += 1
        return kind

    def first_failure(self, kind: str, status: int, body: bytes) -> None:
        """Keep what the first ``kind`` failure of the stage was (``json_has predictions
        missing``) for the error summary. Senders call it on the error path only, and
        only while ``kind`` has none yet (``kind not in sink.firsts``)."""
        self.sink.firsts[kind] = self.checks.explain(status, body)

    def record_by_input(self) -> None:
        """Record this stage's requests by input (after ``Recorder.begin_breakdown``)."""
        self.record_ok = self.sink.ok_by_input
        self.record_error = self.sink.error_by_input

    def request_stop(self, reason: str) -> None:
        """Stop issuing; the first reason given wins."""
        if not self.stopping:
            self.stopping = True
            self.reason = reason
            self.stop.set()
            self.slots.wake()

    def acquire(self) -> None:
        """One request is about to be sent."""
        self.in_flight += 1
        self.slots.count += 1
        self.issued += 1

    def release(self) -> None:
        """One request finished (and is being recorded): free its slot."""
        self.in_flight -= 1
        slots = self.slots
        slots.count -= 1
        if slots.waiter is not None:
            slots.wake()

    def abandon(self) -> int:
        """Forget this stage's requests still out (their tasks were cancelled); how many."""
        n = self.in_flight
        self.in_flight = 0
        self.slots.count -= n
        self.slots.wake()
        return n
