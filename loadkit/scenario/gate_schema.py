"""The ``compare:`` and ``canary:`` blocks of a scenario, as pydantic models.

Where it sits: ``schema.py``'s ScenarioModel holds them, so ``loadkit validate`` (and
every command that loads the scenario) refuses a bad block with its field path and
exit 2 -- ``compare.p99: 'banana' is not a percentage``, ``canary.stages[0].share:
must be at most 100%`` -- before anything is sent. ``model.py`` turns them into the
values ``loadkit compare`` and ``loadkit canary`` read (``CompareThresholds``,
``CanaryConfig``, in ``results/``).

The keys are the ones these blocks always had: ``compare:`` takes short names
(``p99: 10%``, ``error_rate: 0.5pp``, ``throughput: 10%``) or the thresholds' field
names (``p99_increase``), and ``null`` turns a gate off; ``canary:`` takes
``CanaryConfig``'s field names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from itertools import pairwise
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from loadkit.errors import ScenarioError, UsageError
from loadkit.results.canary import AGREEMENT_MODES, AgreementMode, CanaryConfig, CanaryStage
from loadkit.results.compare import CompareThresholds
from loadkit.scenario.fields import (
    Count,
    CountOrZero,
    Fraction,
    Seconds,
    SecondsOrZero,
    Strict,
    _unit,
    did_you_mean,
)
from loadkit.units import parse_fraction, parse_rate


def _suffixed(value: Any, suffixes: tuple[str, ...], what: str) -> float:
    """A finite number, written bare or with one of ``suffixes`` (``0.5pp``, ``2x``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{value!r} is not {what}")
    text = str(value).strip()
    for suffix in suffixes:
        text = text.removesuffix(suffix)
    try:
        out = float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not {what}") from None
    if not math.isfinite(out):
        raise ValueError("must be a finite number")
    return out


def _points(value: Any) -> float:
    """Percentage points: ``0.5pp``, ``0.5%`` or a bare 0.5 (never a fraction)."""
    return _suffixed(value, ("pp", "%"), "in percentage points (use e.g. 0.5pp)")


def _ratio(value: Any) -> float:
    """A ratio of p99s: ``2``, ``2x`` or ``1.5``."""
    return _suffixed(value, ("x",), "a ratio (use e.g. 2x)")


def _share_of_one(value: Any) -> float:
    out = parse_fraction(value)
    if not 0 <= out <= 1:
        raise ValueError(f"must be between 0% and 100%, got {value!r}")
    return out


def _tolerance(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


# A share of the baseline that may be 0: "10%", 0.1; negative refused.
Increase = Annotated[float, BeforeValidator(_unit(parse_fraction, positive=False))]
Points = Annotated[float, BeforeValidator(_unit(_points, positive=False))]
Ratio = Annotated[float, BeforeValidator(_unit(_ratio))]
RpsOrZero = Annotated[float, BeforeValidator(_unit(parse_rate, positive=False))]
Rps = Annotated[float, BeforeValidator(_unit(parse_rate))]
Probability = Annotated[float, BeforeValidator(_share_of_one)]
Tolerance = Annotated[float, BeforeValidator(_unit(_tolerance, positive=False))]

# compare: the thresholds' field names are accepted beside the short keys.
_COMPARE_ALIASES = {"p50_increase": "p50", "p95_increase": "p95", "p99_increase": "p99",
                    "error_rate_increase_pp": "error_rate",
                    "throughput_decrease": "throughput"}
_COMPARE_FIELDS = {"p50": "p50_increase", "p95": "p95_increase", "p99": "p99_increase",
                   "error_rate": "error_rate_increase_pp", "throughput": "throughput_decrease",
                   "min_windows": "min_windows", "min_requests": "min_requests"}


class CompareModel(Strict):
    """``compare:`` -- practical thresholds of ``loadkit compare``; ``null`` turns one off."""

    p50: Increase | None = None
    p95: Increase | None = None
    p99: Increase | None = None
    error_rate: Points | None = None       # percentage points
    throughput: Increase | None = None     # a drop, as a share of the baseline
    min_windows: Count = 5
    min_requests: Count = 20

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out: dict[Any, Any] = {}
        for key, value in data.items():
            name = _COMPARE_ALIASES.get(str(key), key)
            if name not in _COMPARE_FIELDS:
                known = sorted(set(_COMPARE_FIELDS) | set(_COMPARE_ALIASES))
                raise PydanticCustomError("unknown_field", "unknown field",
                                          {"field": str(key), "known": known})
            if name in out:
                raise PydanticCustomError("duplicate", "{key} repeats {name}",
                                          {"key": str(key), "name": name})
            out[name] = value
        return out

    def thresholds(self, base: CompareThresholds | None = None) -> CompareThresholds:
        """``base`` (the defaults) with the settings this block gives."""
        given = {_COMPARE_FIELDS[k]: getattr(self, k) for k in self.model_fields_set}
        return replace(base or CompareThresholds(), **given)


def _mode(value: Any) -> Any:
    if value not in AGREEMENT_MODES:
        raise PydanticCustomError(
            "choice", "agreement_mode {value} is not one of {choices}{hint}",
            {"value": repr(value)[:40], "choices": ", ".join(AGREEMENT_MODES),
             "hint": did_you_mean(str(value), AGREEMENT_MODES)})
    return value


class CanaryStageModel(Strict):
    """One rollout step: ``{share: 5%, duration: 30s, min_requests: 100}``."""

    share: Fraction
    duration: Seconds = 30.0
    min_requests: Count = 100


class CanaryModel(Strict):
    """``canary:`` -- the stages and criteria of ``loadkit canary`` (CanaryConfig's names)."""

    stages: Annotated[list[CanaryStageModel], Field(min_length=1)] | None = None
    profile: str | None = None             # whose load to split (default: the first profile)
    rate: Rps | None = None                # total rps, overriding the profile's
    concurrency: Count | None = None       # total workers, overriding the profile's
    min_side_rps: RpsOrZero = 20.0
    warmup_s: SecondsOrZero = 1.0
    rollback_p99_ratio: Ratio = 2.0
    promote_p99_ratio: Ratio = 1.2
    rollback_error_rate_pp: Points = 5.0
    promote_error_rate_pp: Points = 1.0
    min_agreement: Probability = 0.95
    agreement_sample: CountOrZero = 50
    agreement_mode: Annotated[str, BeforeValidator(_mode)] = "auto"
    agreement_tolerance: Tolerance = 1e-6
    alpha: Annotated[float, BeforeValidator(_share_of_one), Field(gt=0, lt=1)] = 0.05
    seed: CountOrZero = 0

    @field_validator("stages")
    @classmethod
    def _growing(cls, value: list[CanaryStageModel] | None) -> list[CanaryStageModel] | None:
        if value and any(b.share < a.share for a, b in pairwise(value)):
            raise ValueError("shares must not decrease from one stage to the next")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CanaryModel:
        if self.rate is not None and self.concurrency is not None:
            raise PydanticCustomError("canary_load", "give rate or concurrency, not both")
        if self.promote_p99_ratio > self.rollback_p99_ratio:
            raise PydanticCustomError(
                "canary_ratio", "promote_p99_ratio ({p}) is above rollback_p99_ratio ({r})",
                {"p": f"{self.promote_p99_ratio:g}", "r": f"{self.rollback_p99_ratio:g}"})
        if self.promote_error_rate_pp > self.rollback_error_rate_pp:
            raise PydanticCustomError(
                "canary_pp", "promote_error_rate_pp ({p}) is above rollback_error_rate_pp "
                "({r})", {"p": f"{self.promote_error_rate_pp:g}",
                          "r": f"{self.rollback_error_rate_pp:g}"})
        return self

    def config(self) -> CanaryConfig:
        mode: AgreementMode = next(m for m in AGREEMENT_MODES if m == self.agreement_mode)
        stages = {} if self.stages is None else {"stages": tuple(
            CanaryStage(s.share, s.duration, s.min_requests) for s in self.stages)}
        return CanaryConfig(
            **stages, profile=self.profile, rate=self.rate, concurrency=self.concurrency,
            min_side_rps=self.min_side_rps, warmup_s=self.warmup_s,
            rollback_p99_ratio=self.rollback_p99_ratio, promote_p99_ratio=self.promote_p99_ratio,
            rollback_error_rate_pp=self.rollback_error_rate_pp,
            promote_error_rate_pp=self.promote_error_rate_pp, min_agreement=self.min_agreement,
            agreement_sample=self.agreement_sample, agreement_mode=mode,
            agreement_tolerance=self.agreement_tolerance, alpha=self.alpha, seed=self.seed)


def check_canary_profile(block: CanaryModel | None, profiles: tuple[str, ...]) -> None:
    """``canary.profile`` names a profile of the scenario (checked where both are known)."""
    if block is not None and block.profile is not None and block.profile not in profiles:
        raise ScenarioError("canary.profile", f"no profile named {block.profile!r} (profiles: "
                            f"{', '.join(profiles)}){did_you_mean(block.profile, profiles)}")


def compare_flags(flags: Mapping[str, str], base: CompareThresholds) -> CompareThresholds:
    """``loadkit compare --p99 10% ...`` over ``base``; a bad flag is one line, exit 2."""
    from loadkit.scenario.translate import translate

    try:
        block = CompareModel.model_validate(dict(flags))
    except ValidationError as exc:
        err = translate(exc)
        raise UsageError(f"--{err.field.replace('_', '-')}: {err.problem}") from None
    return block.thresholds(base)


__all__ = ["CanaryModel", "CanaryStageModel", "CompareModel", "check_canary_profile",
           "compare_flags"]
