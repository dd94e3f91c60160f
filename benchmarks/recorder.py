"""The recorder's hot path: what recording one request costs the engine.

Each request the engine completes is one ``StageRecording.ok`` (or ``error``)
call, and once a second ``Recorder.tick`` folds the buffers into HDR histograms.
This times a profile's worth of those calls -- ``--requests`` completions,
a tick every ``--per-tick`` of them -- and quotes the cost per request beside a
reference measured in the same run: the same loop calling a bare method that
appends to a list (the least a Python recorder can do). The ratio is what to
compare across changes. Times are the process's CPU time, not wall time, so that
other processes on a shared machine disturb the figures less.

    python benchmarks/recorder.py            # 1,000,000 requests, best of 5
    python benchmarks/recorder.py --quick    # 200,000 requests, best of 3
"""

from __future__ import annotations

import argparse
import random
import time
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadkit.results.recorder import Recorder, StageMeta  # noqa: E402


class Floor:
    """The reference: one list append per call, nothing else."""

    def __init__(self) -> None:
        self.buf: list[int] = []

    def ok(self, latency_us: int, status: int | None = None, payload: int = 0) -> None:
        self.buf.append(latency_us)


def time_floor(latencies: list[int], per_tick: int) -> float:
    floor = Floor()
    ok = floor.ok
    t0 = time.process_time()
    for i, lat in enumerate(latencies):
        ok(lat, 200, i)
        if i % per_tick == 0:
            floor.buf = []
    return time.process_time() - t0


def time_recorder(latencies: list[int], per_tick: int) -> float:
    rec = Recorder(wall_clock=iter(range(10**9)).__next__)   # one "second" per tick
    stage = rec.begin_stage(StageMeta(index=0, label="c=64", concurrency=64))
    ok, error, tick = stage.ok, stage.error, rec.tick
    t0 = time.process_time()
    for i, lat in enumerate(latencies):
        if i % 100 == 99:
            error("timeout", lat, None, i)
        else:
            ok(lat, 200, i)
        if i % per_tick == 0:
            tick()
    rec.end_stage(len(latencies) / per_tick)
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="200,000 requests, best of 3")
    ap.add_argument("--requests", type=int, default=None)
    ap.add_argument("--per-tick", type=int, default=20_000, help="requests a second")
    args = ap.parse_args()
    n = args.requests or (200_000 if args.quick else 1_000_000)
    repeat = 3 if args.quick else 5
    rnd = random.Random(1)
    latencies = [int(rnd.lognormvariate(9, 0.5)) for _ in range(n)]   # ~8 ms, µs
    floors, recorders = [], []
    for _ in range(repeat):          # interleaved, so both see the same machine load
        floors.append(time_floor(latencies, args.per_tick))
        recorders.append(time_recorder(latencies, args.per_tick))
    floor, recorder = min(floors), min(recorders)
    print(f"{n:,} requests, a tick every {args.per_tick:,}, best of {repeat}")
    print(f"  reference (list append)  {floor / n * 1e9:7.1f} ns/request")
    print(f"  recorder (ok/error+tick) {recorder / n * 1e9:7.1f} ns/request")
    print(f"  ratio recorder/reference {recorder / floor:7.2f}")


if __name__ == "__main__":
    main()
