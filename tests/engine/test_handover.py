"""Consecutive stages hand over on schedule: no drain between them, nothing misattributed.

A stage's requests still out when it ends keep completing while the next stage
issues; each is recorded in the stage that issued it. The tiny server makes
requests exactly as slow as a stage's payload says (``/sleep-body``), so a
stage's latencies show which stage a request belonged to.
"""

from __future__ import annotations

from collections.abc import Callable

from loadkit.engine import run_stages
from loadkit.results.model import StageResult
from loadkit.scenario.plan import PayloadSet, RequestSpec, Stage
from tests.engine.conftest import assert_accounted
from tests.engine.tiny_server import TinyServer

# batch size 1: requests the server holds 300 ms; batch size 2: 5 ms.
SLOW_THEN_FAST = {1: PayloadSet(1, (b'{"ms": 300}',)), 2: PayloadSet(2, (b'{"ms": 5}',))}


def test_an_open_stage_starts_where_the_previous_schedule_ended_not_after_its_drain(
        transport: str, tiny: Callable[..., TinyServer]) -> None:
    # Stage 0's schedule is 20 requests at 100/s: 0.2 s. Each takes 300 ms, so all
    # 20 are still out when its schedule ends; a drain would start stage 1 at >= 0.5 s.
    srv = tiny()
    run = run_stages([Stage(0, "slow", rate=100, requests=20, batch_size=1),
                      Stage(1, "fast", rate=100, requests=20, batch_size=2)],
                     RequestSpec(target=srv.url, path="/sleep-body"), SLOW_THEN_FAST,
                     transport=transport, handle_signals=False)
    assert_accounted(run)
    slow, fast = run.stages
    assert fast.started_at - slow.started_at == _approx(0.2)
    # Every request is in the stage that issued it: 20 and 20, the slow ones in stage 0.
    assert (slow.requests, slow.ok, fast.requests, fast.ok) == (20, 20, 20, 20)
    assert slow.latency_ms.min >= 300
    assert fast.latency_ms.max < 300
    assert slow.in_flight_at_end == 0 and fast.in_flight_at_end == 0
    # Stage 0 is finalised when its last request completed, after stage 1 began.
    assert slow.started_at + slow.duration_s > fast.started_at
    # One continuous series: stage 0's completions fall in seconds labelled stage 1.
    assert sum(iv.requests for iv in run.timeseries) == 40
    assert sum(iv.requests for iv in run.timeseries if iv.stage == 1) == 40
    assert [iv.t for iv in run.timeseries] == sorted(iv.t for iv in run.timeseries)


def test_duration_stages_follow_each_other_at_their_schedules_end(
        tiny: Callable[..., TinyServer]) -> None:
    srv = tiny()
    stages = [Stage(i, f"s{i}", rate=50, duration_s=0.3, batch_size=1 + i % 2) for i in range(3)]
    run = run_stages(stages, RequestSpec(target=srv.url, path="/sleep-body"), SLOW_THEN_FAST,
                     transport="fast", handle_signals=False)
    assert_accounted(run)
    starts = [s.started_at for s in run.stages]
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [_approx(0.3)] * 2
    assert [s.requests for s in run.stages] == [15, 15, 15]
    assert run.stages[0].latency_ms.min >= 300 and run.stages[2].latency_ms.min >= 300
    assert run.stages[1].latency_ms.max < 300


def test_max_in_flight_bounds_every_request_out_including_the_previous_stages(
        tiny: Callable[..., TinyServer]) -> None:
    # 4 slots and 300 ms requests: stage 0 fills them; stage 1 must wait for them
    # (late, not extra connections), so the server never holds more than 4.
    srv = tiny()
    run = run_stages([Stage(0, "a", rate=100, requests=8, max_in_flight=4, batch_size=1),
                      Stage(1, "b", rate=100, requests=8, max_in_flight=4, batch_size=1)],
                     RequestSpec(target=srv.url, path="/sleep-body"), SLOW_THEN_FAST,
                     transport="fast", handle_signals=False)
    assert_accounted(run)
    assert [s.requests for s in run.stages] == [8, 8]
    assert srv.max_busy == 4
    assert run.stages[1].late > 0


def test_closed_steps_start_while_the_previous_steps_last_requests_complete(
        transport: str, tiny: Callable[..., TinyServer]) -> None:
    # Two workers sending 300 ms requests; the step ends at 0.45 s with both
    # requests of its second round out. The next step's two workers start at once,
    # so the server holds four requests at the handover (two with a drain).
    srv = tiny()
    run = run_stages([Stage(0, "c2", concurrency=2, duration_s=0.45, batch_size=1),
                      Stage(1, "c2-next", concurrency=2, requests=2, batch_size=1)],
                     RequestSpec(target=srv.url, path="/sleep-body"), SLOW_THEN_FAST,
                     transport=transport, handle_signals=False)
    assert_accounted(run)
    first, second = run.stages
    assert srv.max_busy == 4
    assert first.requests >= 2 and first.in_flight_at_end == 0
    assert second.requests == 2
    assert sum(iv.requests for iv in run.timeseries) == first.requests + second.requests


def test_continue_after_judges_the_stage_as_of_its_end_and_the_result_is_complete(
        transport: str, tiny: Callable[..., TinyServer]) -> None:
    # Stage 0's 10 requests (a 0.1 s schedule) each take 300 ms: at its end none
    # has completed. continue_after sees that (and says stop); the returned stage
    # holds all 10.
    srv = tiny()
    seen: list[StageResult] = []

    def keep_going(result: StageResult, stage: Stage) -> bool:
        seen.append(result)
        return False

    run = run_stages([Stage(0, "slow", rate=100, requests=10, batch_size=1),
                      Stage(1, "skipped", rate=100, requests=10, batch_size=2),
                      Stage(2, "recovery", rate=100, requests=5, batch_size=2, always_run=True)],
                     RequestSpec(target=srv.url, path="/sleep-body"), SLOW_THEN_FAST,
                     transport=transport, handle_signals=False, continue_after=keep_going)
    assert_accounted(run)
    assert (seen[0].requests, seen[0].in_flight_at_end) == (0, 10)
    assert [s.label for s in run.stages] == ["slow", "recovery"]
    slow, recovery = run.stages
    assert (slow.requests, slow.in_flight_at_end, recovery.requests) == (10, 0, 5)
    assert recovery.started_at - slow.started_at == _approx(0.1)


def _approx(x: float) -> object:
    import pytest

    # started_at is rounded to the millisecond; the schedule itself is exact.
    return pytest.approx(x, abs=0.0025)
