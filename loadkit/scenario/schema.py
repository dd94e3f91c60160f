"""The scenario file's schema (DESIGN.md), as pydantic v2 models.

Where it sits: ``source.py`` gives a plain YAML tree, these models validate it
(``extra="forbid"`` everywhere, units parsed, zero/negative refused), and
``model.py`` turns the result into the frozen values the rest of loadkit reads.
Errors are translated to one line in ``translate.py``; cross-field checks that
need a field path (duplicate names, templates) live in ``model.py``.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal, Union
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Discriminator, Field, Tag, field_validator, model_validator
from pydantic_core import PydanticCustomError

from loadkit.errors import SlaSyntaxError
from loadkit.scenario.fields import (
    Count,
    CountSteps,
    Fraction,
    Millis,
    Number,
    Rps,
    RpsSteps,
    Seconds,
    SecondsOrZero,
    Strict,
)
from loadkit.sla import parse_rule

KINDS = ("latency", "throughput", "ramp", "stress", "spike", "soak", "constant-rate")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# Mirrors mock_server.options.OPTIONS (minus host/port, which loadkit sets); a test
# keeps the two in step, since loadkit may not import mock_server.
MOCK_OPTIONS = (
    "preset", "latency", "per_row", "seed", "capacity", "queue", "retry_after",
    "error_rate", "unavailable_rate", "reset_rate", "hang_rate", "hang", "malformed_rate",
    "slow_body_rate", "trickle", "large_body_rate", "large_body_bytes", "stall",
    "cold_start", "warmup_requests", "warmup_extra", "model_version", "predictions_shift",
)
MOCK_PRESETS = ("fast", "slow-tail", "flaky", "overloaded", "cold-start")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3,
               "kib": 1024, "mib": 1024**2, "gib": 1024**3}


def did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _one_of(choices: tuple[str, ...], what: str, normalize: Any = None) -> Any:
    def check(value: Any) -> str:
        text = normalize(value) if normalize and isinstance(value, str) else value
        if text not in choices:
            raise PydanticCustomError(
                "choice", "{what} {value} is not one of {choices}{hint}",
                {"what": what, "value": repr(value)[:40], "choices": ", ".join(choices),
                 "hint": did_you_mean(str(value), choices) if isinstance(value, str) else ""})
        return str(text)
    return BeforeValidator(check)


def _as_list(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


def _byte_size(value: Any) -> Any:
    if isinstance(value, str):
        m = _SIZE.match(value)
        if not m:
            raise ValueError(f"{value!r} is not a size (use e.g. 16MiB, 512kB or bytes)")
        return int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()])
    return value


def _check_rule(expr: Any) -> Any:
    try:
        parse_rule(expr)
    except SlaSyntaxError as exc:
        raise PydanticCustomError("sla_syntax", "{problem}", {"problem": str(exc)}) from None
    return expr


class SlaRuleModel(Strict):
    """``{rule: "p99 < 200ms", abort: true, grace: 10s}``."""

    rule: Annotated[str, BeforeValidator(_check_rule)]
    abort: bool = False
    grace: SecondsOrZero = 0.0


def _sla_shape(value: Any) -> str:
    return "~rule" if isinstance(value, dict) else "~expr"


SlaEntry = Annotated[
    Union[Annotated[str, BeforeValidator(_check_rule), Tag("~expr")],
          Annotated[SlaRuleModel, Tag("~rule")]],
    Discriminator(_sla_shape),
]


class RequestModel(Strict):
    method: Annotated[str, _one_of(METHODS, "method", str.upper)] = "POST"
    path: str = "/predict"
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Seconds = 5.0
    body: Any = None
    batch_size: Count = 1
    max_response_bytes: Annotated[int, BeforeValidator(_byte_size), Field(gt=0)] = 16 * 1024**2

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or any(c.isspace() for c in value):
            raise ValueError(f"{value!r} must start with / and contain no spaces")
        return value

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {}
        for name, val in value.items():
            if not isinstance(name, str) or not _HEADER_NAME.match(name):
                raise PydanticCustomError("header_name", "{name} is not a valid header name",
                                          {"name": repr(name)[:40]})
            if isinstance(val, (int, float)) and not isinstance(val, bool):
                val = str(val)
            if isinstance(val, str) and ("\r" in val or "\n" in val):
                raise PydanticCustomError(
                    "header_value", "the value of header {name} must not contain line breaks",
                    {"name": name})
            if not isinstance(val, str):
                raise PydanticCustomError("header_value", "the value of header {name} must be "
                                          "a string", {"name": name})
            out[name] = val
        return out


class DatasetModel(Strict):
    path: str
    format: Annotated[str, _one_of(("csv", "jsonl", "parquet"), "format", str.lower)] | None = None
    columns: Annotated[list[str], Field(min_length=1)] | None = None
    sample: Count | None = None
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    order: Annotated[str, _one_of(("random", "sequential"), "order", str.lower)] = "random"

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("expected a whole number")
        return value


class ChecksModel(Strict):
    status: Annotated[list[Annotated[int, Field(ge=100, le=599)]],
                      BeforeValidator(_as_list)] = Field(default_factory=list)
    json_has: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)
    body_contains: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)


class ReadinessModel(Strict):
    path: str = "/ready"
    timeout: Seconds = 30.0

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"{value!r} must start with /")
        return value


def _readiness(value: Any) -> Any:
    return {"path": value} if isinstance(value, str) else value


class StabilityModel(Strict):
    """Run a step until its last ``windows`` windows agree within ``tolerance``."""

    windows: Annotated[int, Field(ge=2, le=100)] = 3
    window: Seconds = 5.0
    tolerance: Fraction = 0.10
    max_duration: Seconds | None = None


class StopWhenModel(Strict):
    error_rate: Fraction | None = None
    p99: Millis | None = None

    @model_validator(mode="after")
    def _some(self) -> "StopWhenModel":
        if self.error_rate is None and self.p99 is None:
            raise PydanticCustomError("stop_when", "give error_rate, p99 or both")
        return self


class RecoveryModel(Strict):
    rate: Rps
    duration: Seconds


class SpikeModel(Strict):
    multiplier: Number
    duration: Seconds

    @field_validator("multiplier")
    @classmethod
    def _above_one(cls, value: float) -> float:
        if value <= 1:
            raise ValueError("must be greater than 1 (a spike multiplies the base rate)")
        return value


class ProfileModel(Strict):
    """Fields every profile kind accepts."""

    name: str | None = None
    sla: Annotated[list[SlaEntry], BeforeValidator(_as_list)] = Field(default_factory=list)
    warmup: SecondsOrZero | None = None
    max_in_flight: Count | None = None
    breakdown: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty")
        return value


def _needs_one(model: Any, a: str, b: str, both_ok: bool = True) -> None:
    has_a, has_b = getattr(model, a) is not None, getattr(model, b) is not None
    if not has_a and not has_b:
        raise PydanticCustomError("needs_one", "give {a} or {b}", {"a": a, "b": b})
    if has_a and has_b and not both_ok:
        raise PydanticCustomError("needs_one", "give {a} or {b}, not both", {"a": a, "b": b})


class LatencyProfile(ProfileModel):
    kind: Literal["latency"]
    concurrency: Count = 1
    requests: Count | None = None
    duration: Seconds | None = None

    @model_validator(mode="after")
    def _end(self) -> "LatencyProfile":
        _needs_one(self, "requests", "duration")
        return self


def _batch_shape(value: Any) -> str:
    return "~list" if isinstance(value, list) else "~one"


class ThroughputProfile(ProfileModel):
    kind: Literal["throughput"]
    concurrency: Count
    duration: Seconds | None = None
    batch_size: Annotated[Union[Annotated[Count, Tag("~one")],
                                Annotated[list[Count], Field(min_length=1), Tag("~list")]],
                          Discriminator(_batch_shape)] | None = None
    stability: StabilityModel | None = None

    @model_validator(mode="after")
    def _end(self) -> "ThroughputProfile":
        _needs_one(self, "duration", "stability")
        return self


class RampProfile(ProfileModel):
    kind: Literal["ramp"]
    concurrency: CountSteps
    stage_duration: Seconds
    stability: StabilityModel | None = None


class StressProfile(ProfileModel):
    kind: Literal["stress"]
    rate: RpsSteps
    stage_duration: Seconds
    stop_when: StopWhenModel | None = None
    recovery: RecoveryModel | None = None


class SpikeProfile(ProfileModel):
    kind: Literal["spike"]
    rate: Rps
    spike: SpikeModel
    before: Seconds = 10.0
    after: Seconds = 20.0


class SoakProfile(ProfileModel):
    kind: Literal["soak"]
    rate: Rps | None = None
    concurrency: Count | None = None
    duration: Seconds
    window: Seconds | None = None

    @model_validator(mode="after")
    def _load(self) -> "SoakProfile":
        _needs_one(self, "rate", "concurrency", both_ok=False)
        if self.window is not None and self.window * 2 > self.duration:
            raise PydanticCustomError("soak_window", "window ({w:g}s) must fit twice in the "
                                      "duration ({d:g}s) to compare first and last windows",
                                      {"w": self.window, "d": self.duration})
        return self


class ConstantRateProfile(ProfileModel):
    kind: Literal["constant-rate"]
    rate: Rps
    duration: Seconds


def _bad_kind(value: Any) -> Any:
    if not isinstance(value, dict):
        raise PydanticCustomError("profile_type", "expected a mapping with a kind ({kinds})",
                                  {"kinds": ", ".join(KINDS)})
    kind = value.get("kind")
    if kind is None:
        raise PydanticCustomError("profile_kind", "required (one of {kinds})",
                                  {"kinds": ", ".join(KINDS)})
    raise PydanticCustomError(
        "profile_kind", "unknown profile kind {kind}{hint} (kinds: {kinds})",
        {"kind": repr(kind)[:40], "kinds": ", ".join(KINDS),
         "hint": did_you_mean(str(kind), KINDS)})


def _kind_of(value: Any) -> str:
    kind = value.get("kind") if isinstance(value, dict) else None
    return f"~{kind}" if isinstance(kind, str) and kind in KINDS else "~bad"


Profile = Annotated[
    Union[Annotated[LatencyProfile, Tag("~latency")],
          Annotated[ThroughputProfile, Tag("~throughput")],
          Annotated[RampProfile, Tag("~ramp")],
          Annotated[StressProfile, Tag("~stress")],
          Annotated[SpikeProfile, Tag("~spike")],
          Annotated[SoakProfile, Tag("~soak")],
          Annotated[ConstantRateProfile, Tag("~constant-rate")],
          Annotated[Any, BeforeValidator(_bad_kind), Tag("~bad")]],
    Discriminator(_kind_of),
]
MockValue = Union[str, int, float]


def _mock(value: Any) -> Any:
    if isinstance(value, str):
        value = {"preset": value}
    if not isinstance(value, dict):
        return value
    for key, val in value.items():
        name = str(key).replace("-", "_")
        if name not in MOCK_OPTIONS:
            raise PydanticCustomError(
                "unknown_mock", "unknown mock option {key}{hint}",
                {"key": repr(key)[:40], "hint": did_you_mean(name, MOCK_OPTIONS)})
        if isinstance(val, bool) or not isinstance(val, (str, int, float)):
            raise PydanticCustomError(
                "mock_value", "mock option {key} needs a value like 20ms, 8 or 1% (got {got})",
                {"key": repr(key)[:40], "got": type(val).__name__})
        if name == "preset" and val not in MOCK_PRESETS:
            raise PydanticCustomError(
                "mock_preset", "unknown mock preset {val}{hint} (presets: {presets})",
                {"val": repr(val)[:40], "presets": ", ".join(MOCK_PRESETS),
                 "hint": did_you_mean(str(val), MOCK_PRESETS)})
    return {str(k).replace("-", "_"): v for k, v in value.items()}


class ScenarioModel(Strict):
    name: str | None = None
    description: str | None = None
    target: str
    mock: Annotated[dict[str, MockValue], BeforeValidator(_mock)] | None = None
    request: RequestModel = Field(default_factory=RequestModel)
    dataset: DatasetModel | None = None
    checks: ChecksModel = Field(default_factory=ChecksModel)
    warmup: SecondsOrZero = 0.0
    readiness: Annotated[ReadinessModel, BeforeValidator(_readiness)] | None = None
    profiles: Annotated[list[Profile], Field(min_length=1)]
    sla: Annotated[list[SlaEntry], BeforeValidator(_as_list)] = Field(default_factory=list)

    @field_validator("target")
    @classmethod
    def _target(cls, value: str) -> str:
        if value == "mock":
            return value
        try:
            parts = urlsplit(value)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            ok = False
        if not ok:
            shown = value if "@" not in value and "?" not in value else value.split("://")[0] + "://…"
            raise PydanticCustomError(
                "target", "{value} is not an http(s) URL or \"mock\"", {"value": repr(shown)[:60]})
        return value
