"""Generator health: did loadkit itself keep up with the load it was asked to drive?

Runs beside the stages for the whole of ``run_stages``. It samples event-loop
lag every ~100 ms (a sleeper task: how late did its timer fire?), collects the
pacer's schedule lag (drained into an HDR histogram once a second, so the hot
path only appends an integer), CPU share (``process_time`` / wall) and max RSS.
``result()`` turns that into a ``GeneratorHealth``; ``fell_behind`` makes the run
inconclusive, because a latency measured by a starved generator includes the
generator's own delay.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time
from dataclasses import dataclass
from time import perf_counter_ns

import numpy as np

from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import GeneratorHealth

SAMPLE_S = 0.1
# Bounds past which the generator, not the target, limited the run.
MIN_RATE_SHARE = 0.95            # an open stage must send >= 95% of its scheduled requests
MAX_LOOP_LAG_MS = 50.0           # a loop-lag sample above this is a stall...
MAX_LAGGED_SHARE = 0.01          # ...and stalls in more than 1% of samples,
MIN_LAGGED_SAMPLES = 2           # and more than one (a lone hiccup is not a trend), mean starved
# Late starts (> 10 ms late with a free in-flight slot) make an open stage's
# measurement the generator's only when all three hold: they are
MAX_BEHIND_SHARE = 0.01          # more than 1% of its requests (so they reach its p99),
MIN_BEHIND_WINDOWS = 3           # recur: in at least 3 distinct 100 ms windows of its schedule
MIN_BEHIND_WINDOW_SHARE = 0.10   # and in at least 10% of them (a lone pause of a shared box
                                 # hits one or two), and
MIN_BEHIND_OF_P99 = 0.10         # matter: late on average by >= 10% of the stage's p99
                                 # (20 ms late under a 260 ms overload p99 decides nothing)
MIN_JUDGED_REQUESTS = 20         # too few scheduled requests say nothing about the rate
# Client work (body checks on the loop): a response that arrives while a check runs
# waits for it. With the loop busy a share rho of the time in checks of mean d, the
# mean wait is rho*d / (2*(1-rho)) (M/D/1). Past this share of the stage's p50, the
# generator's own work is in the latencies and the run cannot speak for the server.
MAX_CHECK_WAIT_OF_P50 = 0.10


@dataclass(frozen=True)
class OpenStageReport:
    """What one open-model stage asked for and what the pacer managed."""

    label: str
    rate: float
    scheduled: int          # requests due while the pacer was issuing
    issued: int
    far_behind: int         # started > 10 ms late although an in-flight slot was free
    warmup: bool
    slot_waits: int = 0     # times the pacer waited because max_in_flight was full
    behind_windows: int = 0  # distinct 100 ms windows of the schedule with a far-behind start
    windows: int = 0        # 100 ms windows in the schedule
    behind_lag_ms: float = 0.0  # mean lateness of the far-behind starts
    p99_ms: float | None = None  # the stage's p99 (None: unknown, every delay matters)


@dataclass(frozen=True)
class ClientWork:
    """How long one stage's body checks held the event loop."""

    label: str
    warmup: bool
    wall_s: float
    check_ns: int
    checked: int
    p50_ms: float           # the stage's p50 of successful requests
    decompress_ns: int = 0  # decoding compressed answers: client work on the loop too...
    decompressed: int = 0   # ...of this many answers

    @property
    def share(self) -> float:
        return (self.check_ns + self.decompress_ns) / max(self.wall_s * 1e9, 1.0)

    @property
    def mean_us(self) -> float:
        """Mean client work per response (checks and decoding)."""
        return (self.check_ns + self.decompress_ns) / max(self.checked, self.decompressed,
                                                          1) / 1000.0

    @property
    def wait_ms(self) -> float:
        """Mean wait of a response behind the checks (M/D/1); inf when they saturate."""
        rho = self.share
        return float("inf") if rho >= 1.0 else rho * self.mean_us / 1000.0 / (2 * (1 - rho))


class HealthMonitor:
    """Cheap self-observation for one run; lives on the run's event loop."""

    def __init__(self) -> None:
        self._loop_lag = LatencyHistogram()
        self._loop_lag_us: list[int] = []
        self._samples = 0
        self._lagged = 0
        self._sched_lag = LatencyHistogram()
        self._open: list[OpenStageReport] = []
        self._client: list[ClientWork] = []
        self._late = 0
        self._cpu0 = time.process_time()
        self._wall0 = time.perf_counter()
        self._task: asyncio.Task[None] | None = None
        self._epoch = 0

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        self._cpu0 = time.process_time()
        self._wall0 = time.perf_counter()
        self._task = asyncio.ensure_future(self._sample_loop_lag())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self.flush([])

    async def _sample_loop_lag(self) -> None:
        period_ns = int(SAMPLE_S * 1e9)
        buf = self._loop_lag_us
        while True:
            epoch = self._epoch
            t = perf_counter_ns()
            await asyncio.sleep(SAMPLE_S)
            lag_ns = perf_counter_ns() - t - period_ns
            if epoch == self._epoch:
                lag_us = lag_ns // 1000 if lag_ns > 0 else 0
                buf.append(lag_us)
                self._samples += 1
                if lag_us > MAX_LOOP_LAG_MS * 1000:
                    self._lagged += 1

    def between_stages(self) -> None:
        """Drop the lag sample spanning stage set-up or teardown (no request was waiting).

        Freezing a stage (encoding its histogram) or spawning a thousand workers
        blocks the loop for tens of ms while no request is due; counting that as
        loop lag would make a healthy run look starved.
        """
        self._epoch += 1

    # -- fed by the stages -----------------------------------------------------
    def flush(self, schedule_lag_ns: list[int]) -> None:
        """Move buffered samples into the histograms (once a second); empties the list."""
        if schedule_lag_ns:
            lags_us = np.asarray(schedule_lag_ns, dtype=np.int64) // 1000
            schedule_lag_ns.clear()
            self._sched_lag.record_many(lags_us)
        if self._loop_lag_us:
            buf = list(self._loop_lag_us)
            self._loop_lag_us.clear()
            self._loop_lag.record_many(buf)

    def open_stage(self, report: OpenStageReport) -> None:
        self._open.append(report)

    def add_late(self, n: int) -> None:
        self._late += n

    def client_work(self, work: ClientWork) -> None:
        self._client.append(work)

    # -- the verdict ---------------------------------------------------------------
    def result(self, transport: object = None) -> GeneratorHealth:
        """The verdict; ``transport``'s connection counters (``opened``, ``reconnects``,
        ``stale_retries``, where it keeps them) go in as connection churn."""
        wall = max(time.perf_counter() - self._wall0, 1e-9)
        cpu = time.process_time() - self._cpu0
        loop_p99_ms = self._loop_lag.percentile_us(99) / 1000.0
        reasons = fell_behind_reasons(self._open, self._lagged, self._samples)
        reasons += client_work_reasons(self._client)
        measured = [w for w in self._client if not w.warmup and (w.checked or w.decompressed)]
        busiest = max(measured, key=lambda w: w.share, default=None)
        decoded = sum(w.decompressed for w in measured)
        return GeneratorHealth(
            loop_lag_p99_ms=round(loop_p99_ms, 3),
            loop_lag_max_ms=round(self._loop_lag.max_us / 1000.0, 3),
            schedule_lag_p99_ms=round(self._sched_lag.percentile_us(99) / 1000.0, 3),
            schedule_lag_max_ms=round(self._sched_lag.max_us / 1000.0, 3),
            late=self._late,
            cpu_share=round(cpu / wall, 3),
            max_rss_mb=round(max_rss_mb(), 1),
            fell_behind=bool(reasons),
            reasons=tuple(reasons),
            connections_opened=_counted(transport, "opened"),
            reconnects=_counted(transport, "reconnects"),
            stale_retries=_counted(transport, "stale_retries"),
            check_share=round(busiest.share, 4) if busiest else 0.0,
            check_mean_us=round(busiest.mean_us, 2) if busiest else 0.0,
            decompressed=decoded,
            decompress_mean_us=round(sum(w.decompress_ns for w in measured) / decoded / 1000, 2)
            if decoded else 0.0,
        )


def _counted(transport: object, name: str) -> int | None:
    """A transport's counter, or None (unknown) when it does not keep one -- never a fake 0."""
    value = getattr(transport, name, None)
    return int(value) if isinstance(value, int) else None


def client_work_reasons(stages: list[ClientWork]) -> list[str]:
    """Stages whose latencies carry the generator's own check work (empty when none do)."""
    reasons = []
    for w in stages:
        if w.warmup or max(w.checked, w.decompressed) < MIN_JUDGED_REQUESTS or w.p50_ms <= 0:
            continue
        wait = w.wait_ms
        if wait > MAX_CHECK_WAIT_OF_P50 * w.p50_ms:
            shown = "unbounded" if wait == float("inf") else f"{wait:.3g} ms"
            reasons.append(
                f"stage {w.label}: response checks and decoding held the generator's event loop "
                f"{w.share:.0%} of the time ({w.mean_us:.0f} us each); a response waited "
                f"~{shown} for them on average, over {MAX_CHECK_WAIT_OF_P50:.0%} of the p50 "
                f"{w.p50_ms:.3g} ms: the latencies include client work (lighten the checks, "
                f"or spread the load over --processes)")
    return reasons


def fell_behind_reasons(stages: list[OpenStageReport], lagged_samples: int = 0,
                        samples: int = 0) -> list[str]:
    """Why the generator, not the target, was the limit (empty when it kept up)."""
    reasons: list[str] = []
    for s in stages:
        if s.warmup or s.scheduled < MIN_JUDGED_REQUESTS:
            continue
        share = s.issued / s.scheduled
        # A shortfall behind a full in-flight bound is the target's slowness, and it
        # is already in the latencies (timed from schedule) and the late count.
        if share < MIN_RATE_SHARE and not s.slot_waits:
            reasons.append(
                f"stage {s.label}: sent {s.issued} of {s.scheduled} scheduled requests "
                f"({share:.0%} of {s.rate:g}/s) with in-flight slots free: the generator "
                f"could not keep up")
        if behind_matters(s):
            reasons.append(
                f"stage {s.label}: {s.far_behind} of {s.issued} requests started over 10 ms "
                f"late (by {s.behind_lag_ms:.3g} ms on average) with a free in-flight slot, "
                f"in {s.behind_windows} of its {s.windows} 100 ms windows (the generator's "
                f"event loop was behind)")
    if lagged_samples >= MIN_LAGGED_SAMPLES and lagged_samples > MAX_LAGGED_SHARE * samples:
        reasons.append(f"event-loop lag exceeded {MAX_LOOP_LAG_MS:.0f} ms in {lagged_samples} "
                       f"of {samples} samples (the generator's CPU was saturated or starved)")
    return reasons


def behind_matters(s: OpenStageReport) -> bool:
    """Did the generator's own late starts shape this stage's figures?

    Counting late starts alone made one 40 ms pause of a shared 2-core box (ten
    requests at 250 rps) spoil a whole stage. A generator that cannot keep the
    rate is late again and again across the stage, by an amount that shows next
    to the latencies measured; a lone hiccup is neither.
    """
    if not s.issued or s.far_behind / s.issued <= MAX_BEHIND_SHARE:
        return False
    recurrent = (s.behind_windows >= MIN_BEHIND_WINDOWS
                 and s.behind_windows >= MIN_BEHIND_WINDOW_SHARE * s.windows)
    significant = s.p99_ms is None or s.behind_lag_ms >= MIN_BEHIND_OF_P99 * s.p99_ms
    return recurrent and significant


def max_rss_mb() -> float:
    """Peak resident set size of this process in MB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
