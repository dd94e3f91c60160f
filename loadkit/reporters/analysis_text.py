"""A profile's analysis in sentences, for the HTML panel (not ``no knee: no`` key dumps).

Analysis is plain JSON written by ``loadkit.analysis``; reporters read it but never
compute it. Each known key has one sentence writer in a table (a new analysis key
is one entry); a scalar no writer knows is shown as ``key: value`` so nothing
measured is hidden. Keys other parts of the report already show (headline, steps,
by-input breakdown, server figures) are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from loadkit.reporters._common import fmt_num

SHOWN_ELSEWHERE = frozenset({"headline", "kind", "steps", "breakdown", "server", "probes",
                             "search"})


def _ms(x: Any) -> str:
    return f"{fmt_num(x)} ms" if isinstance(x, (int, float)) else "-"


def _pct(x: Any) -> str:
    return f"{fmt_num(round(x * 100, 2))}%" if isinstance(x, (int, float)) else "-"


def _knee(v: Any, a: Mapping[str, Any]) -> str | None:
    if not isinstance(v, Mapping):
        return None
    eff = v.get("efficiency")
    return (f"Throughput stops growing at concurrency {v.get('concurrency')} (the knee): "
            f"{fmt_num(v.get('throughput_rps'))} rps, p99 {_ms(v.get('p99_ms'))}"
            + (f", scaling efficiency {_pct(eff)}" if eff is not None else "") + ".")


def _no_knee(v: Any, a: Mapping[str, Any]) -> str | None:
    return "Throughput was still growing at the last step: no knee was reached." if v else None


def _max_tp(v: Any, a: Mapping[str, Any]) -> str | None:
    at = a.get("max_throughput_concurrency")
    return f"The most throughput was {fmt_num(v)} rps" + (f", at concurrency {at}." if at else ".")


def _under_sla_c(v: Any, a: Mapping[str, Any]) -> str | None:
    rps = a.get("max_concurrency_under_sla_rps")
    if v is None:
        return "The SLA held at no step."
    return f"The SLA held up to concurrency {v}" + (f" ({fmt_num(rps)} rps)." if rps else ".")


def _first_break(v: Any, a: Mapping[str, Any]) -> str | None:
    if not isinstance(v, Mapping):
        return None
    load = (f"concurrency {v['concurrency']}" if v.get("concurrency") is not None
            else f"{fmt_num(v.get('rate'))} rps")
    return f"The SLA first broke at step {v.get('step')} ({load}): p99 {_ms(v.get('p99_ms'))}."


def _under_sla_r(v: Any, a: Mapping[str, Any]) -> str | None:
    return (f"The SLA held up to {fmt_num(v)} rps offered." if v is not None
            else "The SLA held at no offered rate.")


def _sustained(v: Any, a: Mapping[str, Any]) -> str | None:
    return f"{fmt_num(v)} rps were sustained under the SLA." if v is not None else None


def _breaking(v: Any, a: Mapping[str, Any]) -> str | None:
    if not isinstance(v, Mapping):
        return "No step broke: the heaviest one still held." if "breaking_point" in a else None
    why = "; ".join(str(r) for r in v.get("reasons", ()) or ())
    return f"It broke at {fmt_num(v.get('rate'))} rps offered" + (f": {why}." if why else ".")


def _goodput(v: Any, a: Mapping[str, Any]) -> str | None:
    at = a.get("peak_goodput_rate")
    return (f"At best {fmt_num(v)} requests a second succeeded"
            + (f" (at {fmt_num(at)} rps offered)." if at else "."))


def _recovery(v: Any, a: Mapping[str, Any]) -> str | None:
    if not isinstance(v, Mapping):
        return None
    status, thr = v.get("status"), v.get("threshold_ms")
    bound = f" (p99 back under {_ms(thr)})" if thr is not None else ""
    if status == "recovered":
        return f"It recovered in {fmt_num(a.get('recovery_s'))} s after the overload{bound}."
    if status == "did not recover":
        return f"It did not recover before the run ended{bound}."
    return None


def _offered(v: Any, a: Mapping[str, Any]) -> str | None:
    late = a.get("late")
    return (f"{fmt_num(a.get('achieved_rps'))} of {fmt_num(v)} rps offered were achieved"
            + (f"; {late:,} requests started late." if late else "."))


def _drift(v: Any, a: Mapping[str, Any]) -> str | None:
    ms = a.get("p99_drift_ms")
    window = a.get("window_s")
    return (f"p99 moved by {'+' if v >= 0 else ''}{_pct(v)}"
            + (f" ({'+' if ms >= 0 else ''}{_ms(ms)})" if isinstance(ms, (int, float)) else "")
            + " from the first to the last"
            + (f" {fmt_num(window)} s" if window else "") + " window.")


def _trend(v: Any, a: Mapping[str, Any]) -> str | None:
    slope = a.get("error_rate_slope_per_min")
    return (f"Errors were {v}" + (f" ({_pct(slope)} a minute)." if slope is not None else "."))


def _spike(v: Any, a: Mapping[str, Any]) -> str | None:
    return (f"During the spike to {fmt_num(v)} rps, p99 reached {_ms(a.get('peak_p99_ms'))} "
            f"against {_ms(a.get('baseline_p99_ms'))} before it, with "
            f"{fmt_num(a.get('spike_errors') or 0)} errors.")


def _cold(v: Any, a: Mapping[str, Any]) -> str | None:
    if not isinstance(v, Mapping):
        return None
    ready = v.get("ready_s")
    first = v.get("first_request_ms")
    return ("Cold start: " + (f"ready after {fmt_num(ready)} s" if ready is not None else
                              "readiness not measured")
            + (f", first request {_ms(first)}." if first is not None else "."))


def _rows(v: Any, a: Mapping[str, Any]) -> str | None:
    return f"At best {fmt_num(v)} rows a second."


def _error_rate(v: Any, a: Mapping[str, Any]) -> str | None:
    return f"{_pct(v)} of the requests failed."


def _skip(v: Any, a: Mapping[str, Any]) -> str | None:
    return None


Writer = Callable[[Any, Mapping[str, Any]], "str | None"]
SENTENCES: dict[str, Writer] = {
    "knee": _knee, "no_knee": _no_knee, "max_throughput_rps": _max_tp,
    "max_concurrency_under_sla": _under_sla_c, "first_breaking_step": _first_break,
    "max_rate_under_sla": _under_sla_r, "max_sustained_rps": _sustained,
    "breaking_point": _breaking, "peak_goodput_rps": _goodput, "recovery": _recovery,
    "offered_rps": _offered, "p99_drift": _drift, "error_trend": _trend,
    "spike_load": _spike, "cold_start": _cold, "max_rows_per_s": _rows,
    "error_rate": _error_rate,
    # read by the sentences above
    **{k: _skip for k in ("max_throughput_concurrency", "max_concurrency_under_sla_rps",
                          "peak_goodput_rate", "recovery_s", "achieved_rps", "achieved",
                          "late", "p99_drift_ms", "window_s", "error_rate_slope_per_min",
                          "peak_p99_ms", "baseline_p99_ms", "spike_errors", "first", "last",
                          "spike_stage", "spike_requests", "spike_error_rate",
                          "spike_error_kinds", "windows")},
}


def analysis_sentences(analysis: Any) -> tuple[str, ...]:
    """The analysis as sentences, in the order the analysis wrote its keys."""
    if not isinstance(analysis, Mapping):
        return ()
    out: list[str] = []
    for key, value in analysis.items():
        if key in SHOWN_ELSEWHERE:
            continue
        writer = SENTENCES.get(str(key))
        if writer is not None:
            try:
                text = writer(value, analysis)
            except (TypeError, ValueError, KeyError, AttributeError):
                text = None         # odd data from another module never breaks a report
            if text:
                out.append(text)
        elif value is not None and not isinstance(value, (Mapping, list, tuple)):
            shown = fmt_num(value) if isinstance(value, (int, float)) and not isinstance(
                value, bool) else str(value)
            out.append(f"{str(key).replace('_', ' ').capitalize()}: {shown}.")
    return tuple(out)
