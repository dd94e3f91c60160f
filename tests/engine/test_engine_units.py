"""Pure pieces of the engine: no network, no event loop."""

from __future__ import annotations

import errno

import aiohttp
import pytest

from loadkit.engine import combine_payloads, resolve_transport
from loadkit.engine.aiohttp_transport import classify
from loadkit.engine.health import OpenStageReport, fell_behind_reasons
from loadkit.engine.pacer import default_max_in_flight
from loadkit.engine.prepare import validate_stages
from loadkit.engine.stability import is_stable, spread
from loadkit.errors import UsageError
from loadkit.results.model import Interval
from loadkit.results.recorder import Recorder, StageMeta
from loadkit.scenario.plan import PayloadSet, RequestSpec, Stability, Stage


def _iv(rps: float, p99_ms: float, n: int = 100) -> Interval:
    return Interval(t=0, elapsed_s=0, stage=0, requests=n, ok=n, errors=0, rps=rps,
                    p50_ms=1, p90_ms=1, p95_ms=1, p99_ms=p99_ms, max_ms=p99_ms)


RULE = Stability(windows=3, window_s=2, tolerance=0.10, max_duration_s=60)


def test_steady_windows_are_stable() -> None:
    ivs = [_iv(100 + (i % 2), 20.0 + (i % 3) * 0.3) for i in range(6)]
    assert is_stable(ivs, RULE)


def test_rising_throughput_is_not_stable() -> None:
    ivs = [_iv(100 + 20 * i, 20.0) for i in range(6)]
    assert not is_stable(ivs, RULE)


def test_a_p99_that_keeps_growing_is_not_stable() -> None:
    ivs = [_iv(100, 20.0 * (1 + i)) for i in range(6)]
    assert not is_stable(ivs, RULE)


def test_too_few_seconds_are_never_stable() -> None:
    assert not is_stable([_iv(100, 20.0)] * 5, RULE)


def test_only_the_last_windows_count_for_stability() -> None:
    ivs = [_iv(10, 500.0)] * 4 + [_iv(100, 20.0)] * 6
    assert is_stable(ivs, RULE)


def test_spread_of_equal_or_zero_values_is_zero() -> None:
    assert spread([5, 5, 5]) == 0
    assert spread([0, 0]) == 0
    assert spread([90, 110]) == pytest.approx(0.2)


def test_open_stage_sending_under_95_percent_fell_behind() -> None:
    reasons = fell_behind_reasons(
        [OpenStageReport("s1", rate=100, scheduled=100, issued=90, far_behind=0, warmup=False)])
    assert len(reasons) == 1 and "90 of 100" in reasons[0]


def test_open_stage_on_schedule_did_not_fall_behind() -> None:
    assert fell_behind_reasons(
        [OpenStageReport("s1", rate=100, scheduled=100, issued=100, far_behind=1, warmup=False)]) == []


def test_a_shortfall_behind_a_full_in_flight_bound_is_the_targets_fault() -> None:
    report = OpenStageReport("s1", rate=100, scheduled=100, issued=20, far_behind=0,
                             warmup=False, slot_waits=15)
    assert fell_behind_reasons([report]) == []


def test_warmup_and_tiny_stages_are_not_judged_for_rate() -> None:
    reports = [OpenStageReport("w", 100, 100, 10, 0, warmup=True),
               OpenStageReport("t", 100, 10, 5, 0, warmup=False)]
    assert fell_behind_reasons(reports) == []


def _behind(far_behind: int, behind_windows: int, windows: int = 40, lag_ms: float = 20.0,
            p99_ms: float | None = 12.0) -> OpenStageReport:
    return OpenStageReport("s", rate=250, scheduled=1000, issued=1000, far_behind=far_behind,
                           warmup=False, behind_windows=behind_windows, windows=windows,
                           behind_lag_ms=lag_ms, p99_ms=p99_ms)


def test_late_starts_recurring_across_the_stage_mean_the_loop_was_behind() -> None:
    reasons = fell_behind_reasons([_behind(far_behind=300, behind_windows=30)])
    assert any("event loop was behind" in r for r in reasons)


def test_one_pause_making_a_burst_of_late_starts_is_not_a_generator_that_fell_behind() -> None:
    # 38 ms at 250 rps: ~7 starts > 10 ms late, all in one or two 100 ms windows.
    assert fell_behind_reasons([_behind(far_behind=7, behind_windows=2, windows=10)]) == []


def test_late_starts_in_few_windows_of_a_long_stage_are_tolerated() -> None:
    assert fell_behind_reasons([_behind(far_behind=30, behind_windows=3, windows=600)]) == []


def test_late_starts_small_next_to_the_stages_p99_do_not_decide_it() -> None:
    report = _behind(far_behind=300, behind_windows=30, lag_ms=18.0, p99_ms=260.0)
    assert fell_behind_reasons([report]) == []


def test_a_stage_with_under_one_percent_late_starts_is_not_judged_behind() -> None:
    assert fell_behind_reasons([_behind(far_behind=9, behind_windows=9)]) == []


def test_repeated_loop_stalls_mean_the_generator_fell_behind() -> None:
    reasons = fell_behind_reasons([], lagged_samples=3, samples=100)
    assert reasons and "event-loop lag" in reasons[0]


def test_a_lone_loop_hiccup_in_a_short_run_is_not_a_trend() -> None:
    assert fell_behind_reasons([], lagged_samples=1, samples=30) == []


def test_rare_loop_stalls_in_a_long_run_are_tolerated() -> None:
    assert fell_behind_reasons([], lagged_samples=5, samples=6000) == []


@pytest.mark.parametrize(("rate", "timeout_s", "expected"), [
    (10, 1.0, 64), (100, 5.0, 500), (5000, 5.0, 1000)], ids=["floor", "rate-x-timeout", "cap"])
def test_default_max_in_flight_covers_a_timeout_window_within_bounds(
        rate: float, timeout_s: float, expected: int) -> None:
    assert default_max_in_flight(rate, timeout_s) == expected


def test_payload_sets_of_several_batch_sizes_share_one_indexed_set() -> None:
    combined, where = combine_payloads({
        1: PayloadSet(1, (b"a", b"b")), 4: PayloadSet(4, (b"cccc",)), 8: PayloadSet(8, ())})
    assert where == {1: (0, 2), 4: (2, 1), 8: (3, 1)}
    assert combined.bodies == (b"a", b"b", b"cccc", b"")


def test_empty_payload_mapping_gets_one_empty_body() -> None:
    combined, where = combine_payloads({})
    assert combined.bodies == (b"",) and where == {1: (0, 1)}


@pytest.mark.parametrize("stage", [
    Stage(0, "both", concurrency=1, rate=5, duration_s=1),
    Stage(0, "neither", duration_s=1),
    Stage(0, "endless", concurrency=1),
    Stage(0, "zero", concurrency=0, duration_s=1),
    Stage(0, "neg-rate", rate=-1, duration_s=1),
    Stage(0, "batch", concurrency=1, duration_s=1, batch_size=3),
], ids=lambda s: s.label)
def test_a_stage_the_engine_cannot_run_is_refused_by_name(stage: Stage) -> None:
    with pytest.raises(UsageError, match=f"stage {stage.label}"):
        validate_stages([stage], {1: None})


def test_unknown_transport_name_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="transport"):
        resolve_transport("quic", RequestSpec(target="http://127.0.0.1:1"))


def test_aiohttp_transport_is_always_available() -> None:
    assert resolve_transport("aiohttp", RequestSpec(target="http://127.0.0.1:1")) == "aiohttp"


def _conn_key() -> object:
    class Key:
        ssl = None
        host = "127.0.0.1"
        port = 1
    return Key()


@pytest.mark.parametrize(("exc", "kind"), [
    (TimeoutError(), "timeout"),
    (aiohttp.ServerTimeoutError(), "timeout"),
    (aiohttp.ClientConnectorError(_conn_key(), OSError(errno.ECONNREFUSED, "refused")),  # type: ignore[arg-type]
     "connect"),
    (aiohttp.ServerDisconnectedError(), "reset"),
    (aiohttp.ClientPayloadError("cut"), "reset"),
    (aiohttp.ClientOSError(errno.ECONNRESET, "reset by peer"), "reset"),
    (ConnectionResetError(), "reset"),
    (aiohttp.ClientOSError(), "reset"),          # no errno: what aiohttp raised as uvicorn exited
    (aiohttp.ClientConnectionResetError("Cannot write to closing transport"), "reset"),
    (aiohttp.ClientResponseError(None, (), status=400, message="bad status line"),  # type: ignore[arg-type]
     "protocol"),
    (ValueError("odd"), "other"),
], ids=["timeout", "server-timeout", "refused", "disconnected", "payload", "econnreset",
        "connreset", "oserror-no-errno", "closing-transport", "malformed", "other"])
def test_aiohttp_failures_map_to_error_kinds(exc: BaseException, kind: str) -> None:
    assert classify(exc) == kind


def test_recorder_counts_ok_statuses_and_error_kinds_with_every_latency_recorded() -> None:
    rec = Recorder()
    rec.begin_stage(StageMeta(index=0, label="s"))
    for _ in range(5):
        rec.ok(1000, 200)
    rec.error("http_5xx", 2000, 503)
    rec.error("timeout", 3000)
    res = rec.end_stage(1.0)
    assert (res.requests, res.ok, res.errors) == (7, 5, 2)
    assert res.status_codes == {"200": 5, "503": 1}
    assert res.error_kinds == {"http_5xx": 1, "timeout": 1}
    assert res.hist_all().count == 7 and res.hist().count == 5   # every request; successes
