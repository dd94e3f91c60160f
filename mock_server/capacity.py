"""Inference slots and the bounded wait queue, on a nominal timeline.

The app admits a /predict (or turns it away with 503 when every slot is busy
and the queue is full), waits here for a slot, then holds it for the sampled
service time. Slots are handed over FIFO.

Why a nominal timeline: an event-loop timer fires a little late (more so on
a busy CI machine), and if every service time overshot by that jitter a
server with 4 slots × 10 ms would plateau near 360 rps instead of 400. So a
slot remembers when its previous request *should* have finished, and the next
request it serves starts at that nominal time when it was already waiting;
the jitter is paid back instead of accumulating. The payback is capped at
``MAX_CATCHUP_S`` so a long pause (a stall, a blocked loop) never turns into
a burst of zero-time requests afterwards.
"""

from __future__ import annotations

import asyncio
from collections import deque

MAX_CATCHUP_S = 0.005


class Slots:
    """``capacity`` slots (0 = unlimited) and at most ``queue_limit`` waiters (None = unbounded)."""

    def __init__(self, capacity: int, queue_limit: int | None) -> None:
        self.capacity = capacity
        self.queue_limit = queue_limit
        self.busy = 0
        self.waiting = 0
        self._free_at: deque[float] = deque()  # nominal free times of idle slots
        self._waiters: deque[asyncio.Future[float]] = deque()

    def admit(self) -> bool:
        """False when a new request must be turned away: every slot busy and the queue full."""
        if self.capacity == 0 or self.busy < self.capacity:
            return True
        return self.queue_limit is None or self.waiting < self.queue_limit

    async def acquire(self, ready_at: float) -> float:
        """Take a slot; returns the nominal service start (>= ``ready_at``, the request's arrival)."""
        if self.capacity == 0 or (self.busy < self.capacity and not self._waiters):
            self.busy += 1
            free_at = self._free_at.popleft() if self._free_at else ready_at
            return max(ready_at, free_at)
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        self.waiting += 1
        try:
            free_at = await fut  # release() hands the slot over with its nominal free time
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():  # handed over just as we were cancelled
                self.release(fut.result())
            raise
        finally:
            self.waiting -= 1
        return max(ready_at, free_at)

    def release(self, free_at: float, now: float | None = None) -> None:
        """Give a slot back; ``free_at`` is when it nominally became free.

        With ``now`` the payback is capped: a slot never counts as free earlier
        than ``now - MAX_CATCHUP_S``.
        """
        if now is not None:
            free_at = max(free_at, now - MAX_CATCHUP_S)
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(free_at)
                return
        self.busy -= 1
        if self.capacity:
            self._free_at.append(free_at)
