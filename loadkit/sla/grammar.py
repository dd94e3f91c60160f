"""SLA grammar: ``"p99 < 200ms"`` -> a typed ``Rule``. Pure; the scenario loader and
``--sla`` call it before anything is sent, so a bad rule is exit 2, never a traceback.

``METRIC OP VALUE[UNIT]`` with whitespace optional (``p50<1us``):

* latency metrics ``p50 p90 p95 p99 p999 max mean`` (``p99.9`` is accepted for
  ``p999``); units ``us ms s``, required (a bare ``200`` is refused: ms or s?);
  stored in ms.
* ``error_rate``: ``1%`` or a fraction below 1 (``0.01``); a bare number of 1 or
  more (``error_rate < 1``, ``< 5``) is refused: it reads as 100% or 500%, a gate
  that can never fail, when the writer almost surely meant percent. Stored as a
  fraction (0..1).
* ``throughput``: ``100rps`` (``/s`` and ``rpm`` too); stored in requests/s.
* ``rows_per_s``: a bare number (``rows/s`` or ``/s`` accepted); stored in rows/s.
* streaming endpoints: ``ttft_P``, ``itl_P``, ``tpot_P`` for each latency metric P
  above (``ttft_p99 < 500ms``, ``tpot_mean < 30ms``), in ms; ``output_tokens_per_s``
  (a bare number, ``tok/s`` accepted); ``goodput`` (requests/s that met every
  ``slo`` bound, ``rps``); ``slo_attainment`` (``%`` or a fraction).
* ops ``< <= > >=``.

Every rule carries a canonical ``expr`` (``"p99 < 200ms"``) that parses back to
the same rule, so reports and verdicts show one spelling whatever the user typed.
A rule scoped to one stage of a profile is written ``p99 < 200ms @ stage 2``
(``Rule.text``): result.json keeps a profile's rules that way, so ``loadkit merge``
judges the merged result by the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from loadkit.errors import SlaSyntaxError
from loadkit.units import parse_fraction, parse_latency_us, parse_rate

LATENCY_METRICS = ("p50", "p90", "p95", "p99", "p999", "max", "mean")
STREAM_TIMINGS = ("ttft", "itl", "tpot")
STREAM_LATENCY_METRICS = tuple(f"{t}_{p}" for t in STREAM_TIMINGS for p in LATENCY_METRICS)
STREAM_METRICS = STREAM_LATENCY_METRICS + ("output_tokens_per_s", "goodput", "slo_attainment")
METRICS = LATENCY_METRICS + ("error_rate", "throughput", "rows_per_s") + STREAM_METRICS
OPS = ("<", "<=", ">", ">=")
UNITS = {**{m: "ms" for m in LATENCY_METRICS + STREAM_LATENCY_METRICS},
         "error_rate": "fraction", "throughput": "rps", "rows_per_s": "rows/s",
         "output_tokens_per_s": "tokens/s", "goodput": "rps", "slo_attainment": "fraction"}

SERVER_PREFIX = "server:"      # a rule on the target's own metrics (sla/server_rule.py)
_ALIASES = {"p99.9": "p999", "p50.0": "p50", "avg": "mean", "rps": "throughput",
            **{f"{t}_p99.9": f"{t}_p999" for t in STREAM_TIMINGS},
            **{f"{t}_avg": f"{t}_mean" for t in STREAM_TIMINGS},
            "tokens_per_s": "output_tokens_per_s", "goodput_rps": "goodput"}
_EXPR_RE = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op><=|>=|==|!=|=<|=>|=|<|>)?\s*(?P<value>.*?)\s*$"
)
_STAGE_RE = re.compile(r"^(?P<expr>.*?)\s*@\s*stage\s*(?P<stage>\S*)\s*$", re.IGNORECASE)
_ROWS_RE = re.compile(r"^\s*(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*"
                      r"(?:rows/s|rows_per_s|/s|rps)?\s*$")
_TOKENS_RE = re.compile(r"^\s*(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*"
                        r"(?:tokens/s|tok/s|/s)?\s*$")


@dataclass(frozen=True)
class Rule:
    """One parsed SLA rule. ``threshold`` is in ``unit`` (ms, fraction, rps, rows/s).

    ``abort``: checked every second during the run (after ``grace_s``) and a breach
    ends the run early. ``stage``: scope the rule to one stage index of a profile
    (None: the profile's measured stages taken together).
    """

    expr: str
    metric: str
    op: str
    threshold: float
    unit: str
    abort: bool = False
    grace_s: float = 0.0
    stage: int | None = None

    @property
    def text(self) -> str:
        """``expr``, plus `` @ stage N`` for a rule scoped to a stage; parses back to the rule."""
        return self.expr if self.stage is None else f"{self.expr} @ stage {self.stage}"

    def holds(self, observed: float) -> bool:
        """Whether an observed value (in ``unit``) satisfies the rule."""
        return compare(observed, self.op, self.threshold)

    @property
    def upper_bound(self) -> bool:
        """True for ``<``/``<=`` rules (a value going up breaks them)."""
        return self.op in ("<", "<=")


def compare(observed: float, op: str, threshold: float) -> bool:
    if op == "<":
        return observed < threshold
    if op == "<=":
        return observed <= threshold
    if op == ">":
        return observed > threshold
    if op == ">=":
        return observed >= threshold
    raise ValueError(f"unknown operator {op!r}")


def _num(x: float) -> str:
    """Shortest stable decimal (12 significant digits, no trailing zeros)."""
    text = f"{x:.12g}"
    return "0" if text == "-0" else text


def _latency_text(ms: float) -> str:
    # Decide the display unit on the rounded value so the choice survives a re-parse.
    rounded = float(_num(ms))
    if rounded >= 1000:
        return f"{_num(rounded / 1000)}s"
    if 0 < rounded < 1:
        return f"{_num(rounded * 1000)}us"
    return f"{_num(rounded)}ms"


def canonical(metric: str, op: str, threshold: float) -> str:
    """The one spelling of a rule: ``p99 < 200ms``, ``error_rate < 1%``, ``throughput >= 100rps``."""
    if metric in LATENCY_METRICS or metric in STREAM_LATENCY_METRICS:
        value = _latency_text(threshold)
    elif metric in ("error_rate", "slo_attainment"):
        value = f"{_num(threshold * 100)}%"
    elif metric in ("throughput", "goodput"):
        value = f"{_num(threshold)}rps"
    else:
        value = _num(threshold)
    return f"{metric} {op} {value}"


_BARE_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def _parse_latency_ms(value: str) -> float:
    if _BARE_NUMBER.match(value.strip()):
        raise ValueError(f"value {value!r} has no unit (write e.g. {value.strip()}ms or "
                         f"{value.strip()}s)")
    try:
        return parse_latency_us(value) / 1000.0
    except ValueError:
        raise ValueError(f"value {value!r} is not a latency (use e.g. 200ms)") from None


def _fraction(value: str, what: str, percent: str, fraction: str) -> float:
    try:
        frac = parse_fraction(value)
    except ValueError:
        raise ValueError(f"value {value!r} is not {what} (use e.g. {percent} or {fraction})"
                         ) from None
    bare = bool(_BARE_NUMBER.match(value.strip()))
    if frac >= 1 and bare:
        # "error_rate < 1" or "< 5" reads as 100% / 500%: a gate that can never fail
        raise ValueError(f"value {value!r} is ambiguous: a bare number is a fraction below "
                         f"1; write {value.strip()}% for percent, or a fraction such as "
                         f"{fraction}")
    if frac > 1:
        raise ValueError(f"value {value!r} is above 100% (use e.g. {percent} or {fraction})")
    return frac


def _parse_error_rate(value: str) -> float:
    return _fraction(value, "an error rate", "1%", "0.01")


def _parse_throughput(value: str) -> float:
    try:
        return parse_rate(value)
    except ValueError:
        raise ValueError(f"value {value!r} is not a throughput (use e.g. 100rps)") from None


def _parse_tokens(value: str) -> float:
    m = _TOKENS_RE.match(value)
    if not m:
        raise ValueError(f"value {value!r} is not a tokens/s figure (use e.g. 2000)")
    return float(m.group("num"))


def _parse_attainment(value: str) -> float:
    return _fraction(value, "a fraction", "99%", "0.99")


def _parse_rows(value: str) -> float:
    m = _ROWS_RE.match(value)
    if not m:
        raise ValueError(f"value {value!r} is not a rows/s figure (use e.g. 500)")
    return float(m.group("num"))


_VALUE_PARSERS: dict[str, Callable[[str], float]] = {
    **{m: _parse_latency_ms for m in LATENCY_METRICS},
    "error_rate": _parse_error_rate,
    "throughput": _parse_throughput,
    "rows_per_s": _parse_rows,
    **{m: _parse_latency_ms for m in STREAM_LATENCY_METRICS},
    "output_tokens_per_s": _parse_tokens,
    "goodput": _parse_throughput,
    "slo_attainment": _parse_attainment,
}


def _stage_of(expr: str, written: str, given: int | None) -> int:
    """The N of ``... @ stage N``; it must agree with a stage given beside the rule."""
    if not written.isdigit():
        what = f"{written!r} is not a stage index" if written else "a stage index is missing"
        raise SlaSyntaxError(f"{expr!r}: {what} after '@ stage' (use e.g. '@ stage 2')")
    if given is not None and int(written) != given:
        raise SlaSyntaxError(f"{expr!r}: names stage {int(written)} but stage {given} is given")
    return int(written)


def parse_rule(expr: str, *, abort: bool = False, grace_s: float = 0.0,
               stage: int | None = None) -> Rule:
    """Parse ``METRIC OP VALUE[UNIT]``; raise ``SlaSyntaxError`` with one line naming the problem."""
    if not isinstance(expr, str):
        raise SlaSyntaxError(f"{expr!r}: an SLA rule must be a string like 'p99 < 200ms'")
    if not expr.strip():
        raise SlaSyntaxError("empty SLA rule (use e.g. 'p99 < 200ms')")
    scoped = _STAGE_RE.match(expr)
    if scoped:
        stage = _stage_of(expr, scoped.group("stage"), stage)
        expr = scoped.group("expr")
    if expr.lstrip().lower().startswith(SERVER_PREFIX):
        return _server_rule(expr, abort, grace_s, stage)
    m = _EXPR_RE.match(expr)
    if not m:
        raise SlaSyntaxError(
            f"{expr!r}: expected METRIC OP VALUE, e.g. 'p99 < 200ms' or 'error_rate < 1%'")
    raw_metric, op, value = m.group("metric"), m.group("op"), m.group("value")
    metric = raw_metric.lower()
    metric = _ALIASES.get(metric, metric)
    if metric not in METRICS:
        listed = ", ".join(METRICS[:METRICS.index("rows_per_s") + 1])
        raise SlaSyntaxError(
            f"{expr!r}: unknown metric {raw_metric!r} (use one of {listed}; streaming: "
            "ttft_P, itl_P, tpot_P, output_tokens_per_s, goodput, slo_attainment)")
    if op is None:
        raise SlaSyntaxError(f"{expr!r}: missing operator after {raw_metric!r} (use <, <=, > or >=)")
    if op not in OPS:
        raise SlaSyntaxError(f"{expr!r}: operator {op!r} is not supported (use <, <=, > or >=)")
    if not value:
        raise SlaSyntaxError(f"{expr!r}: missing value after {op!r}")
    try:
        threshold = _VALUE_PARSERS[metric](value)
    except ValueError as exc:
        raise SlaSyntaxError(f"{expr!r}: {exc}") from None
    if threshold < 0:
        raise SlaSyntaxError(f"{expr!r}: value {value!r} must not be negative")
    if grace_s < 0:
        raise SlaSyntaxError(f"{expr!r}: grace must not be negative")
    if stage is not None and stage < 0:
        raise SlaSyntaxError(f"{expr!r}: stage must not be negative")
    return Rule(expr=canonical(metric, op, threshold), metric=metric, op=op,
                threshold=threshold, unit=UNITS[metric], abort=abort,
                grace_s=float(grace_s), stage=stage)


def _server_rule(expr: str, abort: bool, grace_s: float, stage: int | None) -> Rule:
    """``server:SERIES.STAT OP NUMBER`` (``server_rule.py``): the target's own metric."""
    from loadkit.sla.server_rule import parse_server_rule  # it reads results; grammar need not

    metric, op, threshold = parse_server_rule(expr.strip())
    if grace_s < 0:
        raise SlaSyntaxError(f"{expr!r}: grace must not be negative")
    if stage is not None and stage < 0:
        raise SlaSyntaxError(f"{expr!r}: stage must not be negative")
    return Rule(expr=f"{metric} {op} {_num(threshold)}", metric=metric, op=op,
                threshold=threshold, unit="", abort=abort, grace_s=float(grace_s), stage=stage)
