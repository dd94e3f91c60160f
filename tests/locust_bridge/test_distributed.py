"""Master + 2 workers on loopback: the master's merge is exact (Locust in subprocesses)."""

from __future__ import annotations

from loadkit.results.codec import read
from loadkit.results.hdr import LatencyHistogram

from .conftest import free_port, read_json, start_locust, stop


def test_master_merges_two_workers_exactly(scenario_factory, tmp_path):
    scenario = scenario_factory(name="bridge-dist")
    out, partial = tmp_path / "out", tmp_path / "partial"
    port = free_port()
    common = ["--loglevel", "WARNING"]
    master = start_locust(scenario, out, log=tmp_path / "master.log", mode="master",
                          profile="quick", expect_workers=2,
                          extra_args=["--headless", "--master-bind-host", "127.0.0.1",
                                      "--master-bind-port", str(port), *common])
    workers = [start_locust(scenario, out, log=tmp_path / f"worker{i}.log", partial=partial,
                            mode="worker", master_host="127.0.0.1",
                            extra_args=["--master-port", str(port), *common])
               for i in range(2)]
    try:
        code = master.wait(timeout=60)
    finally:
        stop(master)
        for w in workers:
            stop(w)
    assert code == 0, (tmp_path / "master.log").read_text()[-3000:]

    merged = read_json(out / "result.json")
    parts = [read(str(p)) for p in sorted(partial.glob("partial-*.json"))]
    assert len(parts) == 2
    part_requests = [p.profiles[0].summary.requests for p in parts]
    assert all(n > 0 for n in part_requests)               # both workers carried load
    stage = merged["profiles"][0]["stages"][0]
    assert stage["requests"] == sum(part_requests)
    assert stage["concurrency"] == 4                       # the plan's users, not a sum
    assert merged["environment"]["processes"] == 2

    union = LatencyHistogram()
    for p in parts:
        for s in p.profiles[0].stages:
            union.add(s.hist())
    master_hist = LatencyHistogram.decode(stage["histogram"])
    assert master_hist.count == union.count
    assert master_hist.percentile_us(99) == union.percentile_us(99)
    assert merged["profiles"][0]["summary"]["latency_ms"]["p99"] == round(
        union.percentile_us(99) / 1000.0, 3)
