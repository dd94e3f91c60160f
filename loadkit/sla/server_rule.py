"""SLA rules on the target's own metrics: ``server:SERIES.STAT OP NUMBER``.

Pure; the grammar hands a rule that starts with ``server:`` here, and the metric
table reads its value from a stage's or a profile summary's ``server_metrics``.

* ``SERIES`` is the series as Prometheus writes it: ``name`` or
  ``name{label="value",...}`` (labels in any order; they are sorted, as result.json
  keys are). Names may hold colons (``vllm:num_requests_waiting``); label values
  are quoted, so a dot, space or ``<`` inside them is not ambiguous.
* ``STAT`` is one of the figures the series' kind has: a gauge's ``mean min max
  last``; a counter's ``increase`` and ``rate`` (per second); a histogram's
  ``count rate mean p50 p90 p99`` (in the metric's own unit, e.g. seconds).
* ``NUMBER`` is plain, in the metric's own unit (no unit suffix: a DCGM
  utilisation gauge is 0-100, a vLLM KV-cache usage 0-1; the rule says what the
  server says).

Examples: ``server:vllm:num_requests_waiting.max < 10``,
``server:DCGM_FI_DEV_GPU_UTIL{gpu="0"}.mean < 90``,
``server:http_requests_total{code="500"}.rate <= 0.5``,
``server:app_service_seconds.p99 < 0.25``.

As for every rule, no data fails: a series the server never exposed (or a
statistic its kind lacks) is "no data". Scrape failures are shown, never a
failure by themselves.
"""

from __future__ import annotations

import re

from loadkit.errors import SlaSyntaxError
from loadkit.results.model import StageResult, Summary
from loadkit.results.server import ServerSeries, series_key

PREFIX = "server:"
STATS = ("mean", "min", "max", "last", "increase", "rate", "count", "p50", "p90", "p99")
_ALIASES = {"rate_per_s": "rate", "avg": "mean"}
_NAME = r"[A-Za-z_:][A-Za-z0-9_:]*"
_LABEL = r'\s*[A-Za-z_][A-Za-z0-9_]*\s*=\s*"(?:[^"\\]|\\.)*"\s*'
_RULE_RE = re.compile(
    rf"^\s*server:(?P<name>{_NAME})(?P<labels>\{{(?:{_LABEL}(?:,{_LABEL})*,?)?\}})?"
    r"\.(?P<stat>[A-Za-z0-9_]+)\s*(?P<op><=|>=|<|>|==|=|!=)?\s*(?P<value>.*?)\s*$")
_PAIR_RE = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*')
_UNESCAPE = re.compile(r"\\(.)")
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def is_server_metric(metric: str) -> bool:
    return metric.startswith(PREFIX)


def parse_server_rule(expr: str) -> tuple[str, str, float]:
    """``(metric, op, threshold)`` of a ``server:`` rule; the metric is canonical
    (``server:name{a="x"}.max``). One-line SlaSyntaxError naming the problem."""
    m = _RULE_RE.match(expr)
    if not m:
        raise SlaSyntaxError(
            f"{expr!r}: expected server:SERIES.STAT OP NUMBER, e.g. "
            "'server:vllm:num_requests_waiting.max < 10' (labels as name{a=\"x\"})")
    stat = m.group("stat").lower()
    stat = _ALIASES.get(stat, stat)
    if stat not in STATS:
        raise SlaSyntaxError(f"{expr!r}: unknown statistic {m.group('stat')!r} of a server "
                             f"series (use one of {', '.join(STATS)})")
    op, value = m.group("op"), m.group("value")
    if op is None:
        raise SlaSyntaxError(f"{expr!r}: missing operator after the statistic "
                             "(use <, <=, > or >=)")
    if op not in ("<", "<=", ">", ">="):
        raise SlaSyntaxError(f"{expr!r}: operator {op!r} is not supported (use <, <=, > or >=)")
    if not value:
        raise SlaSyntaxError(f"{expr!r}: missing value after {op!r}")
    if not _NUMBER_RE.match(value):
        raise SlaSyntaxError(f"{expr!r}: value {value!r} is not a plain number (a server "
                             "rule is in the metric's own unit, e.g. 10 or 0.25)")
    braces = m.group("labels")
    pairs = _PAIR_RE.findall(braces[1:-1]) if braces else []
    labels = {k: _UNESCAPE.sub(r"\1", v) for k, v in pairs}
    return f"{PREFIX}{series_key(m.group('name'), labels)}.{stat}", op, float(value)


def split_metric(metric: str) -> tuple[str, str]:
    """``server:KEY.STAT`` -> (KEY, STAT)."""
    key, _, stat = metric[len(PREFIX):].rpartition(".")
    return key, stat


def series_of(metric: str, data: StageResult | Summary) -> ServerSeries | None:
    return data.server_metrics.get(split_metric(metric)[0])


def read_server(metric: str, data: StageResult | Summary) -> float | None:
    """The rule's value on a stage or summary; None (no data) when the series is absent
    or its kind has no such figure (a gauge's rate)."""
    series = series_of(metric, data)
    if series is None:
        return None
    return series.stat(split_metric(metric)[1])


def scrapes_of(metric: str, data: StageResult | Summary) -> int:
    """How many scrapes the value stands on (0: no data)."""
    series = series_of(metric, data)
    return series.scrapes if series is not None and read_server(metric, data) is not None else 0

