"""A profile's analysis in sentences, for the HTML panel (not ``no knee: no`` key dumps).

The analysis is a typed record per profile kind (``loadkit.results.analysis``);
reporters read its attributes but never compute it. Each kind has one sentence
writer; a scalar figure no writer uses is shown as ``Name: value`` so nothing
measured is hidden. What other parts of the report already show (headline, steps,
by-input breakdown, server figures, a search's probes) is left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from loadkit.reporters._common import fmt_num
from loadkit.results.analysis import (
    Analysis,
    ConstantRateAnalysis,
    LatencyAnalysis,
    RampAnalysis,
    Recovery,
    SearchAnalysis,
    SoakAnalysis,
    SpikeAnalysis,
    StressAnalysis,
    ThroughputAnalysis,
)

SHOWN_ELSEWHERE = frozenset({"headline", "kind", "steps", "breakdown", "server", "probes",
                             "model", "unit"})


def _ms(x: float | None) -> str:
    return f"{fmt_num(x)} ms" if x is not None else "-"


def _pct(x: float | None) -> str:
    return f"{fmt_num(round(x * 100, 2))}%" if x is not None else "-"


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _figure(name: str, value: object) -> Iterator[str]:
    """``Name: value.`` for a scalar figure no sentence says (nothing for None or "")."""
    if value is None or value == "" or isinstance(value, (dict, list, tuple)) \
            or dataclasses.is_dataclass(value):
        return
    shown = (fmt_num(value) if isinstance(value, (int, float)) and not isinstance(value, bool)
             else str(value))
    yield f"{_label(name)}: {shown}."


def _recovery(r: Recovery | None, seconds: float | None) -> Iterator[str]:
    if r is None:
        return
    bound = f" (p99 back under {_ms(r.threshold_ms)})"
    if r.status == "recovered":
        yield f"It recovered in {fmt_num(seconds)} s after the overload{bound}."
    elif r.status == "did not recover":
        yield f"It did not recover before the run ended{bound}."


def _ramp(a: RampAnalysis) -> Iterator[str]:
    if a.knee is not None:
        k = a.knee
        yield (f"Throughput stops growing at concurrency {k.concurrency} (the knee): "
               f"{fmt_num(k.throughput_rps)} rps, p99 {_ms(k.p99_ms)}"
               + (f", scaling efficiency {_pct(k.efficiency)}" if k.efficiency is not None
                  else "") + ".")
    if a.no_knee:
        yield "Throughput was still growing at the last step: no knee was reached."
    if a.max_throughput_rps is not None:
        at = a.max_throughput_concurrency
        yield (f"The most throughput was {fmt_num(a.max_throughput_rps)} rps"
               + (f", at concurrency {at}." if at else "."))
    if any(s.meets_sla is not None for s in a.steps):      # some rule judged the steps
        v, rps = a.max_concurrency_under_sla, a.max_concurrency_under_sla_rps
        yield ("The SLA held at no step." if v is None else
               f"The SLA held up to concurrency {v}" + (f" ({fmt_num(rps)} rps)." if rps else "."))
    if a.first_breaking_step is not None:
        b = a.first_breaking_step
        yield (f"The SLA first broke at step {b.step} (concurrency {b.concurrency}): "
               f"p99 {_ms(b.p99_ms)}.")


def _stress(a: StressAnalysis) -> Iterator[str]:
    if a.breaking_point is not None:
        why = "; ".join(a.breaking_point.reasons)
        yield (f"It broke at {fmt_num(a.breaking_point.rate)} rps offered"
               + (f": {why}." if why else "."))
    elif a.steps:
        yield "No step broke: the heaviest one still held."
    if a.steps:
        yield (f"The SLA held up to {fmt_num(a.max_rate_under_sla)} rps offered."
               if a.max_rate_under_sla is not None else "The SLA held at no offered rate.")
    if a.max_sustained_rps is not None:
        yield f"{fmt_num(a.max_sustained_rps)} rps were sustained under the SLA."
    if a.peak_goodput_rps is not None:
        at = a.peak_goodput_rate
        yield (f"At best {fmt_num(a.peak_goodput_rps)} requests a second succeeded"
               + (f" (at {fmt_num(at)} rps offered)." if at else "."))
    yield from _recovery(a.recovery, a.recovery_s)


def _spike(a: SpikeAnalysis) -> Iterator[str]:
    if a.spike_load is not None:
        yield (f"During the spike to {fmt_num(a.spike_load)} rps, p99 reached "
               f"{_ms(a.peak_p99_ms)} against {_ms(a.baseline_p99_ms)} before it, with "
               f"{fmt_num(a.spike_errors)} errors.")
    for name in ("peak_max_ms", "peak_1s_p99_ms"):
        yield from _figure(name, getattr(a, name))
    yield from _recovery(a.recovery, a.recovery_s)


def _constant(a: ConstantRateAnalysis) -> Iterator[str]:
    if a.offered_rps is not None:
        yield (f"{fmt_num(a.achieved_rps)} of {fmt_num(a.offered_rps)} rps offered were achieved"
               + (f"; {a.late:,} requests started late." if a.late else "."))
    else:
        yield f"{fmt_num(a.achieved_rps)} rps were achieved."
    yield f"{_pct(a.error_rate)} of the requests failed."


def _soak(a: SoakAnalysis) -> Iterator[str]:
    if a.p99_drift is not None:
        ms = a.p99_drift_ms
        yield (f"p99 moved by {'+' if a.p99_drift >= 0 else ''}{_pct(a.p99_drift)}"
               + (f" ({'+' if ms >= 0 else ''}{_ms(ms)})" if ms is not None else "")
               + " from the first to the last"
               + (f" {fmt_num(a.window_s)} s" if a.window_s else "") + " window.")
    if a.error_rate is not None:
        yield f"{_pct(a.error_rate)} of the requests failed."
    if a.error_trend is not None:
        slope = a.error_rate_slope_per_min
        yield (f"Errors were {a.error_trend}"
               + (f" ({_pct(slope)} a minute)." if slope is not None else "."))


def _latency(a: LatencyAnalysis) -> Iterator[str]:
    if a.cold_start is not None:
        ready, first = a.cold_start.ready_s, a.cold_start.first_request_ms
        yield ("Cold start: " + (f"ready after {fmt_num(ready)} s" if ready is not None else
                                 "readiness not measured")
               + (f", first request {_ms(first)}." if first is not None else "."))


def _throughput(a: ThroughputAnalysis) -> Iterator[str]:
    if a.max_sustained_rps is not None:
        yield f"{fmt_num(a.max_sustained_rps)} rps were sustained."
    if a.max_rows_per_s is not None:
        yield f"At best {fmt_num(a.max_rows_per_s)} rows a second."


def _search(a: SearchAnalysis) -> Iterator[str]:
    if a.model == "open":
        yield (f"The SLA held up to {fmt_num(a.max_rate_under_sla)} rps offered."
               if a.max_rate_under_sla is not None else "The SLA held at no offered rate.")


# The fields each kind's sentences already say (the others are listed as figures).
SAID: dict[str, frozenset[str]] = {
    "ramp": frozenset({"knee", "no_knee", "max_throughput_rps", "max_throughput_concurrency",
                       "max_concurrency_under_sla", "max_concurrency_under_sla_rps",
                       "first_breaking_step"}),
    "stress": frozenset({"breaking_point", "max_rate_under_sla", "max_sustained_rps",
                         "max_sustained", "peak_goodput_rps", "peak_goodput_rate", "recovery",
                         "recovery_s"}),
    "spike": frozenset({"spike_stage", "spike_load", "peak_p99_ms", "baseline_p99_ms",
                        "spike_requests", "spike_errors", "spike_error_rate",
                        "spike_error_kinds", "recovery", "recovery_s", "peak_max_ms",
                        "peak_1s_p99_ms"}),
    "constant": frozenset({"offered_rps", "achieved_rps", "achieved", "late", "error_rate"}),
    "soak": frozenset({"window_s", "first", "last", "windows", "p99_drift", "p99_drift_ms",
                       "error_trend", "error_rate_slope_per_min", "error_rate", "steady"}),
    "latency": frozenset({"cold_start"}),
    "throughput": frozenset({"max_sustained_rps", "max_rows_per_s"}),
    "search": frozenset({"max_rate_under_sla", "max_concurrency_under_sla"}),
}


def _kind_sentences(a: Analysis) -> tuple[list[str], frozenset[str]]:
    """The kind's own sentences and the fields they say."""
    if isinstance(a, RampAnalysis):
        return list(_ramp(a)), SAID["ramp"]
    if isinstance(a, StressAnalysis):
        return list(_stress(a)), SAID["stress"]
    if isinstance(a, SpikeAnalysis):
        return list(_spike(a)), SAID["spike"]
    if isinstance(a, SoakAnalysis):
        return list(_soak(a)), SAID["soak"]
    if isinstance(a, ConstantRateAnalysis):
        return list(_constant(a)), SAID["constant"]
    if isinstance(a, LatencyAnalysis):
        return list(_latency(a)), SAID["latency"]
    if isinstance(a, ThroughputAnalysis):
        return list(_throughput(a)), SAID["throughput"]
    if isinstance(a, SearchAnalysis):
        return list(_search(a)), SAID["search"]
    return [], frozenset()


def analysis_sentences(analysis: Analysis | None) -> tuple[str, ...]:
    """The analysis as sentences: the kind's own, then every other scalar figure."""
    if analysis is None:
        return ()
    out, said = _kind_sentences(analysis)
    for f in dataclasses.fields(analysis):
        if f.name not in SHOWN_ELSEWHERE and f.name not in said:
            out.extend(_figure(f.name, getattr(analysis, f.name)))
    return tuple(out)
