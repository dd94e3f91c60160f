"""Profile and SLA parts of the scenario schema: one pydantic model per profile kind.

Where it sits: ``schema.py`` (the whole file) uses ``Profile`` and ``SlaEntry``
from here. ``Profile`` is a union picked by ``kind``; an unknown kind is refused
with a did-you-mean. Every model forbids unknown fields (``Strict``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
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
    StageIndex,
    Strict,
    CountOrZero,
    as_list,
    did_you_mean,
)
from loadkit.scenario.llm_schema import SloModel
from loadkit.sla import parse_rule

KINDS = ("latency", "throughput", "ramp", "stress", "spike", "soak", "constant-rate", "search")


def _check_rule(expr: Any) -> Any:
    try:
        parse_rule(expr)
    except SlaSyntaxError as exc:
        raise PydanticCustomError("sla_syntax", "{problem}", {"problem": str(exc)}) from None
    return expr


class SlaRuleModel(Strict):
    """``{rule: "p99 < 200ms", abort: true, grace: 10s, stage: 2}``.

    ``stage``: judge the rule on that one stage of its profile, the index reports
    print in their step column (a warm-up stage, when there is one, is 0). Whether
    the profile has such a measured stage is checked in ``model.py``, which knows
    its stages.
    """

    rule: Annotated[str, BeforeValidator(_check_rule)]
    abort: bool = False
    grace: SecondsOrZero = 0.0
    stage: StageIndex | None = None

    @model_validator(mode="after")
    def _one_stage(self) -> SlaRuleModel:
        try:
            parse_rule(self.rule, stage=self.stage)
        except SlaSyntaxError as exc:
            raise PydanticCustomError("sla_syntax", "{problem}", {"problem": str(exc)}) from None
        return self


def _sla_shape(value: Any) -> str:
    return "~rule" if isinstance(value, dict) else "~expr"


SlaEntry = Annotated[
    Annotated[str, BeforeValidator(_check_rule), Tag("~expr")] | Annotated[SlaRuleModel, Tag("~rule")],
    Discriminator(_sla_shape),
]


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
    def _some(self) -> StopWhenModel:
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
    sla: Annotated[list[SlaEntry], BeforeValidator(as_list)] = Field(default_factory=list)
    warmup: SecondsOrZero | None = None
    max_in_flight: Count | None = None
    breakdown: str | None = None
    slo: SloModel | None = None

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
    def _end(self) -> LatencyProfile:
        _needs_one(self, "requests", "duration")
        return self


def _batch_shape(value: Any) -> str:
    return "~list" if isinstance(value, list) else "~one"


class ThroughputProfile(ProfileModel):
    kind: Literal["throughput"]
    concurrency: Count
    duration: Seconds | None = None
    batch_size: Annotated[Annotated[Count, Tag("~one")] | Annotated[list[Count], Field(min_length=1), Tag("~list")],
                          Discriminator(_batch_shape)] | None = None
    stability: StabilityModel | None = None

    @model_validator(mode="after")
    def _end(self) -> ThroughputProfile:
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
    def _load(self) -> SoakProfile:
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


class SearchRateRange(Strict):
    """``rate: {start: 50, max: 5000}``: where a capacity search starts and how far it may go."""

    start: Rps
    max: Rps
    factor: Number = 2.0

    @model_validator(mode="after")
    def _order(self) -> SearchRateRange:
        _search_range(self.start, self.max, self.factor)
        return self


class SearchCountRange(Strict):
    """``concurrency: {start: 1, max: 1024}``: the closed-model search range."""

    start: Count
    max: Count
    factor: Number = 2.0

    @model_validator(mode="after")
    def _order(self) -> SearchCountRange:
        _search_range(self.start, self.max, self.factor)
        return self


def _search_range(start: float, top: float, factor: float) -> None:
    if top < start:
        raise PydanticCustomError("range_order", "max ({max}) is below start ({start})",
                                  {"max": f"{top:g}", "start": f"{start:g}"})
    if factor <= 1:
        raise PydanticCustomError("range_factor", "factor must be greater than 1")


def _precision(value: float) -> float:
    if value > 0.5:
        raise ValueError("must be at most 50% (the final bracket's width relative to its "
                         "lower end; e.g. 5%)")
    return value


class SearchProfile(ProfileModel):
    """A capacity search: grow the load until the SLA breaks, then bisect to ``precision``.

    ``repeats``: extra runs of a probe whose verdict is within noise of a threshold;
    ``max_probes``: probe runs in all, repeats included.
    """

    kind: Literal["search"]
    rate: SearchRateRange | None = None
    concurrency: SearchCountRange | None = None
    precision: Annotated[Fraction, AfterValidator(_precision)] = 0.05
    stage_duration: Seconds
    max_probes: Annotated[Count, Field(ge=2, le=200)] = 20
    repeats: Annotated[CountOrZero, Field(le=10)] = 2

    @model_validator(mode="after")
    def _load(self) -> SearchProfile:
        _needs_one(self, "rate", "concurrency", both_ok=False)
        return self


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
    Annotated[LatencyProfile, Tag("~latency")] | Annotated[ThroughputProfile, Tag("~throughput")] | Annotated[RampProfile, Tag("~ramp")] | Annotated[StressProfile, Tag("~stress")] | Annotated[SpikeProfile, Tag("~spike")] | Annotated[SoakProfile, Tag("~soak")] | Annotated[ConstantRateProfile, Tag("~constant-rate")] | Annotated[SearchProfile, Tag("~search")] | Annotated[Any, BeforeValidator(_bad_kind), Tag("~bad")],
    Discriminator(_kind_of),
]
