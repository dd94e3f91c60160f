"""Locust's run and `loadkit run` agree on percentiles for the same mock configuration.

The mock's service time is uniform 5-25 ms, so its percentiles are known: p50 15,
p90 23, p95 24, p99 24.8 ms. Both generators run one after the other against it
(concurrency 2, far below what either can drive), each must pass its SLA
(exit 0 exactly: a generator that fell behind is a failure here, not a retry),
neither may read a percentile clearly below the server's planned time (beyond
sampling noise; how far above it the server runs depends on the machine's load,
so that is not pinned), and they
must agree within 10% (+ 1 ms of timer granularity) at p50, p90 and p95. At p99 Locust
may read up to 20% higher, never more than 10% lower: p99 of ~400 requests is the 4th
slowest, and Locust's own client time (one gevent loop, requests' Python, its garbage
collector) lands there. Measured on 2026-12-04, three runs alone: Locust over the engine
by 4.0, 4.9 and 2.3 ms at p99 (engine 26.9-27.9 ms), by 0.7-1.3 ms at p50.
"""

from __future__ import annotations

import pytest

from loadkit.cli import _run
from loadkit.locust_bridge.launch import run_locust

from .conftest import read_json

PROFILE = "  - {name: closed, kind: throughput, concurrency: 2, duration: 3s}"
TRUTH_MS = {"p50": 15.0, "p90": 23.0, "p95": 24.0, "p99": 24.8}


@pytest.mark.alone
def test_locust_percentiles_agree_with_the_engine_within_10_percent(scenario_factory, tmp_path,
                                                                    capsys):
    scenario = scenario_factory(name="bridge-agree", latency="uniform:5ms:25ms",
                                profiles=PROFILE, warmup="0.5s")
    # `loadkit run` through the CLI's entry point in this process (Locust, whose gevent
    # must never reach pytest, runs in its own): a second Python start-up with
    # loadkit's imports would add seconds and prove nothing more.
    code = _run(["run", str(scenario), "--out", str(tmp_path / "engine"), "--quiet",
                 "--format", "json"])
    engine = capsys.readouterr()
    assert code == 0, engine.out[-1500:] + engine.err[-1500:]
    code = run_locust(scenario, profile="closed", out_dir=tmp_path / "locust", mode="headless",
                      extra_args=["--loglevel", "WARNING"])
    assert code == 0
    ours = read_json(tmp_path / "engine" / "result.json")["profiles"][0]["summary"]["latency_ms"]
    theirs = read_json(tmp_path / "locust" / "result.json")["profiles"][0]["summary"]["latency_ms"]
    table = {k: (truth, ours[k], theirs[k]) for k, truth in TRUTH_MS.items()}
    print("truth / engine / locust (ms):", table)
    for k, truth in TRUTH_MS.items():
        # a percentile of ~400 samples of uniform(5, 25) ms varies by ~0.5 ms (p50) around
        # the truth: three of those below it is a clock that reads short, not chance
        assert ours[k] >= truth - 1.5 and theirs[k] >= truth - 1.5, (k, table)
        above = 0.20 if k == "p99" else 0.10     # Locust's client time, in its tail
        assert -0.10 * ours[k] - 1.0 <= theirs[k] - ours[k] <= above * ours[k] + 1.0, (k, table)
