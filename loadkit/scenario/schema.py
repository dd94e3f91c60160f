"""The scenario file's schema (DESIGN.md), as pydantic v2 models.

Where it sits: ``source.py`` gives a plain YAML tree, these models validate it
(``extra="forbid"`` everywhere, units parsed, zero/negative refused), and
``model.py`` turns the result into the frozen values the rest of loadkit reads.
Errors are translated to one line in ``translate.py``; cross-field checks that
need a field path (duplicate names, templates) live in ``model.py``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StrictBool, field_validator, model_validator
from pydantic_core import PydanticCustomError

from loadkit.scenario.fields import (
    Count,
    Seconds,
    SecondsOrZero,
    Strict,
    _unit,
    as_list,
    did_you_mean,
    is_http_url,
)
from loadkit.units import parse_duration
from loadkit.scenario.gate_schema import CanaryModel, CompareModel
from loadkit.scenario.llm_schema import APIS, SloModel, check_stream
from loadkit.scenario.profile_schema import KINDS, Profile, SlaEntry
from loadkit.scenario.telemetry_schema import ServerMetrics, ServerTiming

__all__ = ["KINDS", "MOCK_OPTIONS", "MOCK_PRESETS", "ScenarioModel", "did_you_mean"]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# Mirrors mock_server.options.OPTIONS (minus host/port, which loadkit sets); a test
# keeps the two in step, since loadkit may not import mock_server.
MOCK_OPTIONS = (
    "preset", "latency", "per_row", "seed", "capacity", "queue", "retry_after",
    "error_rate", "unavailable_rate", "reset_rate", "hang_rate", "hang", "malformed_rate",
    "slow_body_rate", "trickle", "large_body_rate", "large_body_bytes", "stall",
    "cold_start", "warmup_requests", "warmup_extra", "model_version", "predictions_shift",
    "llm_slots", "llm_prefill", "llm_prefill_per_token", "llm_step", "llm_output_tokens",
    "llm_queue", "llm_kv_tokens", "llm_schedule", "llm_model",
)
MOCK_PRESETS = ("fast", "slow-tail", "flaky", "overloaded", "cold-start")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3,
               "kib": 1024, "mib": 1024**2, "gib": 1024**3}


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


def _byte_size(value: Any) -> Any:
    if isinstance(value, str):
        m = _SIZE.match(value)
        if not m:
            raise ValueError(f"{value!r} is not a size (use e.g. 16MiB, 512kB or bytes)")
        return int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()])
    return value


def _redirects(value: Any) -> Any:
    """``false`` (report the 3xx), ``true`` (the default limit, 10) or a number of hops."""
    if value is False:
        return 0
    if value is True:
        return 10
    if isinstance(value, int) and 0 <= value <= 100:
        return value
    raise PydanticCustomError(
        "redirects", "{value} is not false, true or a number of redirects (0-100)",
        {"value": repr(value)[:40]})


class RequestModel(Strict):
    method: Annotated[str, _one_of(METHODS, "method", str.upper)] = "POST"
    path: str = "/predict"
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Seconds = 5.0
    body: Any = None
    batch_size: Count = 1
    max_response_bytes: Annotated[int, BeforeValidator(_byte_size), Field(gt=0)] = 16 * 1024**2
    # generative endpoints (llm_schema.py): the body is built from the dataset's prompts
    api: Annotated[str, _one_of(APIS, "api", str.lower)] = "http"
    model: str | None = None
    max_tokens: Annotated[int, Field(gt=0)] | str | None = None
    stream: bool | str | None = None
    tokenizer: str | None = None

    @model_validator(mode="after")
    def _stream(self) -> RequestModel:
        check_stream(self.api, self.stream, self.max_tokens, self.model)
        return self
    follow_redirects: Annotated[int, BeforeValidator(_redirects)] = 10

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
    format: Annotated[str, _one_of(("csv", "jsonl", "json", "parquet"), "format", str.lower)] | None = None
    columns: Annotated[list[str], Field(min_length=1)] | None = None
    sample: Count | None = None
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    order: Annotated[str, _one_of(("random", "sequential"), "order", str.lower)] = "random"
    missing: Annotated[str, _one_of(("error", "drop", "null"), "missing", str.lower)] = "null"

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("expected a whole number")  # noqa: TRY004 - pydantic wants ValueError
        return value


class ChecksModel(Strict):
    status: Annotated[list[Annotated[int, Field(ge=100, le=599)]],
                      BeforeValidator(as_list)] = Field(default_factory=list)
    json_has: Annotated[list[str], BeforeValidator(as_list)] = Field(default_factory=list)
    body_contains: Annotated[list[str], BeforeValidator(as_list)] = Field(default_factory=list)


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


MockValue = str | int | float


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


def _fail_fast(value: Any) -> Any:
    """``fail_fast: 5s`` (the default), ``0s``/``false``/``off`` turns it off."""
    if value is False or value in ("off", "false"):
        return 0.0
    if value is True:
        return 5.0
    return _unit(parse_duration, positive=False)(value)


class ScenarioModel(Strict):
    name: str | None = None
    description: str | None = None
    target: str
    mock: Annotated[dict[str, MockValue], BeforeValidator(_mock)] | None = None
    request: RequestModel = Field(default_factory=RequestModel)
    dataset: DatasetModel | None = None
    checks: ChecksModel = Field(default_factory=ChecksModel)
    warmup: SecondsOrZero = 0.0
    # Stop a run whose first N seconds failed (>= 99% errors): a broken target or
    # scenario is reported at once, not after every profile ran at 100% errors.
    fail_fast: Annotated[float, BeforeValidator(_fail_fast)] = 5.0
    readiness: Annotated[ReadinessModel, BeforeValidator(_readiness)] | None = None
    profiles: Annotated[list[Profile], Field(min_length=1)]
    sla: Annotated[list[SlaEntry], BeforeValidator(as_list)] = Field(default_factory=list)
    slo: SloModel | None = None
    compare: CompareModel | None = None           # thresholds of `loadkit compare`
    canary: CanaryModel | None = None             # stages and criteria of `loadkit canary`
    server_metrics: ServerMetrics | None = None   # the target's Prometheus endpoints
    server_timing: ServerTiming = None            # record W3C Server-Timing per request
    traceparent: StrictBool = False               # send a W3C traceparent header

    @field_validator("target")
    @classmethod
    def _target(cls, value: str) -> str:
        if value == "mock":
            return value
        if not is_http_url(value):
            shown = value if "@" not in value and "?" not in value else value.split("://")[0] + "://…"
            raise PydanticCustomError(
                "target", "{value} is not an http(s) URL or \"mock\"", {"value": repr(shown)[:60]})
        return value
