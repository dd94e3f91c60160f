"""Human units -> numbers: "250ms", "2m", "50rps", "1%". Pure; used by scenario and SLA.

Every parser accepts a bare number too (seconds, rps, or a fraction) and raises
``ValueError`` with a short reason that callers wrap with the field name.
"""

from __future__ import annotations

import math
import re

_NUM = r"(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"

_DURATION_UNITS = {
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
}
_DURATION_RE = re.compile(rf"^\s*{_NUM}\s*(?P<unit>us|µs|ms|s|min|m|h)?\s*$")
_COMPOUND_RE = re.compile(r"^\s*(?:\d+(?:\.\d+)?(?:h|m|s|ms))+\s*$")
_COMPOUND_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")

_RATE_RE = re.compile(rf"^\s*{_NUM}\s*(?P<unit>rps|/s|rpm|/m|/min)?\s*$")
_PERCENT_RE = re.compile(rf"^\s*{_NUM}\s*(?P<unit>%)?\s*$")


def _float(value: float, what: str) -> float:
    try:
        return float(value)
    except OverflowError:  # a huge int (e.g. 400 digits in YAML)
        raise ValueError(f"{what} is too large") from None


def _finite(value: float, what: str) -> float:
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{what} must be a finite number")
    return value


def parse_duration(value: str | float) -> float:
    """Seconds from "500ms", "30s", "2m", "1h", "1m30s" or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 500ms, 30s or 2m")
    if isinstance(value, (int, float)):
        return _finite(_float(value, "duration"), "duration")
    if not isinstance(value, str):
        raise ValueError("expected a duration like 500ms, 30s or 2m")
    m = _DURATION_RE.match(value)
    if m:
        unit = m.group("unit") or "s"
        return _finite(float(m.group("num")) * _DURATION_UNITS[unit], "duration")
    if _COMPOUND_RE.match(value):
        total = 0.0
        for num, unit in _COMPOUND_PART.findall(value):
            total += float(num) * _DURATION_UNITS[unit]
        return _finite(total, "duration")
    raise ValueError(f"{value!r} is not a duration (use e.g. 500ms, 30s, 2m)")


def parse_latency_us(value: str | float) -> float:
    """Microseconds from "200ms", "1.5s", "900us" (a bare number means milliseconds)."""
    if isinstance(value, bool):
        raise ValueError("expected a latency like 200ms")
    if isinstance(value, (int, float)):
        return _finite(_finite(_float(value, "latency"), "latency") * 1e3, "latency")
    m = _DURATION_RE.match(value) if isinstance(value, str) else None
    if not m or (m.group("unit") or "ms") not in ("us", "µs", "ms", "s"):
        raise ValueError(f"{value!r} is not a latency (use e.g. 900us, 200ms, 1.5s)")
    unit = m.group("unit") or "ms"
    return _finite(float(m.group("num")) * _DURATION_UNITS[unit] * 1e6, "latency")


def parse_rate(value: str | float) -> float:
    """Requests per second from "50rps", "50/s", "600rpm" or a bare number."""
    if isinstance(value, bool):
        raise ValueError("expected a rate like 50rps")
    if isinstance(value, (int, float)):
        return _finite(_float(value, "rate"), "rate")
    m = _RATE_RE.match(value) if isinstance(value, str) else None
    if not m:
        raise ValueError(f"{value!r} is not a rate (use e.g. 50rps or 50/s)")
    num = float(m.group("num"))
    unit = m.group("unit") or "rps"
    if unit in ("rpm", "/m", "/min"):
        num /= 60.0
    return _finite(num, "rate")


def parse_fraction(value: str | float) -> float:
    """A fraction from "1%", "0.5%", or a bare number (0.01 means 1%)."""
    if isinstance(value, bool):
        raise ValueError("expected a percentage like 1%")
    if isinstance(value, (int, float)):
        return _finite(_float(value, "fraction"), "fraction")
    m = _PERCENT_RE.match(value) if isinstance(value, str) else None
    if not m:
        raise ValueError(f"{value!r} is not a percentage (use e.g. 1% or 0.01)")
    num = float(m.group("num"))
    return _finite(num / 100.0 if m.group("unit") else num, "fraction")


def format_duration(seconds: float) -> str:
    """Short human form used in tables: 850ms, 12.5s, 3m20s."""
    if seconds < 1:
        return f"{seconds * 1e3:.0f}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}m{rest:02d}s"


def format_latency_ms(ms: float | None) -> str:
    """Latency for humans: 0.45ms, 12.3ms, 1.24s."""
    if ms is None or (isinstance(ms, float) and math.isnan(ms)):
        return "-"
    if ms >= 1000:
        return f"{ms / 1000:.3g}s"
    if ms >= 100:
        return f"{ms:.0f}ms"
    if ms >= 1:
        return f"{ms:.3g}ms"
    return f"{ms:.2g}ms"
