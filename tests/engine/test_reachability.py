"""Before any load: a target that is not there ends the run with one clear line (exit 3)."""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from collections.abc import Callable

import pytest

from loadkit.engine import check_reachable, measure_cold_start
from loadkit.errors import EXIT_UNREACHABLE, TargetUnreachable, UsageError
from loadkit.scenario.plan import RequestSpec
from tests.engine.tiny_server import TinyServer


def test_a_closed_port_is_unreachable_with_host_and_port_named(closed_port: int) -> None:
    with pytest.raises(TargetUnreachable) as caught:
        check_reachable(RequestSpec(target=f"http://user:s3cret@127.0.0.1:{closed_port}/x?token=abc"))
    message = str(caught.value)
    assert f"127.0.0.1:{closed_port}" in message and "refused" in message
    assert "\n" not in message
    assert "s3cret" not in message and "abc" not in message
    assert caught.value.exit_code == EXIT_UNREACHABLE


def test_a_listening_target_is_reachable(tiny: Callable[..., TinyServer]) -> None:
    srv = tiny()
    check_reachable(RequestSpec(target=srv.url))


def test_a_readiness_path_that_never_answers_200_is_unreachable(
        tiny: Callable[..., TinyServer]) -> None:
    srv = tiny(ready_after_s=3600)
    with pytest.raises(TargetUnreachable, match=r"never became ready: GET /ready .*0\.3s.*HTTP 503"):
        check_reachable(RequestSpec(target=srv.url, readiness_path="/ready"), wait_ready_s=0.3)


def test_waiting_for_readiness_succeeds_once_the_path_answers_200(
        tiny: Callable[..., TinyServer]) -> None:
    srv = tiny(ready_after_s=0.3)
    check_reachable(RequestSpec(target=srv.url, readiness_path="/ready"), wait_ready_s=10)


def test_cold_start_is_the_time_until_the_readiness_path_answers_200(
        tiny: Callable[..., TinyServer]) -> None:
    srv = tiny(ready_after_s=0.4)
    connect_s, ready_s = measure_cold_start(
        RequestSpec(target=srv.url, readiness_path="/ready"), timeout_s=10)
    assert connect_s < ready_s


def test_a_target_that_is_not_an_http_url_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="target"):
        check_reachable(RequestSpec(target="ftp://127.0.0.1:21"))


def test_an_interrupt_during_the_readiness_wait_unwinds_the_probe_before_returning(
        tiny: Callable[..., TinyServer], monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI turns SIGTERM into KeyboardInterrupt, raised out of the running loop. The
    # probe coroutine (suspended in its aiohttp session) must be cancelled and unwound
    # before the loop closes -- not finalised later by the garbage collector, which
    # printed "Exception ignored in: <coroutine object _wait>: coroutine ignored GeneratorExit".
    srv = tiny(ready_after_s=3600)
    unraisable: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: unraisable.append(repr(u.exc_value)))

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGUSR1, interrupt)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1))
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            check_reachable(RequestSpec(target=srv.url, readiness_path="/ready"),
                            wait_ready_s=30)
        gc.collect()
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, old)
    assert unraisable == []
