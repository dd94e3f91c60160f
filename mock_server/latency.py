"""Service-time models: how long one /predict holds an inference slot.

Sits between the options (which parse a spec like ``lognormal:p50=10ms,p99=80ms``)
and the app (which ``asyncio.sleep``s for the sampled time while holding a
slot, so throughput is capacity / service time as on a real server). Sampling
is seeded and uses its own generator, so switching faults on or off does not
change the latency sequence.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from mock_server.units import parse_duration_s

# z-score of the 99th percentile of a standard normal: p99 = p50 * exp(Z99 * sigma).
Z99 = 2.3263478740408408

SYNTAX = "fixed:20ms | uniform:5ms:15ms | lognormal:p50=10ms,p99=80ms"


@dataclass(frozen=True)
class LatencyModel:
    """A base service-time distribution; ``spec`` is the canonical text form."""

    kind: str  # "fixed" | "uniform" | "lognormal"
    a_s: float  # fixed: the value; uniform: low; lognormal: p50
    b_s: float = 0.0  # uniform: high; lognormal: p99

    @property
    def spec(self) -> str:
        if self.kind == "fixed":
            return f"fixed:{_fmt(self.a_s)}"
        if self.kind == "uniform":
            return f"uniform:{_fmt(self.a_s)}:{_fmt(self.b_s)}"
        return f"lognormal:p50={_fmt(self.a_s)},p99={_fmt(self.b_s)}"

    @classmethod
    def parse(cls, spec: str | float) -> LatencyModel:
        """Read ``fixed:D``, ``uniform:LOW:HIGH``, ``lognormal:p50=D,p99=D`` or a bare duration."""
        if isinstance(spec, (int, float)) and not isinstance(spec, bool):
            return cls("fixed", parse_duration_s(spec))
        if not isinstance(spec, str):
            raise ValueError(  # noqa: TRY004 - option errors are ValueErrors, whatever the cause
                f"expected a latency model ({SYNTAX}), got {spec!r}"
            )
        kind, _, rest = spec.strip().partition(":")
        kind = kind.lower()
        try:
            if kind == "fixed":
                return cls("fixed", parse_duration_s(rest))
            if kind == "uniform":
                low, sep, high = rest.partition(":")
                if not sep:
                    raise ValueError("uniform needs LOW:HIGH")
                lo, hi = parse_duration_s(low), parse_duration_s(high)
                if hi < lo:
                    raise ValueError("uniform HIGH is below LOW")
                return cls("uniform", lo, hi)
            if kind == "lognormal":
                return cls._lognormal(rest)
        except ValueError as exc:
            raise ValueError(f"{spec!r}: {exc} (use {SYNTAX})") from None
        if not rest:  # a bare duration such as "20ms" means fixed
            try:
                return cls("fixed", parse_duration_s(kind))
            except ValueError:
                pass
        raise ValueError(f"{spec!r} is not a latency model (use {SYNTAX})")

    @classmethod
    def _lognormal(cls, rest: str) -> LatencyModel:
        params: dict[str, float] = {}
        for part in rest.split(","):
            key, sep, value = part.partition("=")
            key = key.strip().lower()
            if not sep or key not in ("p50", "p99"):
                raise ValueError("lognormal needs p50=D,p99=D")
            params[key] = parse_duration_s(value)
        if set(params) != {"p50", "p99"}:
            raise ValueError("lognormal needs both p50 and p99")
        if params["p50"] <= 0 or params["p99"] < params["p50"]:
            raise ValueError("lognormal needs 0 < p50 <= p99")
        return cls("lognormal", params["p50"], params["p99"])


class ServiceTime:
    """Samples one request's service time: base model + per-row cost + warm-up extra.

    The warm-up extra makes the first ``warmup_requests`` requests slower, decaying
    linearly from ``warmup_extra_s`` to 0 — what a JIT, a cache or a lazily
    loaded weight file does to the first requests after a cold start.
    """

    def __init__(
        self,
        model: LatencyModel,
        *,
        per_row_s: float = 0.0,
        warmup_requests: int = 0,
        warmup_extra_s: float = 0.0,
        seed: int = 0,
    ) -> None:
        self._model = model
        self._per_row_s = per_row_s
        self._warmup_requests = warmup_requests
        self._warmup_extra_s = warmup_extra_s
        self._served = 0
        self._rng = random.Random(f"latency:{seed}")
        self._mu = math.log(model.a_s) if model.kind == "lognormal" else 0.0
        self._sigma = math.log(model.b_s / model.a_s) / Z99 if model.kind == "lognormal" else 0.0

    def base_s(self) -> float:
        """One draw of the base distribution (no per-row or warm-up cost)."""
        kind = self._model.kind
        if kind == "fixed":
            return self._model.a_s
        if kind == "uniform":
            return self._rng.uniform(self._model.a_s, self._model.b_s)
        return self._rng.lognormvariate(self._mu, self._sigma)

    def warmup_extra_s(self) -> float:
        """Extra time for the next request; advances the warm-up counter."""
        index = self._served
        self._served += 1
        if index >= self._warmup_requests:
            return 0.0
        return self._warmup_extra_s * (1.0 - index / self._warmup_requests)

    def sample_s(self, rows: int) -> float:
        """Service time of the next request carrying ``rows`` rows."""
        return self.base_s() + self._per_row_s * rows + self.warmup_extra_s()


def _fmt(seconds: float) -> str:
    if seconds == 0:
        return "0ms"
    if seconds < 1e-3:
        return f"{seconds * 1e6:g}us"
    if seconds < 1:
        return f"{seconds * 1e3:g}ms"
    return f"{seconds:g}s"
