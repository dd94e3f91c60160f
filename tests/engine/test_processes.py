"""``--processes``: splitting stages and payloads, and the exact merge of spawned runs.

The split tests are pure. The integration tests spawn two real generator
processes against a small threaded loopback server; every stage is bounded by a
request count or a short duration.
"""

from __future__ import annotations

import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from loadkit.engine.processes import (
    align,
    resolve_processes,
    run_stages_parallel,
    slice_payloads,
    split_stage,
)
from loadkit.results.model import Interval
from loadkit.scenario.plan import PayloadSet, RequestSpec, Stage


# -- pure: how the load is shared ----------------------------------------------------
@pytest.mark.parametrize("total, n", [(7, 3), (64, 2), (5, 5), (100, 7)])
def test_concurrency_and_request_shares_add_up_to_the_whole(total, n):
    parts = split_stage(Stage(index=0, label="s", concurrency=total, requests=total * 3), n)
    assert sum(p.concurrency for p in parts) == total
    assert sum(p.requests for p in parts) == total * 3
    assert max(p.concurrency for p in parts) - min(p.concurrency for p in parts) <= 1


def test_a_process_with_no_share_sits_the_stage_out():
    parts = split_stage(Stage(index=0, label="s", concurrency=1, duration_s=1.0), 2)
    assert parts[0] is not None and parts[0].concurrency == 1
    assert parts[1] is None


def test_rate_is_split_evenly_and_in_flight_bound_never_drops_to_zero():
    parts = split_stage(Stage(index=2, label="r", rate=301.0, duration_s=1.0, max_in_flight=3), 4)
    assert sum(p.rate for p in parts) == pytest.approx(301.0)
    assert [p.max_in_flight for p in parts] == [1, 1, 1, 1]
    assert all(p.index == 2 and p.label == "r" for p in parts)


def test_rate_stage_with_too_few_requests_gives_the_idle_share_to_the_others():
    parts = split_stage(Stage(index=0, label="r", rate=100.0, requests=1), 2)
    assert parts[1] is None
    assert parts[0].rate == pytest.approx(100.0)


def test_payload_slices_are_disjoint_and_cover_every_body():
    ps = PayloadSet(batch_size=1, bodies=tuple(b"%d" % i for i in range(10)),
                    payload_bytes=tuple(1 for _ in range(10)))
    slices = [slice_payloads({1: ps}, i, 3)[1] for i in range(3)]
    seen = [b for s in slices for b in s.bodies]
    assert sorted(seen) == sorted(ps.bodies)
    assert all(len(s.bodies) == len(s.payload_bytes) for s in slices)


def test_fewer_bodies_than_processes_gives_every_process_all_of_them():
    ps = PayloadSet(batch_size=1, bodies=(b"a",))
    assert slice_payloads({1: ps}, 1, 2)[1].bodies == (b"a",)


def test_auto_means_one_process_per_core_and_zero_is_refused():
    assert resolve_processes("auto") == (os.cpu_count() or 1)
    assert resolve_processes(3) == 3
    with pytest.raises(ValueError):
        resolve_processes(0)


def _iv(t: float, stage: int, requests: int, p99_ms: float) -> Interval:
    return Interval(t=t, elapsed_s=0.0, stage=stage, requests=requests, ok=requests, errors=0,
                    rps=float(requests), p50_ms=1.0, p90_ms=2.0, p95_ms=3.0, p99_ms=p99_ms,
                    max_ms=p99_ms * 2)


def test_intervals_of_different_processes_line_up_by_ordinal_and_add_exactly():
    # process A ticks at .10, process B at .45 of each second: same seconds, different clocks
    a = [_iv(100.10, 0, 10, 4.0), _iv(101.10, 0, 12, 4.0)]
    b = [_iv(100.45, 0, 30, 8.0), _iv(101.45, 0, 28, 8.0)]
    merged = align([[a[0], b[0]], [a[1], b[1]]])
    assert [iv.requests for iv in merged] == [40, 40]
    assert [iv.t for iv in merged] == [100.10, 101.10]
    assert [iv.elapsed_s for iv in merged] == [0.0, 1.0]
    assert merged[0].p99_ms == pytest.approx((10 * 4.0 + 30 * 8.0) / 40, abs=1e-3)
    assert merged[0].max_ms == 16.0


# -- integration: two spawned generators ------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    body = b'{"predictions": [1]}'

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def target():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield RequestSpec(target=f"http://127.0.0.1:{server.server_address[1]}", path="/predict",
                      timeout_s=5.0)
    server.shutdown()
    server.server_close()


PAYLOADS = {1: PayloadSet(batch_size=1, bodies=tuple(b'{"i": %d}' % i for i in range(8)))}


@pytest.mark.parametrize("transport", ["fast", "aiohttp"])
def test_two_processes_merge_counts_histograms_and_intervals_exactly(target, transport):
    stages = [Stage(index=0, label="warm", concurrency=3, requests=41, warmup=True),
              Stage(index=1, label="main", concurrency=5, requests=301)]
    run = run_stages_parallel(2, stages, target, PAYLOADS, transport=transport,
                              handle_signals=False)
    warm, main = run.stages
    assert (warm.requests, main.requests) == (41, 301)
    assert main.ok == 301 and main.errors == 0
    assert main.concurrency == 5 and main.warmup is False and main.index == 1
    assert main.hist().count == 301
    assert sum(iv.requests for iv in run.timeseries) == 41 + 301
    assert run.transport == transport
    assert not run.interrupted and not run.aborted
    if transport == "fast":                     # each process opened its own connections
        assert run.health.connections_opened >= 2 and run.health.reconnects == 0


def test_continue_after_judges_the_merged_stage_and_keeps_always_run_stages(target):
    seen = []

    def continue_after(result, stage):
        seen.append((stage.index, result.requests))
        return False

    stages = [Stage(index=0, label="a", concurrency=4, requests=60),
              Stage(index=1, label="skipped", concurrency=4, requests=60),
              Stage(index=2, label="recovery", concurrency=2, requests=30, always_run=True)]
    run = run_stages_parallel(2, stages, target, PAYLOADS, transport="fast",
                              continue_after=continue_after, handle_signals=False)
    assert seen == [(0, 60), (2, 30)]
    assert [s.index for s in run.stages] == [0, 2]


def test_sigint_stops_every_process_and_returns_the_partial_stage(target):
    got = []

    def on_interval(iv, stage):
        got.append(iv.requests)
        if len(got) == 1:
            os.kill(os.getpid(), signal.SIGINT)     # Ctrl-C, as the terminal would send it
        return True

    stages = [Stage(index=0, label="long", concurrency=2, duration_s=60.0),
              Stage(index=1, label="never", concurrency=2, requests=10)]
    run = run_stages_parallel(2, stages, target, PAYLOADS, transport="fast",
                              on_interval=on_interval, handle_signals=True)
    assert run.interrupted and not run.aborted
    assert [s.index for s in run.stages] == [0]
    assert run.stages[0].requests > 0
    assert run.stages[0].requests == run.stages[0].hist_all().count
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
