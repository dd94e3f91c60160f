"""Client time kept out of server latency: the last-byte stamp, timed checks, the health rule.

No network: a transport stub that answers at a known instant, and checks made costly on
purpose (a busy-wait) so their share of the loop is known.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from loadkit.engine import run_stages
from loadkit.engine.fast_protocol import Connection
from loadkit.engine.health import ClientWork, client_work_reasons
from loadkit.scenario.plan import Checks, PayloadSet, RequestSpec, Stage

PAYLOADS = {1: PayloadSet(1, (b"{}",))}


class StampedTransport:
    """Answers at once, but says its last byte came ``early_us`` before it resumed the caller."""

    name = "stamped"

    def __init__(self, early_us: int, after_s: float = 0.005,
                 body: bytes = b'{"predictions": [1]}') -> None:
        self.early_us = early_us
        self.after_s = after_s
        self.body = body

    async def start(self) -> None:
        pass

    async def send(self, payload: int) -> tuple[int, bytes, int]:
        await asyncio.sleep(self.after_s)
        return 200, self.body, time.perf_counter_ns() - self.early_us * 1000

    async def close(self) -> None:
        pass


@pytest.mark.parametrize("stage", [Stage(0, "closed", concurrency=4, requests=20),
                                   Stage(0, "open", rate=200, requests=20)], ids=["closed", "open"])
def test_latency_ends_at_the_transports_last_byte_stamp_not_when_the_task_resumes(
        stage: Stage) -> None:
    # The stub's stamp is 28 ms before it hands the answer back, 30 ms after the send:
    # latency from the stamp is ~2 ms (plus any lag of a busy box); from the resume >= 30 ms.
    run = run_stages([stage], RequestSpec(target="http://127.0.0.1:9"), PAYLOADS,
                     transport=StampedTransport(early_us=28_000, after_s=0.03),
                     handle_signals=False)
    (s,) = run.stages
    assert s.ok == 20
    assert s.latency_ms.p50 < 20.0


def test_the_fast_connection_stamps_the_answer_when_its_last_byte_is_parsed() -> None:
    loop = asyncio.new_event_loop()
    try:
        conn = Connection(loop, 1 << 20, lambda c, keep: None, lambda c: None)

        class Wire:
            def write(self, data: bytes) -> None: ...
            def close(self) -> None: ...
            def abort(self) -> None: ...

        conn.connection_made(Wire())  # type: ignore[arg-type]
        fut: asyncio.Future[tuple[int, bytes, int]] = loop.create_future()
        conn.request(b"GET / HTTP/1.1\r\n\r\n", fut, 0.0)
        conn.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
        before = time.perf_counter_ns()
        conn.data_received(b"ok")
        after = time.perf_counter_ns()
        time.sleep(0.01)                              # the task would resume only now
        status, body, stamp = fut.result()
    finally:
        loop.close()
    assert (status, body) == (200, b"ok")
    assert before <= stamp <= after


@dataclass(frozen=True)
class CostlyChecks(Checks):
    """json_has that also burns ``cost_s`` of CPU on the loop (a huge document's parse)."""

    cost_s: float = 0.0

    def failure(self, status: int, body: bytes) -> str | None:
        ends = time.perf_counter() + self.cost_s
        while time.perf_counter() < ends:
            pass
        return super().failure(status, body)


def _run_checked(cost_s: float, concurrency: int) -> tuple[object, object]:
    request = RequestSpec(target="http://127.0.0.1:9",
                          checks=CostlyChecks(json_has=("predictions",), cost_s=cost_s))
    run = run_stages([Stage(0, "c", concurrency=concurrency, duration_s=0.6)], request, PAYLOADS,
                     transport=StampedTransport(early_us=0), handle_signals=False)
    return run.stages[0], run.health


def test_costly_checks_that_hold_the_loop_make_the_run_inconclusive_with_the_reason() -> None:
    # 8 workers, a 5 ms answer, 2 ms of checking each: the loop is mostly checking and a
    # response waits for other responses' checks about as long as the server took.
    stage, health = _run_checked(0.002, 8)
    assert health.fell_behind                                    # type: ignore[attr-defined]
    assert health.check_share > 0.5                              # type: ignore[attr-defined]
    assert 1500 < health.check_mean_us < 20000                   # type: ignore[attr-defined]
    assert any("response checks and decoding held the generator's event loop" in r
               for r in health.reasons)                          # type: ignore[attr-defined]


@pytest.mark.alone
def test_cheap_checks_are_measured_and_leave_the_run_conclusive() -> None:
    stage, health = _run_checked(0.0, 2)
    assert not health.fell_behind, health.reasons                # type: ignore[attr-defined]
    assert 0 < health.check_share < 0.05                         # type: ignore[attr-defined]
    assert 0 < health.check_mean_us < 500                        # type: ignore[attr-defined]


def test_status_only_checks_are_not_timed() -> None:
    run = run_stages([Stage(0, "c", concurrency=2, requests=30)],
                     RequestSpec(target="http://127.0.0.1:9", checks=Checks(status=(200,))),
                     PAYLOADS, transport=StampedTransport(early_us=0), handle_signals=False)
    assert run.health.check_share == 0.0 and run.health.check_mean_us == 0.0


@pytest.mark.parametrize(("share", "mean_us", "p50_ms", "inflated"), [
    (0.9, 1000, 10.0, True),      # issue 13: 1 ms json.loads, concurrency 8 -> p50 10 ms
    (0.5, 100, 0.6, False),       # wait 0.05 ms: under 10% of 0.6 ms
    (0.5, 200, 0.6, True),        # wait 0.1 ms: over 10% of 0.6 ms
    (0.1, 1000, 50.0, False),     # a slow server: the checks' wait is noise beside it
    (1.0, 1000, 500.0, True),     # saturated: unbounded wait
], ids=["issue-13", "small-wait", "wait-over-bound", "slow-server", "saturated"])
def test_client_work_is_judged_by_its_mm1_wait_against_the_stages_p50(
        share: float, mean_us: float, p50_ms: float, inflated: bool) -> None:
    wall_s = 10.0
    check_ns = int(share * wall_s * 1e9)
    work = ClientWork("1", False, wall_s, check_ns, int(check_ns / (mean_us * 1000)), p50_ms)
    assert bool(client_work_reasons([work])) is inflated
    assert client_work_reasons([ClientWork("w", True, wall_s, check_ns, 10_000, p50_ms)]) == []
