"""Baseline vs candidate: the statistical regression gate behind ``loadkit compare``.

Reads two RunResults (never a network), matches profiles by name and measured
stages by index, and for each pair decides pass / regression / inconclusive.
A difference is a regression only when it is both statistically significant
(one-sided test at ``alpha``) and larger than a practical threshold: with enough
requests every difference is "significant", and a difference one cannot tell from
noise is not worth failing a build over.

Tests run on per-second windows (see ``loadkit.analysis.stats``): latency
percentiles with a Mann-Whitney U on the window percentiles, throughput on the
window rates; error rates with a two-proportion z test. Point estimates come from
the stages' full HDR histograms; confidence intervals from a bootstrap of windows.

The values it returns (``Comparison`` and its parts) live in ``loadkit.results.compare``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from scipy.stats import norm

from loadkit.analysis import stats
from loadkit.errors import ScenarioError
from loadkit.results.compare import (
    CompareThresholds,
    CompareVerdict,
    Comparison,
    MetricComparison,
    RunRef,
    StageComparison,
)
from loadkit.results.model import Interval, ProfileResult, RunResult, StageResult

SPECTRUM_PERCENTILES = (0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.99, 100.0)
_LATENCY = ("p50", "p95", "p99")
_STREAM_LATENCY = ("ttft_p99", "itl_p99")     # judged by the p99 threshold


def _windows(profile: ProfileResult, stage: int) -> list[Interval]:
    return [iv for iv in profile.timeseries if iv.stage == stage]


def _latency_metric(name: str, b: StageResult, c: StageResult, bw: list[Interval],
                    cw: list[Interval], threshold: float | None, alpha: float,
                    seed: int) -> MetricComparison:
    """``p99`` (latency) or, for a streaming endpoint, ``ttft_p99`` / ``itl_p99``: the
    stage's own histogram for the figure, its per-second value for the test."""
    timing, _, stat = name.rpartition("_")
    pct = float(stat[1:])
    b_ms = (b.stream_hist(timing) if timing else b.hist()).percentile_us(pct) / 1000.0
    c_ms = (c.stream_hist(timing) if timing else c.hist()).percentile_us(pct) / 1000.0
    attr = f"{name}_ms"
    b_vals = [v for iv in bw if iv.requests > 0 and (v := getattr(iv, attr)) is not None]
    c_vals = [v for iv in cw if iv.requests > 0 and (v := getattr(iv, attr)) is not None]
    test = stats.mann_whitney(c_vals, b_vals, alternative="greater")
    ci = stats.ratio_of_means_ci(c_vals, b_vals, seed=seed)
    change = c_ms / b_ms - 1 if b_ms > 0 else 0.0
    significant = test.p_value < alpha
    practical = threshold is not None and change > threshold
    return MetricComparison(
        metric=name, unit="ms", baseline=b_ms, candidate=c_ms, change=change,
        ci_low=ci.low if ci else None, ci_high=ci.high if ci else None,
        test=f"{test.test} on per-second {name}", p_value=test.p_value, threshold=threshold,
        significant=significant, practical=practical, regression=significant and practical)


def _error_metric(b: StageResult, c: StageResult, threshold_pp: float | None,
                  alpha: float) -> MetricComparison:
    test = stats.two_proportion_z(c.errors, c.requests, b.errors, b.requests, "greater")
    b_rate, c_rate = b.error_rate, c.error_rate
    diff_pp = (c_rate - b_rate) * 100
    # Wald interval of the difference, for the report only; the gate uses the pooled test.
    se = ((b_rate * (1 - b_rate) / max(b.requests, 1))
          + (c_rate * (1 - c_rate) / max(c.requests, 1))) ** 0.5 * 100
    z = float(norm.ppf(0.975))
    significant = test.p_value < alpha
    practical = threshold_pp is not None and diff_pp > threshold_pp
    return MetricComparison(
        metric="error_rate", unit="%", baseline=b_rate * 100, candidate=c_rate * 100,
        change=diff_pp, ci_low=diff_pp - z * se, ci_high=diff_pp + z * se,
        test=test.test, p_value=test.p_value, threshold=threshold_pp,
        significant=significant, practical=practical, regression=significant and practical)


def _throughput_metric(b: StageResult, c: StageResult, bw: list[Interval], cw: list[Interval],
                       threshold: float | None, alpha: float, seed: int) -> MetricComparison:
    b_vals = [iv.rps for iv in bw]
    c_vals = [iv.rps for iv in cw]
    test = stats.mann_whitney(c_vals, b_vals, alternative="less")
    ci = stats.ratio_of_means_ci(c_vals, b_vals, seed=seed)
    change = c.throughput_rps / b.throughput_rps - 1 if b.throughput_rps > 0 else 0.0
    significant = test.p_value < alpha
    practical = threshold is not None and change < -threshold
    return MetricComparison(
        metric="throughput", unit="rps", baseline=b.throughput_rps, candidate=c.throughput_rps,
        change=change, ci_low=ci.low if ci else None, ci_high=ci.high if ci else None,
        test=f"{test.test} on per-second rps", p_value=test.p_value, threshold=threshold,
        significant=significant, practical=practical, regression=significant and practical)


def _describe(m: MetricComparison) -> str:
    if m.metric == "error_rate":
        return (f"error_rate {m.baseline:.2f}% -> {m.candidate:.2f}% ({m.change:+.2f} pp, "
                f"p={m.p_value:.3g})")
    return (f"{m.metric} {m.baseline:.3f} -> {m.candidate:.3f} {m.unit} ({m.change:+.1%}, "
            f"p={m.p_value:.3g})")


def compare_stage(profile: str, b: StageResult, c: StageResult, bw: list[Interval],
                  cw: list[Interval], thresholds: CompareThresholds = CompareThresholds(),
                  alpha: float = 0.05, seed: int = 0) -> StageComparison:
    """Compare one stage given both StageResults and their per-second windows."""
    t = thresholds
    limits = {"p50": t.p50_increase, "p95": t.p95_increase, "p99": t.p99_increase}
    metrics = [_latency_metric(n, b, c, bw, cw, limits[n], alpha, seed) for n in _LATENCY]
    if b.streamed and c.streamed:       # a streaming endpoint: TTFT and ITL by the p99 limit
        metrics += [_latency_metric(n, b, c, bw, cw, t.p99_increase, alpha, seed)
                    for n in _STREAM_LATENCY]
    metrics.append(_error_metric(b, c, t.error_rate_increase_pp, alpha))
    metrics.append(_throughput_metric(b, c, bw, cw, t.throughput_decrease, alpha, seed))
    reasons = [f"regression: {_describe(m)}" for m in metrics if m.regression]
    short = []
    for side, st, ws in (("baseline", b, bw), ("candidate", c, cw)):
        if len(ws) < t.min_windows:
            short.append(f"{side} has {len(ws)} one-second windows (< {t.min_windows})")
        if st.requests < t.min_requests:
            short.append(f"{side} has {st.requests} requests (< {t.min_requests})")
    verdict: CompareVerdict
    if short:
        # Too little data: no test can be trusted, in either direction.
        verdict = "inconclusive"
        reasons = [f"too little data: {s}" for s in short]
        metrics = [_no_gate(m) for m in metrics]
    else:
        verdict = "regression" if reasons else "pass"
    bh, ch = b.hist(), c.hist()
    spectrum = tuple((p, bh.percentile_us(p) / 1000.0, ch.percentile_us(p) / 1000.0)
                     for p in SPECTRUM_PERCENTILES)
    return StageComparison(
        profile=profile, stage=b.index, label=b.label or c.label,
        baseline_requests=b.requests, candidate_requests=c.requests,
        baseline_windows=len(bw), candidate_windows=len(cw), metrics=tuple(metrics),
        verdict=verdict, reasons=tuple(reasons), spectrum=spectrum,
        baseline_window_p99_ms=tuple(iv.p99_ms for iv in bw),
        candidate_window_p99_ms=tuple(iv.p99_ms for iv in cw),
        baseline_histogram=b.histogram, candidate_histogram=c.histogram)


def _no_gate(m: MetricComparison) -> MetricComparison:
    return replace(m, significant=False, regression=False)


def _ref(r: RunResult) -> RunRef:
    return RunRef(scenario=r.scenario.name, target=r.scenario.target, started_at=r.started_at,
                  status=r.status.value if r.status is not None else "unjudged",
                  partial=r.partial)


def _chosen(baseline: RunResult, candidate: RunResult,
            profiles: Sequence[str] | None) -> list[ProfileResult]:
    """The baseline's profiles to compare: all, or the ones named (each must be in both)."""
    if not profiles:
        return list(baseline.profiles)
    base = {p.name: p for p in baseline.profiles}
    cand = {p.name for p in candidate.profiles}
    for name in profiles:
        if name not in base or name not in cand:
            known = sorted(set(base) & cand)
            raise ScenarioError("--profile", f"no profile named {name!r} in both runs "
                                f"(in both: {', '.join(known) or 'none'})")
    return [base[name] for name in dict.fromkeys(profiles)]


def _to_decide(stages: Sequence[StageComparison], thresholds: CompareThresholds) -> list[str]:
    """What would make an inconclusive comparison decidable, one line per fix."""
    short = [s for s in stages if s.verdict == "inconclusive"]
    if not short:
        return []
    names = list(dict.fromkeys(s.profile for s in short))
    fine = list(dict.fromkeys(s.profile for s in stages if s.profile not in names))
    need = [f"{s.profile} stage {s.stage} needs {thresholds.min_windows} one-second windows "
            f"and {thresholds.min_requests} requests per side (has "
            f"{min(s.baseline_windows, s.candidate_windows)} windows, "
            f"{min(s.baseline_requests, s.candidate_requests)} requests): run it for at least "
            f"{thresholds.min_windows} s" for s in short]
    if fine:
        need.append(f"or compare only the profiles with enough data: "
                    f"{' '.join('--profile ' + n for n in fine)}")
    return [f"to decide: {line}" for line in need]


def compare(baseline: RunResult, candidate: RunResult,
            thresholds: CompareThresholds = CompareThresholds(), alpha: float = 0.05,
            seed: int = 0, profiles: Sequence[str] | None = None) -> Comparison:
    """Compare every measured stage present in both runs; the worst stage sets the verdict.

    Regression anywhere wins (exit 1). Otherwise the result is inconclusive (exit 4)
    when any stage had too little data, nothing could be matched, or either
    generator fell behind (its latencies would include its own lag); else pass.
    ``profiles`` compares only those profiles (each must be in both runs). An
    inconclusive comparison's reasons end with what would make it decidable.
    """
    if not 0 < alpha < 1:
        raise ScenarioError("alpha", f"must be between 0 and 1 (got {alpha})")
    stages: list[StageComparison] = []
    skipped: list[str] = []
    cand_profiles = {p.name: p for p in candidate.profiles}
    chosen = _chosen(baseline, candidate, profiles)
    for bp in chosen:
        cp = cand_profiles.get(bp.name)
        if cp is None:
            skipped.append(f"profile {bp.name!r} is only in the baseline")
            continue
        c_stages = {s.index: s for s in cp.measured_stages()}
        for bs in bp.measured_stages():
            cs = c_stages.pop(bs.index, None)
            if cs is None:
                skipped.append(f"{bp.name} stage {bs.index} is only in the baseline")
                continue
            stages.append(compare_stage(bp.name, bs, cs, _windows(bp, bs.index),
                                        _windows(cp, cs.index), thresholds, alpha, seed))
        skipped.extend(f"{bp.name} stage {i} is only in the candidate" for i in sorted(c_stages))
    base_names = {p.name for p in baseline.profiles}
    if not profiles:
        skipped.extend(f"profile {p.name!r} is only in the candidate"
                       for p in candidate.profiles if p.name not in base_names)

    reasons: list[str] = []
    for s in stages:
        reasons.extend(f"{s.profile} stage {s.stage}: {r}" for r in s.reasons
                       if s.verdict != "pass")
    verdict: CompareVerdict
    if any(s.verdict == "regression" for s in stages):
        verdict = "regression"
        reasons = [r for r in reasons if "regression:" in r]
    elif not stages:
        verdict = "inconclusive"
        reasons = ["no measured stage is present in both runs"]
    elif any(s.verdict == "inconclusive" for s in stages):
        verdict = "inconclusive"
        reasons += _to_decide(stages, thresholds)
    else:
        verdict = "pass"
    for side, r in (("baseline", baseline), ("candidate", candidate)):
        if r.health.fell_behind:
            reasons.append(f"the {side} generator fell behind its schedule")
            if verdict == "pass":
                verdict = "inconclusive"
    if verdict == "pass":
        reasons = [f"no significant regression beyond the thresholds in {len(stages)} stage(s)"]
    return Comparison(baseline=_ref(baseline), candidate=_ref(candidate), stages=tuple(stages),
                      verdict=verdict, reasons=tuple(reasons), alpha=alpha,
                      thresholds=thresholds, skipped=tuple(skipped))
