"""The public API: what ``import loadkit`` offers, run / run_async / assert_sla / write_reports."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import pytest

import loadkit
from loadkit.results.model import Verdict
from loadkit.testing import MockTransport, Reply, latencies, profile, run_result, stage

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = """\
name: api
target: mock
request: {method: POST, path: /predict, timeout: 2s, body: {instances: "{{ rows }}"}}
dataset: {path: data/iris.csv}
checks: {status: [200], json_has: [predictions]}
profiles:
  - {name: steady, kind: throughput, concurrency: 2, duration: 0.3s}
sla: [p99 < 500ms, error_rate < 1%]
"""


@pytest.fixture
def scenario(write_scenario) -> Path:
    return write_scenario(SCENARIO)


def test_all_is_sorted_and_every_name_in_it_resolves():
    assert loadkit.__all__ == sorted(loadkit.__all__)
    for name in loadkit.__all__:
        assert getattr(loadkit, name) is not None, name
    assert set(loadkit.__all__) <= set(dir(loadkit))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        loadkit.nope  # noqa: B018
    assert (ROOT / "loadkit" / "py.typed").exists()


def _failing() -> loadkit.RunResult:
    s = stage(1, latencies(10, 212), concurrency=4, errors=30)
    verdicts = (
        Verdict("steady", "p99 < 200ms", "p99", 212.0, 200.0, False, "ms"),
        Verdict("steady", "p50 < 50ms", "p50", 10.0, 50.0, True, "ms"),
        Verdict("steady", "error_rate < 1%", "error_rate", 0.03, 0.01, False, "fraction"),
        Verdict("ramp", "throughput >= 100rps", "throughput", 40.0, 100.0, False, "rps",
                inconclusive=True, reason="too few requests"),
    )
    return run_result(profile("steady", "throughput", [s]), name="iris", verdicts=verdicts,
                      status="fail", warnings=("the generator fell behind",))


def test_assert_sla_names_every_rule_that_did_not_pass_with_observed_and_threshold():
    with pytest.raises(AssertionError) as info:
        loadkit.assert_sla(_failing())
    lines = str(info.value).splitlines()
    assert lines[0] == "loadkit: iris: FAIL (exit 1)"
    assert lines[1:] == [
        "  steady: p99 < 200ms failed: observed 212 ms, threshold 200 ms",
        "  steady: error_rate < 1% failed: observed 3%, threshold 1%",
        "  ramp: throughput >= 100rps inconclusive: observed 40 rps, threshold 100 rps "
        "(too few requests)",
        "  warning: the generator fell behind",
    ]


def test_an_unjudged_result_never_passes_and_judge_decides_it():
    measured = run_result(profile("steady", "throughput", [stage(1, latencies(10, 20))],
                                  sla=("p99 < 15ms",)), name="iris")
    with pytest.raises(AssertionError, match=r"iris: UNJUDGED \(exit 1\)"):
        loadkit.assert_sla(measured)
    judged = loadkit.judge(measured)
    assert judged.status == loadkit.Status.FAIL
    with pytest.raises(AssertionError, match=r"steady: p99 < 15ms failed: observed 20(\.\d+)? "
                                             r"ms, threshold 15 ms"):
        loadkit.assert_sla(judged)


def test_assert_sla_returns_a_passing_result_untouched():
    ok = replace(_failing(), status="pass", verdicts=(), warnings=())
    assert loadkit.assert_sla(ok) is ok


def test_run_with_a_mock_transport_sends_nothing_and_is_judged(scenario: Path):
    passing = loadkit.run(scenario, transport=MockTransport(Reply(latency_ms=1)))
    assert (passing.passed, passing.status, passing.exit_code) == (True, loadkit.Status.PASS, 0)
    assert passing.environment.transport == "mock" and passing.failed_verdicts == ()
    failing = loadkit.run(scenario, transport=MockTransport.of([200, 503]),
                          sla=["error_rate < 1%", "p99 < 1s"])
    assert (failing.passed, failing.status, failing.exit_code) == (False, "fail", 1)
    assert [v.expr for v in failing.failed_verdicts] == ["error_rate < 1%"]
    with pytest.raises(AssertionError, match=r"steady: error_rate < 1% failed: observed 50%"):
        loadkit.assert_sla(failing)


@pytest.mark.parametrize("overrides, message", [
    ({"duration": "soon"}, "duration: 'soon' is not a duration"),
    ({"rate": 0}, "--rate: must be greater than 0"),
    ({"concurrency": 0}, "concurrency: must be at least 1"),
    ({"target": "ftp://x"}, "target: 'ftp://x' is not an http(s) URL"),
    ({"processes": "many"}, "processes: 'many' is not a number or 'auto'"),
    ({"transport": "carrier-pigeon"}, "transport: unknown transport 'carrier-pigeon'"),
    ({"sla": ["p99 <"]}, "--sla: 'p99 <': missing value"),
    ({"profile": "stedy"}, "--profile: no profile named 'stedy'; did you mean 'steady'?"),
], ids=lambda v: str(v))
def test_a_bad_override_is_refused_naming_it_before_anything_runs(scenario, overrides, message):
    mock = MockTransport()
    with pytest.raises(loadkit.UsageError) as info:
        loadkit.run(scenario, **{"transport": mock, **overrides})
    assert message in str(info.value)
    assert info.value.exit_code == 2 and mock.calls == []


def test_run_async_runs_inside_a_running_loop_without_blocking_it(scenario: Path):
    async def main() -> tuple[str, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.02)
                ticks += 1

        ticker = asyncio.ensure_future(tick())
        result = await loadkit.run_async(scenario, transport=MockTransport(Reply(latency_ms=1)))
        ticker.cancel()
        return str(result.status), ticks

    status, ticks = asyncio.run(main())
    assert status == "pass"
    assert ticks >= 5                       # the caller's loop kept running through the load


def test_run_from_a_running_loop_like_a_notebook_cell_still_works(scenario: Path):
    async def cell() -> str:
        return str(loadkit.run(scenario, transport=MockTransport(Reply(latency_ms=2))).status)

    assert asyncio.run(cell()) == "pass"


def test_cancelling_run_async_stops_the_run_within_about_a_second(scenario: Path):
    mock = MockTransport(Reply(latency_ms=1))

    async def main() -> float:
        task = asyncio.ensure_future(loadkit.run_async(scenario, transport=mock, duration="60s"))
        await asyncio.sleep(0.5)
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - t0

    assert asyncio.run(main()) < 3.0
    sent = len(mock.calls)
    time.sleep(0.2)
    assert sent > 0 and len(mock.calls) == sent          # nothing runs on after the cancel


def test_write_reports_writes_the_chosen_formats(tmp_path: Path):
    result = _failing()
    written = loadkit.write_reports(result, tmp_path / "r", formats="json,junit")
    assert sorted(p.name for p in written) == ["junit.xml", "result.json"]
    assert loadkit.read(str(tmp_path / "r" / "result.json")) == result
    with pytest.raises(loadkit.UsageError, match="formats: unknown format 'pdf'"):
        loadkit.write_reports(result, tmp_path / "x", formats=["pdf"])
