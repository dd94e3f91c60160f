"""Options: one set of names for the command line, presets and a scenario's mock: block."""

from __future__ import annotations

import pytest

from mock_server.faults import Stall
from mock_server.latency import LatencyModel
from mock_server.options import (
    OPTIONS,
    PRESETS,
    MockOptions,
    build_parser,
    from_mapping,
    parse_args,
    to_argv,
)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_parses_into_options(name: str) -> None:
    options = from_mapping({"preset": name})
    assert options.preset == name
    assert options != MockOptions(preset=name)  # a preset changes something beyond its name


def test_overloaded_preset_limits_capacity_and_queue() -> None:
    options = from_mapping({"preset": "overloaded"})
    assert (options.capacity, options.queue) == (4, 16)


def test_explicit_options_override_the_preset() -> None:
    options = from_mapping({"preset": "overloaded", "capacity": 9, "latency": "fixed:1ms"})
    assert options.capacity == 9
    assert options.latency == LatencyModel("fixed", 0.001)
    assert options.queue == 16  # untouched preset values stay


def test_dashes_and_underscores_name_the_same_option() -> None:
    a = from_mapping({"error_rate": 0.1, "per_row": "1ms", "cold_start": "2s"})
    b = from_mapping({"error-rate": "10%", "per-row": 0.001, "cold-start": 2})
    assert a == b
    assert a.faults.error == pytest.approx(0.1)
    assert a.per_row_s == pytest.approx(0.001)
    assert a.cold_start_s == 2.0


def test_unknown_key_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'capactiy'"):
        from_mapping({"capactiy": 4})


@pytest.mark.parametrize(
    ("mapping", "named"),
    [
        ({"capacity": -1}, "capacity"),
        ({"capacity": 2.5}, "capacity"),
        ({"error_rate": 1.5}, "error-rate"),
        ({"error_rate": "ten"}, "error-rate"),
        ({"latency": "gaussian:10ms"}, "latency"),
        ({"latency": "lognormal:p50=10ms"}, "latency"),
        ({"latency": "lognormal:p50=50ms,p99=10ms"}, "latency"),
        ({"stall": "1s@every:500ms"}, "stall"),
        ({"stall": "1s"}, "stall"),
        ({"cold_start": "soon"}, "cold-start"),
        ({"port": 70000}, "port"),
        ({"preset": "medium"}, "preset"),
        ({"large_body_bytes": "4 parsecs"}, "large-body-bytes"),
        ({"model_version": ""}, "model-version"),
        ({"seed": True}, "seed"),
    ],
    ids=lambda v: str(v),
)
def test_bad_values_are_refused_naming_the_option(mapping: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=f"^{named}: "):
        from_mapping(mapping)


def test_fault_rates_adding_up_to_more_than_one_are_refused() -> None:
    with pytest.raises(ValueError, match="add up to"):
        from_mapping({"error_rate": 0.6, "hang_rate": 0.5})


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("fixed:20ms", LatencyModel("fixed", 0.020)),
        ("20ms", LatencyModel("fixed", 0.020)),
        ("uniform:5ms:15ms", LatencyModel("uniform", 0.005, 0.015)),
        ("lognormal:p50=10ms,p99=80ms", LatencyModel("lognormal", 0.010, 0.080)),
        ("lognormal:p99=1s,p50=100ms", LatencyModel("lognormal", 0.1, 1.0)),
    ],
)
def test_latency_specs_parse(spec: str, expected: LatencyModel) -> None:
    assert LatencyModel.parse(spec) == expected
    assert LatencyModel.parse(expected.spec) == expected  # the canonical form reads back


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("1s@every:5s", Stall(1.0, "every", 5.0)),
        ("250ms@at:3s", Stall(0.25, "at", 3.0)),
        ("off", None),
    ],
)
def test_stall_specs_parse(spec: str, expected: Stall | None) -> None:
    assert Stall.parse(spec) == expected


def test_queue_accepts_unbounded_and_a_count() -> None:
    assert from_mapping({"queue": "unbounded"}).queue is None
    assert from_mapping({"queue": 0}).queue == 0


def test_a_mapping_and_its_command_line_give_the_same_options() -> None:
    mapping = {
        "preset": "flaky", "capacity": 4, "queue": 8, "latency": "uniform:1ms:3ms",
        "per_row": "0.5ms", "stall": "1s@every:5s", "model_version": "v2",
        "predictions_shift": "5%", "large_body_bytes": "1MiB", "seed": 7,
    }
    options, dry_run = parse_args(["--port", "0", *to_argv(mapping)])
    assert options == from_mapping(mapping)
    assert not dry_run


def test_every_option_takes_exactly_one_value_so_mappings_convert_key_for_key() -> None:
    actions = {a.option_strings[0][2:]: a for a in build_parser()._actions if a.option_strings}
    for name in OPTIONS:
        assert actions[name].nargs is None and actions[name].const is None, name


def test_a_bad_command_line_prints_one_line_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parse_args(["--latency", "sometimes"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("mock_server: error: --latency: ")


def test_an_unknown_flag_prints_one_line_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parse_args(["--capcity", "3"])
    assert info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
