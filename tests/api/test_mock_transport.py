"""loadkit.testing.MockTransport driven by the real engine: scripted replies, exact counts."""

from __future__ import annotations

import asyncio
import time

import pytest

from loadkit.engine import run_stages, run_stages_async
from loadkit.errors import UsageError
from loadkit.scenario.plan import PayloadSet, RequestSpec, Stage
from loadkit.testing import Chunk, MockTransport, Reply

REQUEST = RequestSpec(target="http://mock.invalid")
PAYLOADS = {1: PayloadSet(1, (b"{}", b"[]", b"1"))}


def _run(transport: MockTransport, *stages: Stage):
    return run_stages(list(stages), REQUEST, PAYLOADS, transport=transport, handle_signals=False)


def test_a_closed_stage_keeps_exactly_its_concurrency_in_flight():
    mock = MockTransport(Reply(latency_ms=5))
    run = _run(mock, Stage(0, "c=3", concurrency=3, requests=30))
    (s,) = run.stages
    assert (s.requests, s.ok, s.errors) == (30, 30, 0)
    assert len(mock.calls) == 30 and mock.peak_in_flight == 3
    assert run.transport == "mock"
    assert s.latency_ms.p50 >= 5.0                    # the scripted latency, never less


def test_scripted_statuses_are_classified_and_counted_exactly():
    mock = MockTransport.of([200, 200, 503, 404])
    run = _run(mock, Stage(0, "one by one", concurrency=1, requests=10))
    (s,) = run.stages
    assert (s.ok, s.errors) == (6, 4)
    assert s.error_kinds == {"http_4xx": 2, "http_5xx": 2}
    assert s.status_codes == {"200": 6, "404": 2, "503": 2}


def test_error_replies_become_their_error_kind_with_the_time_waited():
    mock = MockTransport([Reply(), Reply(error="timeout", latency_ms=20), Reply(error="reset")])
    (s,) = _run(mock, Stage(0, "c=1", concurrency=1, requests=6)).stages
    assert s.error_kinds == {"reset": 2, "timeout": 2}
    assert s.ok == 2
    assert s.latency_all_ms.max >= 20.0   # the timeouts waited (successes: latency_ms)


def test_a_function_script_sees_the_request_number_and_payload():
    seen: list[tuple[int, int]] = []

    def script(n: int, payload: int) -> Reply:
        seen.append((n, payload))
        return Reply(status=500 if n == 4 else 200)

    (s,) = _run(MockTransport(script), Stage(0, "c=1", concurrency=1, requests=5)).stages
    assert [n for n, _ in seen] == [0, 1, 2, 3, 4]
    assert [p for _, p in seen] == [0, 1, 2, 0, 1]      # the worker walks the payloads in turn
    assert s.error_kinds == {"http_5xx": 1}


def test_a_streamed_reply_takes_its_chunk_delays_and_yields_each_chunk_when_it_arrives():
    reply = Reply(latency_ms=5, chunks=(Chunk(b"a", 0), Chunk(b"b", 15), Chunk(b"c", 15)))
    mock = MockTransport(reply)

    async def read() -> list[tuple[int, bytes]]:
        return [item async for item in mock.stream(0)]

    t0 = time.perf_counter_ns()
    got = asyncio.run(read())
    assert [c for _, c in got] == [b"a", b"b", b"c"]
    assert (got[0][0] - t0) / 1e6 >= 5
    assert all((b[0] - a[0]) / 1e6 >= 15 for a, b in zip(got, got[1:], strict=False))
    status, body, _ = asyncio.run(mock.send(0))
    assert (status, body) == (200, b"abc")
    (s,) = _run(mock, Stage(0, "c=1", concurrency=1, requests=2)).stages
    # 5 ms + two 15 ms gaps, to the last chunk (5 or 20 ms would mean a delay was skipped).
    # The engine's loop is uvloop: libuv's timers count whole milliseconds from a loop
    # clock cached (and truncated) at the start of each iteration, so each of the three
    # sleeps may end up to 1 ms early on perf_counter (a clean CI run measured 34.944 ms).
    assert s.latency_ms.p50 >= 35.0 - 3 * 1.0


def test_one_instance_serves_run_after_run_and_is_started_and_closed_each_time():
    mock = MockTransport()
    _run(mock, Stage(0, "a", concurrency=1, requests=2))
    _run(mock, Stage(0, "b", rate=200, requests=4))
    assert (mock.starts, mock.closes, len(mock.calls)) == (2, 2, 6)


def test_a_script_without_cycle_refuses_a_request_past_its_end():
    mock = MockTransport([Reply(), Reply()], cycle=False)
    (s,) = _run(mock, Stage(0, "c=1", concurrency=1, requests=3)).stages
    assert (s.ok, s.error_kinds) == (2, {"other": 1})
    with pytest.raises(RuntimeError, match="script has 2 replies"):
        mock.reply_for(2, 0)


def test_run_stages_async_runs_on_the_callers_loop():
    async def main() -> tuple[int, int]:
        mock = MockTransport(Reply(latency_ms=2))
        ticker = asyncio.ensure_future(asyncio.sleep(0.01))   # the caller's own work goes on
        run = await run_stages_async([Stage(0, "c=2", concurrency=2, requests=10)], REQUEST,
                                     PAYLOADS, transport=mock)
        assert ticker.done()
        return run.stages[0].ok, mock.peak_in_flight

    assert asyncio.run(main()) == (10, 2)


def test_run_stages_inside_a_running_loop_says_to_await_the_async_one():
    async def main() -> None:
        run_stages([Stage(0, "x", concurrency=1, requests=1)], REQUEST, PAYLOADS,
                   transport=MockTransport())

    with pytest.raises(UsageError, match="run_stages_async"):
        asyncio.run(main())


def test_an_instance_cannot_drive_several_processes():
    with pytest.raises(UsageError, match="processes"):
        run_stages([Stage(0, "x", concurrency=2, requests=2)], REQUEST, PAYLOADS,
                   transport=MockTransport(), processes=2)
