"""How a run ends: signals, abort from on_interval, stop conditions, stability windows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from loadkit.engine import run_stages
from loadkit.results.model import StageResult
from loadkit.scenario.plan import RequestSpec, Stability, Stage
from tests.conftest import signal_delivered, wait_until
from tests.engine.conftest import PAYLOADS, assert_accounted
from tests.engine.tiny_server import TinyServer

ROOT = Path(__file__).resolve().parents[2]


def _child(url: str, path: str, transport: str, stage_s: float = 30) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "tests.engine.signal_child", url, path,
                             transport, str(stage_s)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _wait_for_tick(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "tick", (line, proc.stderr.read() if proc.stderr else "")


def _last_json(proc: subprocess.Popen[str]) -> dict[str, object]:
    out, err = proc.communicate(timeout=30)
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    assert lines, err
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def test_a_sigint_mid_run_keeps_the_partial_stage_and_skips_the_rest(
        transport: str, tiny: Callable[..., TinyServer]) -> None:
    _check_graceful_stop(tiny, transport, signal.SIGINT)


def test_sigterm_stops_a_run_as_gracefully_as_sigint(tiny: Callable[..., TinyServer]) -> None:
    _check_graceful_stop(tiny, "aiohttp", signal.SIGTERM)


def _check_graceful_stop(tiny: Callable[..., TinyServer], transport: str,
                         sig: signal.Signals) -> None:
    srv = tiny(latency_s=0.01)
    proc = _child(srv.url, "/ok", transport)
    _wait_for_tick(proc)
    proc.send_signal(sig)
    out = _last_json(proc)
    assert proc.returncode == 0
    assert out["interrupted"] is True
    assert out["stages"] == ["first"]
    assert out["accounted"] is True
    assert out["errors"] == 0
    assert int(out["requests"]) > 0  # type: ignore[call-overload]
    assert out["handlers_restored"] is True


def test_requests_still_in_flight_after_the_grace_are_abandoned_not_errors(
        transport: str, tiny: Callable[..., TinyServer]) -> None:
    srv = tiny()
    proc = _child(srv.url, "/sleep/6000", transport)   # longer than tick + 2 s grace
    _wait_for_tick(proc)
    proc.send_signal(signal.SIGINT)
    out = _last_json(proc)
    assert out["interrupted"] is True
    assert out["requests"] == 0 and out["errors"] == 0
    assert out["in_flight_at_end"] == 4


def test_a_signal_cuts_short_the_wait_for_a_finished_stages_last_requests(
        tiny: Callable[..., TinyServer]) -> None:
    # The first stage ends at 0.5 s with 4 requests hanging for 6 s (timeout 20 s);
    # the second stage starts at once and sends 4 more. Without a signal the first
    # stage's result would wait for its 4 requests; the signal allows only the
    # short grace, so all 8 are abandoned instead of completing.
    srv = tiny()
    proc = _child(srv.url, "/sleep/6000", "aiohttp", stage_s=0.5)
    _wait_for_tick(proc)
    proc.send_signal(signal.SIGINT)
    out = _last_json(proc)
    assert out["interrupted"] is True
    assert out["stages"] == ["first", "second"]
    assert out["requests"] == 0 and out["in_flight_at_end"] == 8
    assert out["accounted"] is True


def test_a_second_sigint_aborts_at_once_with_keyboard_interrupt(
        tiny: Callable[..., TinyServer]) -> None:
    srv = tiny()
    proc = _child(srv.url, "/sleep/6000", "aiohttp")
    _wait_for_tick(proc)
    proc.send_signal(signal.SIGINT)
    wait_until("the first SIGINT to be delivered", lambda: signal_delivered(proc.pid, signal.SIGINT))
    proc.send_signal(signal.SIGINT)
    out = _last_json(proc)
    assert out == {"keyboard_interrupt": True}
    assert proc.returncode == 130


def test_on_interval_returning_false_aborts_the_run(
        transport: str, tiny: Callable[..., TinyServer]) -> None:
    srv = tiny(latency_s=0.005)
    request = RequestSpec(target=srv.url, path="/ok")
    run = run_stages([Stage(0, "a", concurrency=2, duration_s=20),
                      Stage(1, "b", concurrency=2, duration_s=20, always_run=True)],
                     request, PAYLOADS, transport=transport, handle_signals=False,
                     on_interval=lambda iv, st: False)
    assert_accounted(run)
    assert run.aborted and not run.interrupted
    assert [s.label for s in run.stages] == ["a"]
    assert run.stages[0].requests > 0


def test_continue_after_false_skips_to_the_always_run_stages(
        transport: str, tiny: Callable[..., TinyServer]) -> None:
    srv = tiny()
    request = RequestSpec(target=srv.url, path="/ok")

    def keep_going(result: StageResult, stage: Stage) -> bool:
        return stage.label != "step2"

    run = run_stages([Stage(0, "step1", rate=50, requests=5),
                      Stage(1, "step2", rate=50, requests=5),
                      Stage(2, "step3", rate=50, requests=5),
                      Stage(3, "recovery", rate=50, requests=5, always_run=True)],
                     request, PAYLOADS, transport=transport, handle_signals=False,
                     continue_after=keep_going)
    assert_accounted(run)
    assert [s.label for s in run.stages] == ["step1", "step2", "recovery"]
    assert not run.aborted and not run.interrupted


def test_an_exception_in_on_interval_surfaces_after_cleanup(
        transport: str, tiny: Callable[..., TinyServer]) -> None:
    srv = tiny()

    def broken(iv: object, stage: Stage) -> bool:
        raise ZeroDivisionError("display bug")

    with pytest.raises(ZeroDivisionError, match="display bug"):
        run_stages([Stage(0, "a", concurrency=1, duration_s=10)],
                   RequestSpec(target=srv.url, path="/ok"), PAYLOADS,
                   transport=transport, handle_signals=False, on_interval=broken)


def test_a_steady_target_is_found_stable_before_max_duration(
        transport: str, tiny: Callable[..., TinyServer]) -> None:
    srv = tiny(latency_s=0.005)
    rule = Stability(windows=2, window_s=1, tolerance=0.5, max_duration_s=8)
    run = run_stages([Stage(0, "settle", rate=100, stability=rule)],
                     RequestSpec(target=srv.url, path="/ok"), PAYLOADS,
                     transport=transport, handle_signals=False)
    assert_accounted(run)
    s = run.stages[0]
    assert s.stable is True
    assert s.duration_s < 8


def test_a_target_that_never_settles_is_reported_unstable(
        transport: str, tiny: Callable[..., TinyServer]) -> None:
    # Real per-second figures never agree within 0.01%, so the stage runs to its
    # max_duration and says it did not settle.
    srv = tiny(latency_s=0.005)
    rule = Stability(windows=2, window_s=1, tolerance=0.0001, max_duration_s=2)
    run = run_stages([Stage(0, "never", concurrency=1, stability=rule)],
                     RequestSpec(target=srv.url, path="/ok"), PAYLOADS,
                     transport=transport, handle_signals=False)
    assert_accounted(run)
    assert run.stages[0].stable is False
