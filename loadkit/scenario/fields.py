"""Field types of the scenario schema: durations, rates, percents, counts and step lists.

Where it sits: used by ``schema.py``. Each type turns what a user writes
("30s", "200rps", "10%", ``{start: 1, stop: 64, factor: 2}``) into a number in
the unit its name says, and refuses zero or negative values with a short reason
that the loader prefixes with the field path.
"""

from __future__ import annotations

import difflib
import math
from urllib.parse import urlsplit
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)
from pydantic_core import PydanticCustomError

from loadkit.units import parse_duration, parse_fraction, parse_latency_us, parse_rate

MAX_COUNT = 1_000_000          # concurrency / batch size beyond this is a typo, not a test
MAX_STEPS = 200                # a ramp or stress sequence longer than this is a typo too


def did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def is_http_url(value: str) -> bool:
    """An absolute http(s) URL with a host and a valid port (nothing else loadkit can send to)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def as_list(value: Any) -> Any:
    """A single value where a list is expected is a one-item list (``status: 200``)."""
    return value if isinstance(value, list) else [value]


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("bool_not_number", "expected a number, got {value}",
                                  {"value": str(value).lower()})
    return value


def _unit(parse: Callable[[Any], float], positive: bool = True) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if value is None:
            raise ValueError("expected a value, got nothing")
        number = parse(value)
        if positive and number <= 0:
            raise ValueError("must be greater than 0")
        if not positive and number < 0:
            raise ValueError("must not be negative")
        return number

    return check


def _positive(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _at_most_one(value: float) -> float:
    if value > 1:
        raise ValueError("must be at most 100%")
    return value


# Seconds from "500ms", "30s", "2m", "1m30s" or a bare number of seconds.
Seconds = Annotated[float, BeforeValidator(_unit(parse_duration))]
SecondsOrZero = Annotated[float, BeforeValidator(_unit(parse_duration, positive=False))]
# Requests per second from "200rps", "200/s", "600rpm" or a bare number.
Rps = Annotated[float, BeforeValidator(_unit(parse_rate))]
# A fraction in (0, 1] from "10%" or 0.1.
Fraction = Annotated[float, BeforeValidator(_unit(parse_fraction)), AfterValidator(_at_most_one)]
# Milliseconds from "2s", "200ms", or a bare number of milliseconds.
Millis = Annotated[float, BeforeValidator(_unit(lambda v: parse_latency_us(v) / 1e3))]
Count = Annotated[int, BeforeValidator(_no_bool), Field(gt=0, le=MAX_COUNT)]
Number = Annotated[float, BeforeValidator(_no_bool), AfterValidator(_positive)]
# A count that may be 0 (e.g. a search's extra runs of a probe).
CountOrZero = Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=MAX_COUNT)]
# A stage index of a profile, as reports print it (0 upward); range checked against the profile.
StageIndex = Annotated[int, BeforeValidator(_no_bool), Field(ge=0)]


class Strict(BaseModel):
    """Base of every scenario model: unknown fields refused, with a did-you-mean."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = [f.alias or name for name, f in cls.model_fields.items()]
            for key in data:
                if key not in known:
                    raise PydanticCustomError(
                        "unknown_field", "unknown field", {"field": str(key), "known": known})
        return data


class IntRange(Strict):
    """``{start, stop, step}`` (arithmetic) or ``{start, stop, factor}`` (geometric)."""

    start: Count
    stop: Count
    step: Count | None = None
    factor: Number | None = None

    @model_validator(mode="after")
    def _shape(self) -> IntRange:
        _check_range(self.start, self.stop, self.step, self.factor)
        return self

    def values(self) -> tuple[int, ...]:
        return tuple(round(v) for v in _expand(self.start, self.stop, self.step,
                                                     self.factor, integral=True))


class RateRange(Strict):
    start: Rps
    stop: Rps
    step: Rps | None = None
    factor: Number | None = None

    @model_validator(mode="after")
    def _shape(self) -> RateRange:
        _check_range(self.start, self.stop, self.step, self.factor)
        return self

    def values(self) -> tuple[float, ...]:
        return tuple(_expand(self.start, self.stop, self.step, self.factor, integral=False))


def _check_range(start: float, stop: float, step: float | None, factor: float | None) -> None:
    if (step is None) == (factor is None):
        raise PydanticCustomError("range_shape", "give exactly one of step or factor")
    if stop < start:
        raise PydanticCustomError("range_order", "stop ({stop}) is below start ({start})",
                                  {"stop": f"{stop:g}", "start": f"{start:g}"})
    if factor is not None and factor <= 1:
        raise PydanticCustomError("range_factor", "factor must be greater than 1")
    n = (1 + (stop - start) / step if step is not None
         else 1 + math.log(stop / start) / math.log(factor or 2))
    if n > MAX_STEPS + 1:
        raise PydanticCustomError("range_long", "makes {n} steps; at most {max} are allowed",
                                  {"n": int(n), "max": MAX_STEPS})


def _expand(start: float, stop: float, step: float | None, factor: float | None,
            integral: bool) -> list[float]:
    """Steps from start up to stop; stop itself is always the last step."""
    out: list[float] = []
    value = start
    while value < stop * (1 - 1e-9):
        nxt = round(value) if integral else round(value, 6)
        if not out or nxt != out[-1]:
            out.append(nxt)
        value = value + step if step is not None else value * (factor or 2)
    if not out or out[-1] != stop:
        out.append(stop)
    return out


def _shape_of(value: Any) -> str:
    if isinstance(value, dict):
        return "~range"
    if isinstance(value, list):
        return "~list"
    return "~one"


def _steps(one: Any, rng: type[Strict]) -> Any:
    return Annotated[
        Annotated[one, Tag("~one")] | Annotated[list[one], Field(min_length=1, max_length=MAX_STEPS), Tag("~list")] | Annotated[rng, Tag("~range")],
        Discriminator(_shape_of),
    ]


# A concurrency (or a sequence of them): 8, [1, 2, 4, 8] or {start: 1, stop: 64, factor: 2}.
CountSteps = _steps(Count, IntRange)
# A rate (or a sequence): 200, "200rps", [100, 200] or {start: 100, stop: 2000, step: 100}.
RpsSteps = _steps(Rps, RateRange)


def steps_of(value: Any) -> tuple[Any, ...]:
    """The explicit tuple of steps for any CountSteps / RpsSteps value."""
    if isinstance(value, (IntRange, RateRange)):
        return value.values()
    if isinstance(value, list):
        return tuple(value)
    return (value,)
