"""Soak analysis: does the service drift over a long constant load?

Reads one soak ProfileResult's per-second timeseries (measured stages only) and
compares the first and last windows: ``window_s`` seconds each, or by default
the first and last 20% of the measured seconds. A window's p99 is the
request-weighted mean of its 1-second p99s (only per-second summaries are kept,
so this is a trend indicator, not an exact percentile). The error rate is
"rising" / "falling" when the last window's rate differs from the first by more
than ``flat_pp`` percentage points (0.5 by default), else "flat". ``windows``
lists every consecutive window (error rate and p99 over time) for the reports.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from loadkit.analysis.throughput import analyze_constant_rate
from loadkit.results.analysis import SoakAnalysis, SoakWindow
from loadkit.results.analysis.kinds import Trend
from loadkit.results.model import Interval, ProfileResult
from loadkit.units import format_latency_ms


def _window(ivs: Sequence[Interval], start_s: float | None = None) -> SoakWindow:
    n = sum(iv.requests for iv in ivs)
    errors = sum(iv.errors for iv in ivs)
    p99 = sum(iv.p99_ms * iv.requests for iv in ivs) / n if n else None
    return SoakWindow(start_s=start_s, seconds=len(ivs), requests=n, errors=errors,
                      error_rate=round(errors / n, 6) if n else None,
                      p99_ms=round(p99, 3) if p99 is not None else None,
                      rps=round(n / len(ivs), 3) if ivs else None)


def analyze_soak(profile: ProfileResult, *, window_s: float | None = None,
                 fraction: float = 0.2, flat_pp: float = 0.5) -> SoakAnalysis:
    """The drift between the first and last windows, and the steady rate's figures."""
    warm = {s.index for s in profile.stages if s.warmup}
    ivs = [iv for iv in profile.timeseries if iv.stage not in warm and iv.requests > 0]
    steady = analyze_constant_rate(profile)
    if len(ivs) < 2:
        return SoakAnalysis(headline=f"too short to judge drift ({len(ivs)} s measured)",
                            steady=steady)
    k = int(window_s) if window_s else max(1, round(len(ivs) * fraction))
    k = max(1, min(k, len(ivs) // 2))
    first, last = _window(ivs[:k]), _window(ivs[-k:])
    drift_ms = drift = None
    if first.p99_ms is not None and last.p99_ms is not None:
        drift_ms = round(last.p99_ms - first.p99_ms, 3)
        drift = round(last.p99_ms / first.p99_ms - 1, 4) if first.p99_ms else None
    rates = np.array([iv.errors / iv.requests for iv in ivs])
    t = np.array([iv.elapsed_s for iv in ivs], dtype=float)
    slope_per_min = float(np.polyfit(t, rates, 1)[0] * 60) if np.ptp(t) > 0 else 0.0
    delta_pp = ((last.error_rate or 0.0) - (first.error_rate or 0.0)) * 100
    trend: Trend = "rising" if delta_pp > flat_pp else "falling" if delta_pp < -flat_pp else "flat"
    total_err = sum(iv.errors for iv in ivs) / sum(iv.requests for iv in ivs)
    windows = tuple(_window(ivs[i:i + k], ivs[i].elapsed_s) for i in range(0, len(ivs), k))
    head = (f"p99 {format_latency_ms(first.p99_ms)} -> {format_latency_ms(last.p99_ms)}"
            f" from first to last {k} s")
    if drift is not None:
        head += f" ({drift * 100:+.0f}%)"
    head += f"; error rate {total_err * 100:.3g}% {trend}"
    return SoakAnalysis(window_s=k, first=first, last=last, windows=windows,
                        p99_drift_ms=drift_ms, p99_drift=drift, error_rate=round(total_err, 6),
                        error_trend=trend, error_rate_slope_per_min=round(slope_per_min, 8),
                        headline=head, steady=steady)
