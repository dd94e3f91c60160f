"""The figures every stage, summary and second carries: counts that add up, latency
statistics read from one HDR histogram, and a streaming endpoint's TTFT/ITL/TPOT and
token figures (absent for a classic endpoint).

Plain frozen data, re-exported by ``model.py`` (the RunResult built from them); the
streaming figures are computed in ``streams.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loadkit.results.fields import OMIT
from loadkit.results.hdr import LatencyHistogram


def check_counts(what: str, requests: int, ok: int, errors: int,
                 error_kinds: dict[str, int] | None = None) -> None:
    """Every request counted exactly once: ``requests = ok + errors`` (and the kinds add up).

    Called where a stage, a summary or a second is built -- by the recorder, a merge,
    the codec or a test's builder -- so a count that went astray fails there, at once,
    instead of surfacing as a wrong error rate in a report.
    """
    if requests != ok + errors or ok < 0 or errors < 0:
        raise ValueError(f"{what}: requests ({requests}) must equal ok ({ok}) + errors ({errors})")
    if error_kinds is not None and sum(error_kinds.values()) != errors:
        raise ValueError(f"{what}: error kinds {error_kinds} add up to "
                         f"{sum(error_kinds.values())}, not errors ({errors})")


@dataclass(frozen=True)
class LatencySummary:
    """Latency statistics in milliseconds, all read from one HDR histogram."""

    min: float = 0.0
    mean: float = 0.0
    stdev: float = 0.0
    p50: float = 0.0
    p90: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    p999: float = 0.0
    max: float = 0.0

    @classmethod
    def of(cls, hist: LatencyHistogram) -> LatencySummary:
        def ms(us: float) -> float:
            return round(us / 1000.0, 3)

        mean, stdev = hist.moments_us()          # one pass for both, one for the five below
        p50, p90, p95, p99, p999 = hist.percentiles_us((50, 90, 95, 99, 99.9))
        return cls(min=ms(hist.min_us), mean=ms(mean), stdev=ms(stdev), p50=ms(p50),
                   p90=ms(p90), p95=ms(p95), p99=ms(p99), p999=ms(p999), max=ms(hist.max_us))


@dataclass(frozen=True, kw_only=True)
class StreamFigures:
    """A streaming stage's (or summary's) figures (issue 15); absent for a classic endpoint.

    ``ttft_ms`` / ``itl_ms`` / ``tpot_ms`` each read from its own HDR histogram
    (``ttft_histogram`` ...); ``good_requests`` (met every bound of the scenario's
    ``slo``) keeps ``slo_attainment`` and ``goodput_rps`` exact under merging.
    ``tokens_from`` says where token counts came from: usage, tokenizer, chunks or
    mixed. ``error_details`` says what came instead of a good stream. Computed in
    ``loadkit.results.streams``.
    """

    ttft_ms: LatencySummary | None = field(default=None, metadata=OMIT)
    itl_ms: LatencySummary | None = field(default=None, metadata=OMIT)
    tpot_ms: LatencySummary | None = field(default=None, metadata=OMIT)
    output_tokens: int | None = field(default=None, metadata=OMIT)
    input_tokens: int | None = field(default=None, metadata=OMIT)
    output_tokens_per_s: float | None = field(default=None, metadata=OMIT)
    tokens_from: str = field(default="", metadata=OMIT)
    slo_attainment: float | None = field(default=None, metadata=OMIT)   # fraction 0..1
    goodput_rps: float | None = field(default=None, metadata=OMIT)
    good_requests: int | None = field(default=None, metadata=OMIT)
    ttft_histogram: str = field(default="", metadata=OMIT)
    itl_histogram: str = field(default="", metadata=OMIT)
    tpot_histogram: str = field(default="", metadata=OMIT)
    error_details: dict[str, int] = field(default_factory=dict, metadata=OMIT)

    @property
    def streamed(self) -> bool:
        return self.output_tokens is not None

    def stream_hist(self, metric: str) -> LatencyHistogram:
        """The decoded histogram of ``ttft``, ``itl`` or ``tpot`` (empty when absent)."""
        encoded = str(getattr(self, f"{metric}_histogram"))
        return LatencyHistogram.decode(encoded) if encoded else LatencyHistogram()


@dataclass(frozen=True, kw_only=True)
class StreamSecond:
    """One second of a streaming profile: TTFT and ITL percentiles, tokens out."""

    ttft_p50_ms: float | None = field(default=None, metadata=OMIT)
    ttft_p99_ms: float | None = field(default=None, metadata=OMIT)
    itl_p50_ms: float | None = field(default=None, metadata=OMIT)
    itl_p99_ms: float | None = field(default=None, metadata=OMIT)
    output_tokens: int | None = field(default=None, metadata=OMIT)
