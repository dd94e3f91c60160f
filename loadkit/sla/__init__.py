"""SLA rules: the grammar (``"p99 < 200ms"`` -> Rule) and, from a RunResult, verdicts.

Pure and synchronous; sits between ``scenario`` (which parses rules) and ``results``.
See ``loadkit.sla.evaluate`` for the judging policy (warm-up, no data, ramp/stress).
"""

from loadkit.sla.evaluate import (
    evaluate,
    evaluate_profile,
    inconclusive_reasons,
    observe,
    observe_interval,
    operating_point,
    status_of,
)
from loadkit.sla.grammar import LATENCY_METRICS, METRICS, OPS, Rule, canonical, parse_rule

__all__ = [
    "LATENCY_METRICS",
    "METRICS",
    "OPS",
    "Rule",
    "canonical",
    "evaluate",
    "evaluate_profile",
    "inconclusive_reasons",
    "observe",
    "observe_interval",
    "operating_point",
    "parse_rule",
    "status_of",
]
