"""One run's gate figures in the formats of github-action-benchmark and Bencher.

Beside the store (result -> figures -> another tool's JSON), for teams that
already keep their benchmark history in those tools. github-action-benchmark
takes one direction per file (``customSmallerIsBetter`` or
``customBiggerIsBetter``), so the export holds either the metrics where smaller
is better (latencies, error rate) or, with ``bigger``, those where bigger is
better (throughput, goodput, tokens per second). Bencher's Metric Format holds
both: one benchmark per profile, one measure per metric.
"""

from __future__ import annotations

import json
import math
from typing import Any

from loadkit.history.figures import profile_figures
from loadkit.results.history import GATE_METRICS
from loadkit.results.model import RunResult

FORMATS = ("github-action-benchmark", "bencher")


def _unit(metric: str) -> str:
    return "%" if metric == "error_rate" else GATE_METRICS[metric].unit


def _value(metric: str, value: float) -> float:
    return round(value * 100, 6) if metric == "error_rate" else value


def _gate_figures(result: RunResult) -> list[tuple[str, str, float]]:
    out = []
    for p in result.profiles:
        figures = profile_figures(p)
        out += [(p.name, m, figures[m]) for m in GATE_METRICS
                if m in figures and math.isfinite(figures[m])]
    return out


def github_action_benchmark(result: RunResult, *, bigger: bool = False,
                            commit: str | None = None) -> list[dict[str, Any]]:
    """Entries for github-action-benchmark's ``customSmallerIsBetter`` (default) or
    ``customBiggerIsBetter`` (``bigger``) tool."""
    extra = f"loadkit {result.scenario.name}" + (f" @ {commit}" if commit else "")
    return [{"name": f"{result.scenario.name}/{profile} {metric}", "unit": _unit(metric),
             "value": _value(metric, value), "extra": extra}
            for profile, metric, value in _gate_figures(result)
            if GATE_METRICS[metric].higher_is_worse != bigger]


def bencher(result: RunResult) -> dict[str, dict[str, dict[str, float]]]:
    """Bencher Metric Format: ``{benchmark: {measure: {"value": x}}}``, one benchmark per
    profile, measures named after the metric (``error-rate`` in percent)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for profile, metric, value in _gate_figures(result):
        bench = out.setdefault(f"{result.scenario.name}/{profile}", {})
        bench[metric.replace("_", "-")] = {"value": _value(metric, value)}
    return out


def export(result: RunResult, fmt: str, *, bigger: bool = False, commit: str | None = None) -> str:
    data: Any = (github_action_benchmark(result, bigger=bigger, commit=commit)
                 if fmt == "github-action-benchmark" else bencher(result))
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
