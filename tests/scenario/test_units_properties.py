"""Property tests for loadkit.units: the parsers behind every duration, rate and percent."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadkit.units import (
    format_duration,
    parse_duration,
    parse_fraction,
    parse_latency_us,
    parse_rate,
)

finite = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
PARSERS = [parse_duration, parse_rate, parse_fraction, parse_latency_us]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@given(finite)
def test_a_bare_number_is_seconds_rps_or_fraction(x: float) -> None:
    assert parse_duration(x) == x
    assert parse_rate(x) == x
    assert parse_fraction(x) == x
    assert close(parse_latency_us(x), x * 1e3)


@given(finite, st.sampled_from([("us", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0),
                                ("min", 60.0), ("h", 3600.0)]), st.sampled_from(["", " "]))
def test_duration_units_scale_the_number(x: float, unit: tuple[str, float], gap: str) -> None:
    name, factor = unit
    assert close(parse_duration(f"{x!r}{gap}{name}"), x * factor)


@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(["h", "m", "s", "ms"])),
                min_size=1, max_size=4))
def test_compound_durations_add_up(parts: list[tuple[int, str]]) -> None:
    factor = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3}
    text = "".join(f"{n}{u}" for n, u in parts)
    assert close(parse_duration(text), sum(n * factor[u] for n, u in parts))


@given(st.floats(min_value=0.001, max_value=1e6, allow_nan=False))
def test_formatted_durations_parse_back_close_to_the_value(seconds: float) -> None:
    back = parse_duration(format_duration(seconds))
    assert math.isclose(back, seconds, rel_tol=0.01, abs_tol=0.5)


@given(finite, st.sampled_from([("rps", 1.0), ("/s", 1.0), ("rpm", 1 / 60), ("/m", 1 / 60),
                                ("/min", 1 / 60)]))
def test_rate_units_scale_the_number(x: float, unit: tuple[str, float]) -> None:
    assert close(parse_rate(f"{x!r}{unit[0]}"), x * unit[1])


@given(finite)
def test_percent_is_a_hundredth(x: float) -> None:
    assert close(parse_fraction(f"{x!r}%"), x / 100)


@given(finite, st.sampled_from([("us", 1.0), ("ms", 1e3), ("s", 1e6)]))
def test_latency_units_give_microseconds(x: float, unit: tuple[str, float]) -> None:
    assert close(parse_latency_us(f"{x!r}{unit[0]}"), x * unit[1])


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=30), st.none(), st.booleans(), st.lists(st.integers()),
                 st.integers(min_value=-10**400, max_value=10**400),
                 st.floats(), st.text(alphabet="0123456789.eE+-smhu%/rpin ", max_size=12)))
@pytest.mark.parametrize("parse", PARSERS, ids=lambda f: f.__name__)
def test_parsers_return_a_finite_number_or_raise_value_error(parse, value) -> None:
    try:
        got = parse(value)
    except ValueError:
        return
    assert isinstance(got, float) and math.isfinite(got)


@pytest.mark.parametrize("parse, text", [
    (parse_duration, "9" * 400 + "h1s"), (parse_duration, "1e999s"), (parse_rate, "1e999rps"),
    (parse_fraction, "1e999%"), (parse_latency_us, "1e999ms"), (parse_duration, 10**400),
    (parse_rate, 10**400), (parse_fraction, 10**400), (parse_latency_us, 10**400),
    (parse_latency_us, 1e306),
], ids=["compound-overflow", "duration-overflow", "rate", "fraction", "latency",
        "huge-int-duration", "huge-int-rate", "huge-int-fraction", "huge-int-latency",
        "bare-latency-times-1000"])
def test_overflowing_values_are_refused(parse, text: str) -> None:
    with pytest.raises(ValueError):
        parse(text)
