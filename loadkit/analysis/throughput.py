"""Throughput analysis: maximum sustained requests/s and rows/s, the batch-size
trade-off when several batch sizes were run, and offered vs achieved rate for
constant-rate profiles.

Reads one ProfileResult. "Sustained" is a whole measured stage's throughput
(requests over its duration), never the best single second.
"""

from __future__ import annotations

from loadkit.results.analysis import BatchRow, ConstantRateAnalysis, ThroughputAnalysis
from loadkit.results.analysis.kinds import ConstantRateKind
from loadkit.results.model import ProfileResult, StageResult
from loadkit.units import format_latency_ms


def _row(s: StageResult) -> BatchRow:
    lat = s.latency_ms
    return BatchRow(step=s.index, batch_size=s.batch_size, concurrency=s.concurrency,
                    throughput_rps=s.throughput_rps, rows_per_s=s.rows_per_s,
                    p50_ms=lat.p50, p99_ms=lat.p99,
                    p50_ms_per_row=round(lat.p50 / s.batch_size, 4) if s.batch_size else None,
                    error_rate=round(s.error_rate, 6))


def analyze_throughput(profile: ProfileResult) -> ThroughputAnalysis:
    stages = [s for s in profile.measured_stages() if s.requests > 0]
    if not stages:
        return ThroughputAnalysis(headline="no measured requests")
    best = max(stages, key=lambda s: s.throughput_rps)
    conc = f" at concurrency {best.concurrency}" if best.concurrency else ""
    head = (f"{best.throughput_rps:.0f} rps sustained{conc}, "
            f"p99 {format_latency_ms(best.latency_ms.p99)}")
    sizes = sorted({s.batch_size for s in stages})
    table: tuple[BatchRow, ...] = ()
    best_batch = None
    if len(sizes) > 1:
        table = tuple(_row(s) for s in sorted(stages, key=lambda s: (s.batch_size, s.index)))
        top = max(stages, key=lambda s: s.rows_per_s)
        best_batch = top.batch_size
        head = (f"best at batch {top.batch_size}: {top.rows_per_s:.0f} rows/s "
                f"({top.throughput_rps:.0f} rps, p99 {format_latency_ms(top.latency_ms.p99)}); "
                + ", ".join(f"batch {r.batch_size}: {r.rows_per_s:.0f} rows/s"
                            for r in table if r.step != top.index))
    elif best.batch_size > 1:
        head += f", {best.rows_per_s:.0f} rows/s (batch {best.batch_size})"
    s = profile.summary
    if s.errors:
        head += f"; {s.errors} errors ({s.error_rate * 100:.3g}%)"
    judged = [st for st in stages if st.stable is not None]
    stable = None
    if judged:
        # Asked for stability windows: the figure is only an answer if it settled.
        stable = all(st.stable for st in judged)
        unsettled = [st for st in judged if not st.stable]
        head += (f"; stable after {best.duration_s:.3g} s" if not unsettled
                 else f"; never stabilised in {max(st.duration_s for st in unsettled):.3g} s "
                      "(inconclusive)")
    return ThroughputAnalysis(max_sustained_rps=best.throughput_rps,
                              max_rows_per_s=max(s.rows_per_s for s in stages),
                              batch_sizes=table, best_batch_size=best_batch, stable=stable,
                              headline=head)


def analyze_constant_rate(profile: ProfileResult) -> ConstantRateAnalysis:
    s = profile.summary
    offered = [st.rate for st in profile.measured_stages() if st.rate]
    rate = max(offered) if offered else None
    kind: ConstantRateKind = ("soak" if profile.kind == "soak" else
                              "constant_rate" if profile.kind == "constant_rate" else
                              "constant-rate")
    head = "no measured requests"
    if s.requests:
        achieved = s.throughput_rps
        head = f"{achieved:.0f} rps" if achieved >= 1000 else f"{achieved:.4g} rps"
        if rate:
            head += f" of {rate:g} offered"
        head += (f", p50 {format_latency_ms(s.latency_ms.p50)}, p99 "
                 f"{format_latency_ms(s.latency_ms.p99)}, errors {s.error_rate * 100:.3g}%")
        if s.late:
            head += f", {s.late} late"
    return ConstantRateAnalysis(kind=kind, offered_rps=rate, achieved_rps=s.throughput_rps,
                                achieved=round(s.throughput_rps / rate, 4) if rate else None,
                                late=s.late, error_rate=round(s.error_rate, 6), headline=head)
