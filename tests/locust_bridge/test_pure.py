"""The bridge's pure parts, tested without locust (gevent must never enter pytest)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from loadkit.errors import ScenarioError, UsageError
from loadkit.locust_bridge.collect import (
    bucket_3sig,
    decode_part,
    encode_part,
    error_kind_of,
    latency_us,
    transport_error_kind,
)
from loadkit.locust_bridge.launch import LOCUSTFILE, bridge_env, build_locust_command
from loadkit.locust_bridge.schedule import ShapeClock, plan_shape, users_for_rate
from loadkit.locust_bridge.settings import BridgeSettings
from loadkit.scenario.plan import Stage


def test_launch_module_imports_neither_locust_nor_gevent():
    code = ("import sys, loadkit.locust_bridge.launch, loadkit.locust_bridge.gate;"
            "bad=[m for m in ('locust','gevent') if m in sys.modules];"
            "sys.exit(1 if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=str(LOCUSTFILE.parents[2]), check=False).returncode == 0


@pytest.mark.parametrize("mode,expected,absent", [
    ("ui", ["--web-host", "127.0.0.1", "--web-port", "8089"], ["--headless", "--master"]),
    ("headless", ["--headless"], ["--web-port"]),
    ("master", ["--master", "--expect-workers", "2", "--web-port"], ["--worker"]),
    ("worker", ["--worker", "--master-host", "10.0.0.5"], ["--web-port", "--master"]),
], ids=["ui", "headless", "master", "worker"])
def test_command_for_each_mode_runs_locust_on_the_bridge_locustfile(mode, expected, absent):
    cmd = build_locust_command("s.yaml", out_dir="out", mode=mode, expect_workers=2,
                               master_host="10.0.0.5")
    assert cmd[1:5] == ["-m", "locust", "-f", str(LOCUSTFILE)]
    for token in expected:
        assert token in cmd
    for token in absent:
        assert token not in cmd


def test_extra_args_come_last_and_headless_master_has_no_web_ui():
    cmd = build_locust_command("s.yaml", out_dir="o", mode="master", processes=3,
                               extra_args=["--headless", "-t", "30s"])
    assert cmd[-3:] == ["--headless", "-t", "30s"]
    assert "--web-port" not in cmd
    assert cmd[cmd.index("--processes") + 1] == "3"


@pytest.mark.parametrize("kwargs", [{"mode": "swarm"}, {"processes": 0}, {"web_port": 70000}],
                         ids=["unknown-mode", "zero-processes", "bad-port"])
def test_bad_launch_options_are_usage_errors(kwargs):
    with pytest.raises(UsageError):
        build_locust_command("s.yaml", out_dir="o", **kwargs)


def test_environment_carries_absolute_paths_and_the_repo_on_pythonpath(tmp_path):
    env = bridge_env("rel/s.yaml", profile="ramp", out_dir="rel/out", base={"PYTHONPATH": "/x"})
    settings = BridgeSettings.from_env(env)
    assert settings.scenario_path.endswith("rel/s.yaml") and settings.scenario_path.startswith("/")
    assert settings.profile == "ramp"
    assert settings.out_dir.startswith("/")
    assert env["PYTHONPATH"].split(":")[0] == str(LOCUSTFILE.parents[2])
    assert "/x" in env["PYTHONPATH"].split(":")


def test_missing_scenario_variable_is_a_one_line_usage_error():
    with pytest.raises(UsageError, match="LOADKIT_SCENARIO"):
        BridgeSettings.from_env({})


def test_closed_stage_becomes_that_many_users():
    (step,) = plan_shape([Stage(index=0, label="c8", concurrency=8, duration_s=5)])
    assert (step.users, step.user_rps, step.duration_s) == (8, None, 5)


def test_rate_stage_becomes_paced_users_whose_pacing_sums_to_the_rate():
    (step,) = plan_shape([Stage(index=0, label="r", rate=95, duration_s=5)], user_rps=10)
    assert step.users == 10
    assert step.user_rps * step.users == pytest.approx(95)
    assert step.rate == 95 and step.concurrency is None


def test_max_in_flight_caps_the_paced_users():
    assert users_for_rate(1000, 10, max_in_flight=16) == 16
    assert users_for_rate(0.5, 10) == 1


def test_stage_without_duration_or_requests_is_refused():
    with pytest.raises(ScenarioError):
        plan_shape([Stage(index=0, label="x", concurrency=1)])


def test_clock_moves_on_by_time_and_by_request_budget_then_ends():
    steps = plan_shape([Stage(index=0, label="warm", concurrency=1, duration_s=2, warmup=True),
                        Stage(index=1, label="n", concurrency=2, requests=100),
                        Stage(index=2, label="t", concurrency=3, duration_s=1)])
    clock = ShapeClock(steps)
    assert clock.current(0.0, 0).index == 0
    assert clock.current(1.9, 50).index == 0
    assert clock.current(2.0, 50).index == 1       # time is up: next step starts at 50 requests
    assert clock.current(9.0, 149).index == 1
    assert clock.current(9.5, 150).index == 2      # 100 requests spent
    assert clock.current(10.6, 999) is None
    clock.reset()
    assert clock.current(0.0, 0).index == 0


def test_latency_is_whole_microseconds_from_float_milliseconds():
    assert latency_us(2.3456) == 2346
    assert latency_us(0.0) == 1
    assert latency_us(None) == 1


@pytest.mark.parametrize("exc,kind", [
    ("http_5xx", "http_5xx"),
    ("check_failed", "check_failed"),
    (ConnectionRefusedError(), "connect"),
    (ConnectionResetError(), "reset"),
    (TimeoutError(), "timeout"),
    (ValueError("weird"), "other"),
], ids=["5xx", "check", "refused", "reset", "timeout", "other"])
def test_failures_get_loadkit_error_kinds(exc, kind):
    assert error_kind_of(exc) == kind


def test_transport_timeouts_are_recognised_by_type_name():
    class Timeout(Exception):
        pass

    assert transport_error_kind(Timeout()) == "timeout"


@pytest.mark.parametrize("ms,bucket", [(2.3456, 2.35), (0.01234, 0.0123), (147.4, 147),
                                       (3432.0, 3430), (58760.0, 58800), (0, 0)],
                         ids=["2ms", "sub-ms", "147ms", "3.4s", "58s", "zero"])
def test_locust_buckets_keep_three_significant_digits(ms, bucket):
    assert bucket_3sig(ms) == bucket


def test_a_part_survives_the_wire_exactly(tmp_path):
    from loadkit.results.aggregate import summarize
    from loadkit.results.model import ProfileResult
    from loadkit.results.recorder import Recorder, StageMeta

    rec = Recorder()
    rec.begin_stage(StageMeta(index=0, label="a", concurrency=2))
    for v in (100, 250, 9000, 123456):
        rec.ok(v)
    rec.error("http_5xx", 777, 500)
    rec.end_stage(1.0)
    profile = ProfileResult(name="p", kind="throughput", stages=tuple(rec.stages),
                            summary=summarize(rec.stages))
    node, back, peak = decode_part(encode_part(profile, node="w1", users_peak=3))
    assert (node, peak) == ("w1", 3)
    assert back == profile
