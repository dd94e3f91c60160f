"""Option values -> numbers for the mock server: "20ms", "10%", "4MB".

The mock server imports nothing from loadkit (see DESIGN.md), so it carries its
own tiny parsers. Their syntax matches loadkit.units on purpose: a scenario's
``mock:`` block reads the same as the rest of the scenario. Every parser takes
a str or a bare number and raises ``ValueError`` with a short reason that the
option layer prefixes with the option's name.
"""

from __future__ import annotations

import math
import re

_NUM = r"(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
_DURATION_RE = re.compile(rf"^\s*{_NUM}\s*(?P<unit>us|µs|ms|s|min|m|h)?\s*$")
_DURATION_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_FRACTION_RE = re.compile(rf"^\s*{_NUM}\s*(?P<pct>%)?\s*$")
_BYTES_RE = re.compile(rf"^\s*{_NUM}\s*(?P<unit>b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_BYTE_UNITS = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
}


def _number(value: str | float, pattern: re.Pattern[str], what: str) -> re.Match[str] | float:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"expected {what}, got {value!r}")  # noqa: TRY004
    if isinstance(value, (int, float)):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"expected a finite {what}, got {value!r}")
        return float(value)
    m = pattern.match(value)
    if not m:
        raise ValueError(f"{value!r} is not {what}")
    num = float(m.group("num"))
    if math.isnan(num) or math.isinf(num):
        raise ValueError(f"expected a finite {what}, got {value!r}")
    return m


def parse_duration_s(value: str | float) -> float:
    """Seconds from "500us", "20ms", "1.5s", "2m", "1h" or a bare number of seconds; >= 0."""
    got = _number(value, _DURATION_RE, "a duration (e.g. 20ms, 1.5s, 2m)")
    seconds = got if isinstance(got, float) else float(got["num"]) * _DURATION_UNITS[got["unit"] or "s"]
    if seconds < 0:
        raise ValueError(f"{value!r} is negative")
    return seconds


def parse_fraction(value: str | float) -> float:
    """A probability from "10%" or a bare fraction (0.1); must lie in [0, 1]."""
    got = _number(value, _FRACTION_RE, "a fraction (e.g. 0.1 or 10%)")
    fraction = got if isinstance(got, float) else float(got["num"]) / (100.0 if got["pct"] else 1.0)
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"{value!r} is outside 0..1 (0%..100%)")
    return fraction


def parse_bytes(value: str | float) -> int:
    """A byte count from "4MB", "512KiB" or a bare number of bytes; >= 0."""
    got = _number(value, _BYTES_RE, "a byte size (e.g. 4MB, 512KiB, 1000)")
    size = got if isinstance(got, float) else float(got["num"]) * _BYTE_UNITS[(got["unit"] or "b").lower()]
    if size < 0:
        raise ValueError(f"{value!r} is negative")
    return int(size)


def parse_count(value: str | float, minimum: int = 0) -> int:
    """A whole number >= minimum; "4" and 4 both work, 4.5 does not."""
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {value!r}")  # noqa: TRY004
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a whole number") from None
    if not isinstance(value, int):
        raise ValueError(f"{value!r} is not a whole number")  # noqa: TRY004
    if value < minimum:
        raise ValueError(f"{value} is below the minimum {minimum}")
    return value
