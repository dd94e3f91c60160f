"""SLA rules: the grammar (``"p99 < 200ms"`` -> Rule) and, from a RunResult, verdicts.

Pure and synchronous; sits between ``scenario`` (which parses rules) and ``results``.
"""

from loadkit.sla.grammar import LATENCY_METRICS, METRICS, OPS, Rule, canonical, parse_rule

__all__ = ["LATENCY_METRICS", "METRICS", "OPS", "Rule", "canonical", "parse_rule"]
