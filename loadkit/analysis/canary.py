"""Canary decisions: promote / hold / rollback for one stage, from what it measured.

Pure: ``decide_stage`` reads two StageResults (candidate and baseline, measured at
the same time under one split load) and an agreement sample, and never touches a
network; ``loadkit.canary`` runs the load and calls it. The rules follow the
seed's canary criteria:

- **rollback** at once when the candidate's p99 is >= ``rollback_p99_ratio`` x the
  baseline's, its error rate is more than ``rollback_error_rate_pp`` points higher,
  or prediction agreement is below ``min_agreement`` -- each only when the
  difference is statistically significant, so one slow request among ten cannot
  roll a release back (not enough evidence is a *hold*, never a pass);
- **promote** only when every criterion passes on at least ``min_requests`` per side:
  a criterion passes unless the candidate is significantly worse beyond its promote
  threshold (the Kayenta rule: noise on a small sample is not a failure, but the
  sample must be big enough, hence ``min_requests``);
- otherwise **hold**.

Because both sides run concurrently and interleaved in time, shared noise (GC,
the host) hits both alike; the p99 ratio's interval is therefore bootstrapped from
the two histograms (request as the unit), unlike ``compare`` which must use windows.
The values (``CanaryConfig``, ``StageOutcome``, ``Criterion``, ...) live in
``loadkit.results.canary``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from loadkit.analysis import stats
from loadkit.results.canary import (
    AgreementMode,
    AgreementSample,
    CanaryConfig,
    CanaryStage,
    Criterion,
    Decision,
    StageOutcome,
    criterion_of_status,
    decision_of_status,
    status_of_decision,
)
from loadkit.results.model import Interval, RunResult, StageResult, Verdict
from loadkit.results.status import Status


# -- prediction agreement ------------------------------------------------------------

def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _top_label(x: Any) -> Any:
    if isinstance(x, Mapping):
        if "label" in x:
            return x["label"]
        if x and all(_number(v) for v in x.values()):
            return max(x, key=lambda k: x[k])
    if isinstance(x, (list, tuple)) and x and all(_number(v) for v in x):
        return max(range(len(x)), key=lambda i: x[i])
    return x


def _close(a: Any, b: Any, tol: float) -> bool:
    if _number(a) and _number(b):
        return math.isclose(a, b, rel_tol=tol, abs_tol=tol)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b, strict=False))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    return bool(a == b)


def predictions_match(a: Any, b: Any, mode: AgreementMode = "auto",
                      tolerance: float = 1e-6) -> bool:
    """Whether two responses' ``predictions`` agree.

    ``exact``: equal values. ``tolerance``: numbers within ``tolerance`` (relative or
    absolute), the rest equal. ``top_label``: per item, the same label (``label`` key,
    argmax of a probability list or dict, or the item itself). ``auto``: ``tolerance``,
    which is exact for labels and forgiving of float noise for scores.
    A batch agrees only when every item does.
    """
    if mode == "exact":
        return bool(a == b)
    if mode == "top_label":
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b) \
                and not all(_number(v) for v in a):
            return all(_top_label(x) == _top_label(y) for x, y in zip(a, b, strict=False))
        return bool(_top_label(a) == _top_label(b))
    return _close(a, b, tolerance)


# -- one stage's decision ----------------------------------------------------------------

def _requests(b: StageResult, c: StageResult, need: int) -> Criterion:
    low = min(b.requests, c.requests)
    ok = low >= need
    return Criterion("requests", float(low), float(need), None, "pass" if ok else "hold",
                     f"candidate {c.requests}, baseline {b.requests} requests"
                     + ("" if ok else f" (< {need} on a side)"))


def _latency(b: StageResult, c: StageResult, cfg: CanaryConfig) -> Criterion:
    b_vals, c_vals = b.hist().recorded_values(), c.hist().recorded_values()
    got = stats.hist_percentile_ratio_ci(c_vals, b_vals, 99.0, confidence=1 - cfg.alpha,
                                         seed=cfg.seed)
    if got is None:
        return Criterion("p99_ratio", None, cfg.promote_p99_ratio, cfg.rollback_p99_ratio,
                         "hold", "no latency measured on a side")
    ratio, ci = got
    # The tail is judged on the p99 ratio's interval: significantly slower at all
    # (low end above 1) to roll back, significantly beyond the promote threshold to hold.
    slower = ci.low > 1.0
    args = ("p99_ratio", ratio, cfg.promote_p99_ratio, cfg.rollback_p99_ratio)
    common: dict[str, Any] = {"ci_low": ci.low, "ci_high": ci.high}
    text = f"p99 {ratio:.2f}x baseline (interval {ci.low:.2f}-{ci.high:.2f})"
    if ratio >= cfg.rollback_p99_ratio and slower:
        return Criterion(*args, "rollback", f"{text} >= {cfg.rollback_p99_ratio:g}x", **common)
    if ci.low > cfg.promote_p99_ratio:
        return Criterion(*args, "hold", f"{text} > {cfg.promote_p99_ratio:g}x", **common)
    if ratio > cfg.promote_p99_ratio:
        return Criterion(*args, "pass", f"{text}, not significantly beyond "
                         f"{cfg.promote_p99_ratio:g}x", **common)
    return Criterion(*args, "pass", text, **common)


def _errors(b: StageResult, c: StageResult, cfg: CanaryConfig) -> Criterion:
    diff_pp = (c.error_rate - b.error_rate) * 100
    test = stats.two_proportion_z(c.errors, c.requests, b.errors, b.requests, "greater")
    args = ("error_rate", diff_pp, cfg.promote_error_rate_pp, cfg.rollback_error_rate_pp)
    text = (f"error rate {c.error_rate:.1%} vs {b.error_rate:.1%} ({diff_pp:+.1f} pp, "
            f"p={test.p_value:.2g})")
    if diff_pp > cfg.rollback_error_rate_pp and test.p_value < cfg.alpha:
        return Criterion(*args, "rollback", text, p_value=test.p_value)
    if diff_pp > cfg.promote_error_rate_pp and test.p_value < cfg.alpha:
        return Criterion(*args, "hold", text, p_value=test.p_value)
    return Criterion(*args, "pass", text, p_value=test.p_value)


def _agreement(sample: AgreementSample, cfg: CanaryConfig) -> Criterion:
    args = ("agreement", sample.share, cfg.min_agreement, cfg.min_agreement)
    if cfg.agreement_sample == 0:
        return Criterion("agreement", None, None, None, "pass", "not checked (agreement_sample: 0)")
    if not sample.compared:
        return Criterion(*args, "hold", f"no input answered by both ({sample.failed} failed)")
    share = sample.matched / sample.compared
    test = stats.binomial_below(sample.matched, sample.compared, cfg.min_agreement)
    text = f"{sample.matched}/{sample.compared} predictions agree ({share:.0%}, {sample.mode})"
    if share < cfg.min_agreement and test.p_value < cfg.alpha:
        return Criterion(*args, "rollback", text + f" < {cfg.min_agreement:.0%}",
                         p_value=test.p_value)
    if share >= cfg.min_agreement:
        return Criterion(*args, "pass", text, p_value=test.p_value)
    return Criterion(*args, "hold", text + f" < {cfg.min_agreement:.0%} but not significant "
                     f"(p={test.p_value:.2g})", p_value=test.p_value)


def _observed(v: Verdict) -> str:
    return "no data" if v.observed is None else f"{v.observed:.4g}{v.unit}"


def verdicts_status(verdicts: Sequence[Verdict]) -> Status:
    """What an arm's verdicts say: fail (a rule broken on enough data) > inconclusive >
    pass. The generator's own lag is the ``generator`` criterion's to weigh, not this."""
    if any(not v.passed and not v.inconclusive for v in verdicts):
        return Status.FAIL
    if any(v.inconclusive for v in verdicts):
        return Status.INCONCLUSIVE
    return Status.PASS


def _sla(baseline: RunResult, candidate: RunResult) -> Criterion:
    """The scenario's own rules on each arm, judged by ``judge()`` as ``loadkit run`` does.

    A candidate that breaks a rule the baseline holds rolls back; when both break it,
    the load or the rule is at issue as much as the candidate, so the stage holds; a
    rule that could not decide (too few requests) holds.
    """
    status = verdicts_status(candidate.verdicts)
    if not candidate.verdicts:
        return Criterion("sla", None, None, None, "pass", "no per-request rule judges an arm")
    broken = [v for v in candidate.verdicts if not v.passed]
    if status == Status.PASS:
        return Criterion("sla", float(len(candidate.verdicts)), None, None, "pass",
                         f"candidate holds {', '.join(v.expr for v in candidate.verdicts)}")
    text = "candidate " + ("breaks " if status == Status.FAIL else "cannot decide ") + "; ".join(
        f"{v.expr} ({_observed(v)})" for v in broken)
    if status == Status.FAIL and verdicts_status(baseline.verdicts) == Status.FAIL:
        status = Status.INCONCLUSIVE
        held = [v.expr for v in baseline.verdicts if not v.passed and not v.inconclusive]
        text += f"; the baseline breaks {', '.join(held)} too"
    return Criterion("sla", float(len(broken)), None, None, criterion_of_status(status), text)


_AS_STATUS = {"rollback": Status.FAIL, "hold": Status.INCONCLUSIVE, "pass": Status.PASS}
_RANK = (Status.PASS, Status.INCONCLUSIVE, Status.FAIL)       # worse to the right


def decide_stage(index: int, spec: CanaryStage, baseline: StageResult, candidate: StageResult,
                 agreement: AgreementSample, config: CanaryConfig = CanaryConfig(), *,
                 baseline_windows: Sequence[Interval] = (),
                 candidate_windows: Sequence[Interval] = (),
                 baseline_load: str = "", candidate_load: str = "",
                 generator_issues: Sequence[str] = (),
                 baseline_arm: RunResult | None = None,
                 candidate_arm: RunResult | None = None) -> StageOutcome:
    """Judge one stage: any rollback criterion rolls back; all passing promotes; else hold.

    ``generator_issues`` (the load generator fell behind) can only hold a stage: its
    latencies include the generator's own lag, so they cannot justify a promotion.
    ``baseline_arm``/``candidate_arm``: each side's measurement as a judged RunResult
    (``loadkit.canary`` calls ``judge()``); they add the ``sla`` criterion. The stage's
    decision is its worst criterion's Status, mapped back (``decision_of_status``).
    """
    criteria: tuple[Criterion, ...] = (
        _requests(baseline, candidate, spec.min_requests), _latency(baseline, candidate, config),
        _errors(baseline, candidate, config), _agreement(agreement, config))
    if baseline_arm is not None and candidate_arm is not None:
        criteria += (_sla(baseline_arm, candidate_arm),)
    if generator_issues:
        criteria += (Criterion("generator", None, None, None, "hold",
                               "the load generator fell behind: " + "; ".join(generator_issues)),)
    worst = max((_AS_STATUS[c.status] for c in criteria), key=_RANK.index)
    decision = decision_of_status(worst)
    reasons = [c.detail for c in criteria if _AS_STATUS[c.status] == worst]
    reason = "; ".join(reasons) if worst != Status.PASS else "every criterion passed"
    return StageOutcome(
        index=index, share=spec.share, duration_s=spec.duration_s, decision=decision,
        reason=reason, criteria=criteria,
        baseline_requests=baseline.requests, candidate_requests=candidate.requests,
        baseline_rps=baseline.throughput_rps, candidate_rps=candidate.throughput_rps,
        baseline_p99_ms=baseline.latency_ms.p99, candidate_p99_ms=candidate.latency_ms.p99,
        baseline_error_rate=baseline.error_rate, candidate_error_rate=candidate.error_rate,
        agreement=agreement, baseline_load=baseline_load, candidate_load=candidate_load,
        baseline_window_p99_ms=tuple(iv.p99_ms for iv in baseline_windows),
        candidate_window_p99_ms=tuple(iv.p99_ms for iv in candidate_windows),
        baseline_status=baseline_arm.status if baseline_arm is not None else None,
        candidate_status=candidate_arm.status if candidate_arm is not None else None,
        verdicts=(baseline_arm.verdicts if baseline_arm is not None else ())
        + (candidate_arm.verdicts if candidate_arm is not None else ()))


def overall(outcomes: Sequence[StageOutcome], planned: int) -> tuple[Decision, str]:
    """The run's decision: rollback if any stage rolled back, promote only through the last."""
    if not outcomes:
        return "hold", "no stage ran"
    last = outcomes[-1]
    if last.decision == "rollback":
        return "rollback", f"stage {last.index + 1} ({last.share:.0%}): {last.reason}"
    if last.decision == "hold":
        return "hold", f"stage {last.index + 1} ({last.share:.0%}): {last.reason}"
    if len(outcomes) < planned:
        return "hold", f"stopped after stage {last.index + 1} of {planned}"
    return "promote", f"promoted through {last.share:.0%}"


def exit_code_of(decision: Decision) -> int:
    return status_of_decision(decision).exit_code
