"""Recovery time after overload, read from a profile's per-second timeseries.

Used by the stress analysis (after the last overload step) and the spike analysis
(after the spike). Recovery time = seconds from the end of overload until the
1-second p99 is back under the threshold *and stays there* to the end of the
observed window. "Stays" needs evidence: at least ``hold_s`` good seconds at the
end; a shorter window is reported as unknown rather than guessed. The end of
overload is the end of the overload stage's arrival schedule (see
``overload_end_t``).
"""

from __future__ import annotations

from collections.abc import Sequence

from loadkit.results.analysis import Recovery, RecoveryStatus
from loadkit.results.model import Interval, ProfileResult, StageResult
from loadkit.sla.grammar import Rule, compare

__all__ = ["Recovery", "RecoveryStatus", "error_rate_limit", "overload_end_t",
           "p99_threshold_ms", "recovery_time", "stage_start_t"]


def recovery_time(timeseries: Sequence[Interval], *, overload_end_t: float, threshold_ms: float,
                  hold_s: int = 3, op: str = "<", window_end_t: float | None = None,
                  max_error_rate: float | None = None) -> Recovery:
    """How long after ``overload_end_t`` (unix s) the 1-second p99 got back under ``threshold_ms``.

    Seconds with no requests are no evidence either way and are skipped. The
    second that straddles the end of overload counts (recovery is then 0 s). With
    ``max_error_rate``, a second with more errors than that is not yet recovered
    either: fast failures must not pass for a recovered service.
    """
    after = [iv for iv in timeseries
             if iv.t + 1 > overload_end_t and iv.requests > 0
             and (window_end_t is None or iv.t < window_end_t)]
    if not after:
        return Recovery("unknown", None, threshold_ms, "no measurements after the overload")

    def good(iv: Interval) -> bool:
        if not compare(iv.p99_ms, op, threshold_ms):
            return False
        return max_error_rate is None or iv.errors / iv.requests <= max_error_rate

    last_bad = max((i for i, iv in enumerate(after) if not good(iv)), default=-1)
    streak = after[last_bad + 1:]
    limit = f"p99 {op} {threshold_ms:.4g} ms"
    if not streak:
        return Recovery("did not recover", None, threshold_ms,
                        f"1-second p99 still {after[-1].p99_ms:.4g} ms at the end (need {limit})")
    if len(streak) < hold_s:
        status: RecoveryStatus = "unknown" if last_bad < 0 else "did not recover"
        return Recovery(status, None, threshold_ms,
                        f"only the last {len(streak)} s met {limit}; need {hold_s} s to say it stays")
    # Never out of bounds after the end: 0 s, not the few ms by which the first
    # second's tick happened to start after the end of the schedule.
    seconds = 0.0 if last_bad < 0 else max(0.0, round(streak[0].t - overload_end_t, 3))
    return Recovery("recovered", seconds, threshold_ms,
                    f"{limit} from {seconds:.3g} s after the overload to the end "
                    f"({len(streak)} s)")


def p99_threshold_ms(rules: Sequence[Rule]) -> Rule | None:
    """The tightest profile-wide upper bound on p99 among the rules, if any."""
    bounds = [r for r in rules if r.metric == "p99" and r.upper_bound and r.stage is None]
    return min(bounds, key=lambda r: r.threshold) if bounds else None


def error_rate_limit(rules: Sequence[Rule]) -> float | None:
    bounds = [r.threshold for r in rules
              if r.metric == "error_rate" and r.upper_bound and r.stage is None]
    return min(bounds) if bounds else None


def overload_end_t(profile: ProfileResult, overload: StageResult,
                   following: StageResult) -> float | None:
    """When the overload ended: the last arrival its open-model schedule asked for.

    In a single-process run open stages hand over on schedule, so this equals
    the next stage's start and the backlog shows in the recovery stage's own
    seconds. Under ``--processes`` the generators still drain in-flight requests
    between stages (lock-step), so the next stage starts late on an emptied
    queue; counting from the end of the schedule keeps those drained seconds
    (recorded under the overload stage) in the recovery time either way.
    The schedule's length is issued requests / rate; it is used only when the
    stage's recorded span reaches the next stage (real engine data), else the
    next stage's start is the end.
    """
    next_t = stage_start_t(profile, following)
    if not overload.rate or overload.started_at <= 0 or next_t is None:
        return next_t
    scheduled_s = (overload.requests + overload.in_flight_at_end) / overload.rate
    recorded_end = overload.started_at + overload.duration_s
    if scheduled_s < overload.duration_s and abs(recorded_end - next_t) <= 1.0:
        return min(next_t, overload.started_at + scheduled_s)
    return next_t


def stage_start_t(profile: ProfileResult, stage: StageResult) -> float | None:
    """Unix start of a stage: its own ``started_at``, else its first second in the timeseries."""
    if stage.started_at > 0:
        return stage.started_at
    first = next((iv.t for iv in profile.timeseries if iv.stage >= stage.index), None)
    return first
