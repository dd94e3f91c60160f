"""Generator health judged end to end, on a dummy transport (no network, no server).

The transport answers after a short sleep; it can block the loop once (a GC or
scheduler pause of a shared box) or start a task that hogs the loop with
busy-waits for most of the stage (a generator that cannot keep the rate).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from loadkit.engine import run_stages
from loadkit.scenario.plan import PayloadSet, RequestSpec, Stage
from tests.engine.conftest import assert_accounted
from tests.engine.tiny_server import TinyServer

PAYLOADS = {1: PayloadSet(1, (b"{}",))}


class DummyTransport:
    """Answers 200 after ``latency_s``; optionally stalls or starves the loop."""

    name = "dummy"

    def __init__(self, latency_s: float = 0.002, pause_at: int | None = None,
                 pause_s: float = 0.0, hog_s: float = 0.0, hog_block_s: float = 0.03) -> None:
        self.latency_s = latency_s
        self.pause_at, self.pause_s = pause_at, pause_s
        self.hog_s, self.hog_block_s = hog_s, hog_block_s
        self.sent = 0
        self._hog: asyncio.Task[None] | None = None

    async def start(self) -> None:
        pass

    async def send(self, payload: int) -> tuple[int, bytes, int]:
        self.sent += 1
        if self.sent == 1 and self.hog_s:
            self._hog = asyncio.ensure_future(self._starve())
        if self.sent == self.pause_at:
            time.sleep(self.pause_s)                  # the whole loop stops, once
        await asyncio.sleep(self.latency_s)
        return 200, b'{"predictions": [1]}', time.perf_counter_ns()

    async def _starve(self) -> None:
        ends = time.perf_counter() + self.hog_s
        while time.perf_counter() < ends:
            time.sleep(self.hog_block_s)              # blocks the loop...
            await asyncio.sleep(0)                    # ...lets it run one round, blocks again

    async def close(self) -> None:
        if self._hog is not None:
            self._hog.cancel()


def _run(transport: DummyTransport, stage: Stage):
    run = run_stages([stage], RequestSpec(target="http://127.0.0.1:9"), PAYLOADS,
                     transport=transport, handle_signals=False)
    assert_accounted(run)
    return run


@pytest.mark.alone
def test_one_38ms_pause_at_250rps_leaves_the_run_conclusive() -> None:
    transport = DummyTransport(pause_at=200, pause_s=0.038)
    run = _run(transport, Stage(0, "steady", rate=250, duration_s=2.0))
    s = run.stages[0]
    assert s.requests == 500
    assert run.health.schedule_lag_max_ms >= 25          # the pause did delay starts...
    assert not any("late" in r for r in run.health.reasons), run.health.reasons


def test_a_loop_starved_for_most_of_the_stage_makes_the_run_inconclusive() -> None:
    transport = DummyTransport(hog_s=1.6, hog_block_s=0.03)
    run = _run(transport, Stage(0, "starved", rate=250, duration_s=2.0))
    assert run.health.fell_behind
    assert any("started over 10 ms late" in r for r in run.health.reasons), run.health.reasons


# -- connection churn -------------------------------------------------------------
def test_connection_churn_is_counted_in_the_runs_health(
        tiny: Callable[..., TinyServer]) -> None:
    from loadkit.engine import run_stages as real_run_stages

    srv = tiny()
    kept = real_run_stages([Stage(0, "keep-alive", concurrency=2, requests=20)],
                           RequestSpec(target=srv.url, path="/ok"), PAYLOADS, transport="fast",
                           handle_signals=False)
    closing = real_run_stages([Stage(0, "close", concurrency=1, requests=5)],
                              RequestSpec(target=srv.url, path="/close"), PAYLOADS,
                              transport="fast", handle_signals=False)
    assert 1 <= kept.health.connections_opened <= 2 and kept.health.reconnects == 0
    assert (closing.health.connections_opened, closing.health.reconnects) == (5, 4)
    assert closing.stages[0].ok == 5


def test_counters_the_aiohttp_transport_does_not_keep_are_unknown_not_zero(
        tiny: Callable[..., TinyServer]) -> None:
    from loadkit.engine import run_stages as real_run_stages
    from loadkit.results.codec import dumps, loads

    srv = tiny()
    run = real_run_stages([Stage(0, "s", concurrency=1, requests=3)],
                          RequestSpec(target=srv.url, path="/close"), PAYLOADS,
                          transport="aiohttp", handle_signals=False)
    h = run.health
    assert (h.connections_opened, h.reconnects, h.stale_retries) == (None, None, None)
    from loadkit import testing
    from dataclasses import replace
    result = replace(testing.run_result(), health=h)
    assert loads(dumps(result)).health.connections_opened is None   # "unknown" survives JSON


def test_merging_results_sums_their_connection_churn() -> None:
    from dataclasses import replace

    from loadkit import testing
    from loadkit.results.aggregate import merge_results
    from loadkit.results.model import GeneratorHealth

    base = testing.run_result(testing.profile("p", "throughput", [
        testing.stage(0, testing.latencies(10.0), concurrency=1)]))
    parts = [replace(base, health=GeneratorHealth(
        connections_opened=4 + i, reconnects=i, stale_retries=2 * i)) for i in (1, 2)]
    health = merge_results(parts).health
    assert (health.connections_opened, health.reconnects, health.stale_retries) == (11, 3, 6)
    unknown = replace(base, health=GeneratorHealth(connections_opened=None, reconnects=None,
                                                   stale_retries=None))
    assert merge_results([parts[0], unknown]).health.connections_opened is None
