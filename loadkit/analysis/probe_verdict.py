"""One capacity-search probe against the SLA: held, broke, or within noise. Pure.

Where it sits: the search runner calls ``judge_probe`` after every probe to decide
the next one, and the search analysis calls it again over the stored probes (so a
re-judged result gives the same outcomes). A probe repeated at the same load is
judged on its runs pooled: one histogram, every per-second window.

Every rule load can break is read generically -- the requests' latency (``p99``), a
stream's TTFT / ITL / TPOT (``ttft_p99``, from its own histogram and per-second
figures), an error rate, an SLO attainment -- so a search on a streaming endpoint
needs nothing special. A rule's value comes with a 95% interval, the wider of two:

* from the histogram: for a percentile ``q`` over ``n`` requests, the ranks
  ``q +- 1.96 sqrt(q (1 - q) / n)`` read back from the histogram (the order
  statistic interval; ``mean +- 1.96 sd / sqrt(n)`` for a mean; Wilson's for an
  error rate with errors in it (and for the misses of an SLO attainment) -- with none, nothing points at the threshold and the
  interval's upper end would only say how few requests there were, which a probe's
  length decides, not the target). It assumes independent requests;
* from the per-second windows: ``value +- t sd(windows) / sqrt(k)`` over the ``k``
  one-second values of the metric (three or more full seconds: a second with under
  half the median second's requests, at a probe's edge, is left out; never below
  0), which sees what the histogram
  cannot -- seconds that differ (a pause, a backlog building).

The rule *held* when the whole interval satisfies it, *broke* when none of it does
(or there is no data: no data fails, as everywhere), and is *undecided* when the
interval straddles the threshold. A probe broke when any rule broke, is undecided
when none broke but one is undecided, and held otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from loadkit.analysis.search_plan import Outcome
from loadkit.results.aggregate import merged_histogram, summarize
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import Interval, StageResult, Summary
from loadkit.results.search import RuleCheck
from loadkit.sla.evaluate import LOAD_BROKEN_METRICS, observe, observe_interval
from loadkit.sla.grammar import LATENCY_METRICS, STREAM_LATENCY_METRICS, Rule

Z = 1.959963984540054            # two-sided 95%
MIN_WINDOWS = 3
_PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}


def search_rules(rules: Sequence[Rule]) -> list[Rule]:
    """The rules a probe is judged on: those load can break (latency, error rate), unscoped."""
    return [r for r in rules if r.metric in LOAD_BROKEN_METRICS and r.stage is None
            and not r.abort]


def metric_histogram(rule: Rule, data: Summary, latency: LatencyHistogram
                     ) -> tuple[LatencyHistogram, str] | None:
    """The histogram a latency-like rule reads, and the statistic (``p99``, ``mean``):
    the requests' latency for ``p99``, a stream's own for ``ttft_p99``, ``itl_p95`` ..."""
    if rule.metric in LATENCY_METRICS:
        return latency, rule.metric
    if rule.metric in STREAM_LATENCY_METRICS and data.streamed:
        timing, _, stat = rule.metric.partition("_")
        return data.stream_hist(timing), stat
    return None


def _histogram_interval(rule: Rule, data: Summary, latency: LatencyHistogram
                        ) -> tuple[float, float] | None:
    if rule.metric == "error_rate" and data.errors > 0:
        return _wilson(data.errors, data.requests)
    if rule.metric == "slo_attainment" and data.good_requests is not None and data.requests:
        bad = data.requests - data.good_requests
        if bad > 0:
            low, high = _wilson(bad, data.requests)      # of the misses; attainment is 1 - it
            return 1 - high, 1 - low
        return None
    found = metric_histogram(rule, data, latency)
    if found is None:
        return None
    hist, stat = found
    n = hist.count
    if n <= 0:
        return None
    pct = _PERCENTILES.get(stat)
    if pct is not None:
        q = pct / 100.0
        half = Z * math.sqrt(q * (1 - q) / n)
        return (hist.percentile_us(max(0.0, q - half) * 100) / 1000.0,
                hist.percentile_us(min(1.0, q + half) * 100) / 1000.0)
    if stat == "mean":
        half = Z * hist.stdev_us / math.sqrt(n) / 1000.0
        return max(0.0, hist.mean_us / 1000.0 - half), hist.mean_us / 1000.0 + half
    return None


def _wilson(errors: int, n: int) -> tuple[float, float]:
    p = errors / n
    denom = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denom
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def window_value(rule: Rule, iv: Interval) -> float | None:
    """The rule's metric over one second: what abort rules read, plus a stream's
    per-second TTFT / ITL percentiles (``ttft_p99`` reads ``ttft_p99_ms``)."""
    seen = observe_interval(rule, iv)
    if seen is None and rule.metric in STREAM_LATENCY_METRICS:
        value = getattr(iv, f"{rule.metric}_ms", None)
        seen = float(value) if value is not None else None
    return seen


def _window_interval(rule: Rule, observed: float, windows: Sequence[Interval]
                     ) -> tuple[float, float] | None:
    # A second at either end of a probe is partly someone else's (or cut short): its
    # few requests would make the spread look wider than the target's is.
    counts = sorted(iv.requests for iv in windows)
    if not counts:
        return None
    full = [iv for iv in windows if iv.requests >= 0.5 * counts[len(counts) // 2]]
    values = [v for v in (window_value(rule, iv) for iv in full) if v is not None]
    k = len(values)
    if k < MIN_WINDOWS:
        return None
    mean = sum(values) / k
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (k - 1))
    from scipy import stats  # only for probes of 3 s or more: keeps short searches' imports light

    half = float(stats.t.ppf(0.975, k - 1)) * sd / math.sqrt(k)
    return max(0.0, observed - half), observed + half


def check_rule(rule: Rule, data: Summary, hist: LatencyHistogram,
               windows: Sequence[Interval]) -> RuleCheck:
    """``rule`` on a probe's pooled runs (``data``, ``hist``) and their one-second windows."""
    observed = observe(rule, data)
    base = RuleCheck(expr=rule.expr, metric=rule.metric, threshold=rule.threshold,
                     observed=observed, low=None, high=None, state="no_data")
    if observed is None:
        return base
    low = high = observed
    for found in (_histogram_interval(rule, data, hist), _window_interval(rule, observed, windows)):
        if found is not None:
            low, high = min(low, found[0]), max(high, found[1])
    if rule.holds(low) and rule.holds(high):
        state = "held"
    elif not rule.holds(low) and not rule.holds(high):
        state = "broke"
    else:
        state = "undecided"
    return RuleCheck(expr=rule.expr, metric=rule.metric, threshold=rule.threshold,
                     observed=observed, low=round(low, 6), high=round(high, 6), state=state)


def judge_probe(rules: Sequence[Rule], runs: Sequence[StageResult],
                windows: Sequence[Interval]) -> tuple[Outcome, tuple[RuleCheck, ...]]:
    """The outcome of a probe's runs at one load, pooled, and each rule's check."""
    data = summarize([r for r in runs])
    hist = merged_histogram(runs)
    checks = tuple(check_rule(rule, data, hist, windows) for rule in search_rules(rules))
    states = {c.state for c in checks}
    if "broke" in states or "no_data" in states:
        return "broke", checks
    if "undecided" in states:
        return "undecided", checks
    return "held", checks
