"""Open model: requests start on an absolute arrival schedule, whatever the responses do.

Started by the stage conductor (``stages.py``) for a ``rate`` stage. Request i is
due at ``t0 + i / rate`` (computed from i, so no drift accumulates). Its latency
is measured from its *scheduled* start, so a stalled server cannot hide its stall
by slowing the generator down (coordinated omission, handled as wrk2 and k6's
arrival-rate executors do).

Timing rules, chosen for an event loop whose timers fire with ~1 ms granularity
(uvloop's libuv timers are millisecond-based; asyncio's epoll timeout is too):

* a request is sent when it is due or at most ``EARLY_NS`` (1 ms) before; waking
  for a shorter sleep would only spin. Its latency counts from the earlier of
  its scheduled and its actual start: from the schedule when it started late,
  never from a time before it was sent when it started early.
* a request that starts more than ``LATE_NS`` (2 ms, twice the timer granularity)
  after its scheduled time is ``late``. It is still sent, and its latency still
  counts from the scheduled time. Late starts are split by cause: the in-flight
  bound was full (the target is slow; the measurement stays honest) or the loop
  itself was behind (the generator is the limit). Starts more than ``BEHIND_NS``
  (10 ms) late with a free slot are counted apart, with the 100 ms windows of
  the schedule they fell in and how late they were: ``health.py`` judges whether
  that delay recurred and mattered (a lone pause of the machine is not a
  generator that cannot keep the rate).
"""

from __future__ import annotations

import asyncio
from time import perf_counter_ns

from loadkit.engine.control import DONE, StageControl
from loadkit.engine.transport import TransportError
from loadkit.results import kinds

EARLY_NS = 1_000_000
LATE_NS = 2_000_000
BEHIND_NS = 10_000_000
BEHIND_WINDOW_NS = 100_000_000       # far-behind starts are placed in 100 ms windows of the schedule
MAX_BURST = 64                       # requests issued in a row before the pacer yields
# Default in-flight bound: enough for rate x timeout (every request of a full
# timeout window outstanding), at least 64, at most 1000 sockets.
MIN_IN_FLIGHT = 64
MAX_DEFAULT_IN_FLIGHT = 1000


def default_max_in_flight(rate: float, timeout_s: float) -> int:
    """The in-flight bound a rate stage gets when the scenario names none."""
    return max(MIN_IN_FLIGHT, min(MAX_DEFAULT_IN_FLIGHT, int(rate * timeout_s + 0.999)))


class PacerStats:
    """What the pacer saw of its own timing (read by the conductor and health)."""

    __slots__ = ("behind_lag_ns", "behind_windows", "end_ns", "far_behind", "lag_ns",
                 "late_behind", "late_blocked", "slot_waits", "stopped_ns", "t0_ns")

    def __init__(self) -> None:
        self.late_blocked = 0        # late because max_in_flight was full
        self.late_behind = 0         # late although a slot was free: the loop was behind
        self.far_behind = 0          # of those, more than BEHIND_NS late
        self.behind_windows: set[int] = set()  # ...in these 100 ms windows of the schedule
        self.behind_lag_ns = 0       # ...this late in total
        self.slot_waits = 0          # times issuing waited for a free in-flight slot
        self.lag_ns: list[int] = []  # actual start - scheduled start, per request (drained each second)
        self.t0_ns = 0
        self.stopped_ns = 0          # when issuing ended (0 while running)
        self.end_ns = 0              # the schedule's end, once it ran to its end (else 0)

    @property
    def late(self) -> int:
        return self.late_blocked + self.late_behind


async def pace(ctl: StageControl, rate: float, requests: int | None, duration_s: float | None,
               max_in_flight: int, stats: PacerStats,
               tasks: set[asyncio.Task[None]], t0_ns: int | None = None) -> None:
    """Issue the stage's requests on schedule until the duration or count is reached.

    The schedule starts at ``t0_ns`` (``perf_counter_ns``; default now): where
    the previous stage's schedule ended, so consecutive stages hand over without
    a gap. Having issued its last request the pacer waits out the rest of its
    schedule (up to one period) and records the schedule's end in
    ``stats.end_ns`` for the next stage to start from.
    """
    loop = asyncio.get_running_loop()
    clock = perf_counter_ns
    period_ns = 1e9 / rate
    t0 = stats.t0_ns = clock() if t0_ns is None else t0_ns
    deadline = t0 + int(duration_s * 1e9) if duration_s is not None else None
    slots = ctl.slots
    limit = requests
    offset, count = ctl.offset, ctl.count
    lags = stats.lag_ns
    blocked = False                  # waited for a slot since the last on-time start
    burst = 0                        # requests issued since the pacer last yielded
    i = 0
    try:
        while not ctl.stopping:
            sched = t0 + int(i * period_ns)
            if limit is not None and i >= limit:
                end = sched if deadline is None else min(sched, deadline)
                if await _wait_until(end, ctl):
                    stats.end_ns = end
                break
            if deadline is not None and sched >= deadline:
                if await _wait_until(deadline, ctl):
                    stats.end_ns = deadline
                break
            now = clock()
            if sched - now > EARLY_NS:
                burst = 0
                await asyncio.sleep((sched - now) / 1e9)
                continue
            if burst >= MAX_BURST:
                # Behind schedule: let responses and timers run between batches.
                burst = 0
                await asyncio.sleep(0)
                continue
            if slots.count >= max_in_flight:    # every stage's requests out count
                blocked = True
                burst = 0
                stats.slot_waits += 1
                waiter = slots.waiter = loop.create_future()
                await waiter
                continue
            start = clock()
            lag = start - sched
            lags.append(lag)
            if lag > LATE_NS:
                if blocked:
                    stats.late_blocked += 1
                else:
                    stats.late_behind += 1
                    if lag > BEHIND_NS:
                        stats.far_behind += 1
                        stats.behind_lag_ns += lag
                        stats.behind_windows.add((sched - t0) // BEHIND_WINDOW_NS)
            else:
                blocked = False
            ctl.acquire()
            task = loop.create_task(_one(ctl, min(start, sched),
                                         offset + i % count))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
            burst += 1
    finally:
        stats.stopped_ns = clock()
        ctl.request_stop(DONE)      # also when the pacer died: its stage must not hang


async def _wait_until(when_ns: int, ctl: StageControl) -> bool:
    """Sleep until ``when_ns`` (the end of the schedule); False if the stage was stopped first."""
    left = when_ns - perf_counter_ns()
    if left > EARLY_NS:
        await asyncio.sleep(left / 1e9)
    return not ctl.stopping


async def _one(ctl: StageControl, origin_ns: int, payload: int) -> None:
    # record_ok / record_error: the stage's recording pair (plain or by input), chosen once.
    try:
        status, body, done = await ctl.transport.send(payload)
    except TransportError as exc:
        latency_us = (perf_counter_ns() - origin_ns) // 1000
        ctl.release()
        ctl.record_error(exc.kind, latency_us, exc.status, payload)
    except Exception:  # noqa: BLE001 -- a transport bug must not lose the request
        latency_us = (perf_counter_ns() - origin_ns) // 1000
        ctl.release()
        ctl.record_error(kinds.OTHER, latency_us, None, payload)
    else:
        if ctl.stream is not None:          # a stream: timed by its StreamRead
            ctl.release()
            ctl.stream.settle(ctl, origin_ns, status, body, payload)  # type: ignore[arg-type]
            return
        latency_us = (done - origin_ns) // 1000          # stamped as the last byte arrived
        ctl.release()
        kind = ctl.failure(status, body)
        if kind is None:
            ctl.record_ok(latency_us, status, payload)
        else:
            ctl.record_error(kind, latency_us, status, payload)
            if kind not in ctl.sink.firsts:      # the error path only
                ctl.first_failure(kind, status, body)
