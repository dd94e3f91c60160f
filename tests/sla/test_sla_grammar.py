"""The SLA grammar: every metric/op parses, bad rules are rejected in one clear line."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadkit.errors import SlaSyntaxError, UsageError
from loadkit.sla import METRICS, OPS, Rule, parse_rule

GOOD = [
    ("p50<1us", "p50", "<", 0.001, "ms", "p50 < 1us"),
    ("p90 <= 50ms", "p90", "<=", 50.0, "ms", "p90 <= 50ms"),
    ("p95 < 0.12s", "p95", "<", 120.0, "ms", "p95 < 120ms"),
    ("p99 < 200ms", "p99", "<", 200.0, "ms", "p99 < 200ms"),
    ("p99<2s", "p99", "<", 2000.0, "ms", "p99 < 2s"),
    ("p999 < 1500ms", "p999", "<", 1500.0, "ms", "p999 < 1.5s"),
    ("p99.9 < 900us", "p999", "<", 0.9, "ms", "p999 < 900us"),
    ("max < 3s", "max", "<", 3000.0, "ms", "max < 3s"),
    ("mean < 12.5ms", "mean", "<", 12.5, "ms", "mean < 12.5ms"),
    ("P99 < 200 ms", "p99", "<", 200.0, "ms", "p99 < 200ms"),
    ("error_rate < 1%", "error_rate", "<", 0.01, "fraction", "error_rate < 1%"),
    ("error_rate<=0.005", "error_rate", "<=", 0.005, "fraction", "error_rate <= 0.5%"),
    ("error_rate < 0%", "error_rate", "<", 0.0, "fraction", "error_rate < 0%"),
    ("throughput >= 100rps", "throughput", ">=", 100.0, "rps", "throughput >= 100rps"),
    ("throughput > 600rpm", "throughput", ">", 10.0, "rps", "throughput > 10rps"),
    ("throughput>50/s", "throughput", ">", 50.0, "rps", "throughput > 50rps"),
    ("rows_per_s >= 500", "rows_per_s", ">=", 500.0, "rows/s", "rows_per_s >= 500"),
    ("rows_per_s > 800rows/s", "rows_per_s", ">", 800.0, "rows/s", "rows_per_s > 800"),
    ("ttft_p99 < 0.5s", "ttft_p99", "<", 500.0, "ms", "ttft_p99 < 500ms"),
    ("itl_p99.9 < 80ms", "itl_p999", "<", 80.0, "ms", "itl_p999 < 80ms"),
    ("tpot_avg <= 30ms", "tpot_mean", "<=", 30.0, "ms", "tpot_mean <= 30ms"),
    ("output_tokens_per_s >= 2000", "output_tokens_per_s", ">=", 2000.0, "tokens/s",
     "output_tokens_per_s >= 2000"),
    ("tokens_per_s > 1.5e3 tok/s", "output_tokens_per_s", ">", 1500.0, "tokens/s",
     "output_tokens_per_s > 1500"),
    ("output_tokens_per_s>=900tokens/s", "output_tokens_per_s", ">=", 900.0, "tokens/s",
     "output_tokens_per_s >= 900"),
    ("output_tokens_per_s > 50/s", "output_tokens_per_s", ">", 50.0, "tokens/s",
     "output_tokens_per_s > 50"),
    ("goodput_rps >= 5rps", "goodput", ">=", 5.0, "rps", "goodput >= 5rps"),
    ("slo_attainment >= 99%", "slo_attainment", ">=", 0.99, "fraction", "slo_attainment >= 99%"),
    ("slo_attainment > 0.9", "slo_attainment", ">", 0.9, "fraction", "slo_attainment > 90%"),
]


@pytest.mark.parametrize("expr,metric,op,threshold,unit,canonical", GOOD,
                         ids=[g[0] for g in GOOD])
def test_every_metric_and_op_parses_to_its_canonical_rule(expr, metric, op, threshold, unit,
                                                          canonical):
    rule = parse_rule(expr)
    assert (rule.metric, rule.op, rule.unit, rule.expr) == (metric, op, unit, canonical)
    assert math.isclose(rule.threshold, threshold, rel_tol=1e-12, abs_tol=1e-15)


BAD = [  # (id, rule, the whole message a user reads)
    ('not-a-latency', 'p99 < fast',
     "'p99 < fast': value 'fast' is not a latency (use e.g. 200ms)"),
    ('unknown-metric', 'p98 < 10ms',
     "'p98 < 10ms': unknown metric 'p98' (use one of p50, p90, p95, p99, p999, max, mean, "
     'error_rate, throughput, rows_per_s; streaming: ttft_P, itl_P, tpot_P, '
     'output_tokens_per_s, goodput, slo_attainment)'),
    ('equals-op', 'p99 == 10ms',
     "'p99 == 10ms': operator '==' is not supported (use <, <=, > or >=)"),
    ('single-equals', 'p99 = 10ms',
     "'p99 = 10ms': operator '=' is not supported (use <, <=, > or >=)"),
    ('missing-op', 'p99 200ms',
     "'p99 200ms': missing operator after 'p99' (use <, <=, > or >=)"),
    ('missing-value', 'p99 <',
     "'p99 <': missing value after '<'"),
    ('empty', '   ',
     "empty SLA rule (use e.g. 'p99 < 200ms')"),
    ('latency-unit-on-error-rate', 'error_rate < 200ms',
     "'error_rate < 200ms': value '200ms' is not an error rate (use e.g. 1% or 0.01)"),
    ('error-rate-above-100', 'error_rate < 150%',
     "'error_rate < 150%': value '150%' is above 100% (use e.g. 1% or 0.01)"),
    ('rate-unit-on-latency', 'p99 < 100rps',
     "'p99 < 100rps': value '100rps' is not a latency (use e.g. 200ms)"),
    ('latency-unit-on-throughput', 'throughput > 3ms',
     "'throughput > 3ms': value '3ms' is not a throughput (use e.g. 100rps)"),
    ('negative', 'p99 < -1ms',
     "'p99 < -1ms': value '-1ms' must not be negative"),
    ('trailing-words', 'p99 < 200ms please',
     "'p99 < 200ms please': value '200ms please' is not a latency (use e.g. 200ms)"),
    ('no-metric', '< 200ms',
     "'< 200ms': expected METRIC OP VALUE, e.g. 'p99 < 200ms' or 'error_rate < 1%'"),
    ('nan', 'p99 < nan',
     "'p99 < nan': value 'nan' is not a latency (use e.g. 200ms)"),
    ('words-for-rows', 'rows_per_s > lots',
     "'rows_per_s > lots': value 'lots' is not a rows/s figure (use e.g. 500)"),
    ('bare-error-rate-one', 'error_rate < 1',
     "'error_rate < 1': value '1' is ambiguous: a bare number is a fraction below 1; "
     'write 1% for percent, or a fraction such as 0.01'),
    ('bare-error-rate-five', 'error_rate < 5',
     "'error_rate < 5': value '5' is ambiguous: a bare number is a fraction below 1; "
     'write 5% for percent, or a fraction such as 0.01'),
    ('bare-latency', 'p99 < 200',
     "'p99 < 200': value '200' has no unit (write e.g. 200ms or 200s)"),
    ('words-for-tokens', 'output_tokens_per_s > lots',
     "'output_tokens_per_s > lots': value 'lots' is not a tokens/s figure (use e.g. 2000)"),
    ('rows-unit-on-tokens', 'output_tokens_per_s > 5rows/s',
     "'output_tokens_per_s > 5rows/s': value '5rows/s' is not a tokens/s figure (use e.g. "
     '2000)'),
    ('bare-attainment-one', 'slo_attainment >= 1',
     "'slo_attainment >= 1': value '1' is ambiguous: a bare number is a fraction below 1; "
     'write 1% for percent, or a fraction such as 0.99'),
    ('attainment-words', 'slo_attainment > most',
     "'slo_attainment > most': value 'most' is not a fraction (use e.g. 99% or 0.99)"),
    ('attainment-above-100', 'slo_attainment > 101%',
     "'slo_attainment > 101%': value '101%' is above 100% (use e.g. 99% or 0.99)"),
    ('goodput-latency-unit', 'goodput > 3ms',
     "'goodput > 3ms': value '3ms' is not a throughput (use e.g. 100rps)"),
]


@pytest.mark.parametrize("expr,message", [(b[1], b[2]) for b in BAD], ids=[b[0] for b in BAD])
def test_bad_rule_is_rejected_with_one_clear_line(expr, message):
    with pytest.raises(SlaSyntaxError) as info:
        parse_rule(expr)
    text = str(info.value)
    assert text == message
    assert "\n" not in text
    assert info.value.exit_code == UsageError.exit_code == 2


def test_abort_grace_and_stage_are_carried_on_the_rule():
    rule = parse_rule("p99<1s", abort=True, grace_s=5, stage=2)
    assert rule == Rule("p99 < 1s", "p99", "<", 1000.0, "ms", abort=True, grace_s=5.0, stage=2)


def test_negative_grace_is_rejected():
    with pytest.raises(SlaSyntaxError, match="grace"):
        parse_rule("p99 < 1s", grace_s=-1)


@pytest.mark.parametrize("op,observed,expected", [
    ("<", 199.9, True), ("<", 200.0, False), ("<=", 200.0, True), ("<=", 200.1, False),
    (">", 200.1, True), (">", 200.0, False), (">=", 200.0, True), (">=", 199.9, False),
], ids=lambda v: str(v))
def test_holds_applies_the_operator_at_the_boundary(op, observed, expected):
    assert parse_rule(f"p99 {op} 200ms").holds(observed) is expected


_SPACE = st.sampled_from(["", " ", "  ", "\t"])
_NUMBER = st.one_of(
    st.integers(min_value=0, max_value=10**7).map(str),
    st.decimals(min_value=0, max_value=10**5, places=4, allow_nan=False,
                allow_infinity=False).map(str),
)
_UNITS = {
    **{m: ["us", "ms", "s"] for m in ("p50", "p90", "p95", "p99", "p999", "max", "mean")},
    "throughput": ["rps", "/s", "rpm", ""],
    "rows_per_s": ["", "rows/s", "/s"],
    **{f"{t}_{m}": ["us", "ms", "s"] for t in ("ttft", "itl", "tpot")
       for m in ("p50", "p90", "p95", "p99", "p999", "max", "mean")},
    "output_tokens_per_s": ["", "tok/s", "tokens/s", "/s"],
    "goodput": ["rps", "/s", "rpm", ""],
}


@st.composite
def _valid_expr(draw):
    metric = draw(st.sampled_from(METRICS))
    if metric in ("error_rate", "slo_attainment"):
        value = draw(st.one_of(
            st.decimals(min_value=0, max_value=100, places=3).map(lambda d: f"{d}%"),
            st.decimals(min_value=0, max_value="0.999999", places=6).map(str)))
    else:
        value = draw(_NUMBER) + draw(st.sampled_from(_UNITS[metric]))
    op = draw(st.sampled_from(OPS))
    return draw(_SPACE) + metric + draw(_SPACE) + op + draw(_SPACE) + value + draw(_SPACE)


@given(_valid_expr())
def test_any_valid_rule_parses_and_its_canonical_text_round_trips(expr):
    rule = parse_rule(expr)
    again = parse_rule(rule.expr)
    assert again.expr == rule.expr
    assert (again.metric, again.op, again.unit) == (rule.metric, rule.op, rule.unit)
    assert math.isclose(again.threshold, rule.threshold, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("text, stage", [("p99 < 30ms @ stage 2", 2), ("p99<30ms@stage 0", 0),
                                         ("error_rate < 1% @ Stage 12", 12)])
def test_a_rule_scoped_to_a_stage_reads_and_writes_back(text: str, stage: int) -> None:
    rule = parse_rule(text)
    assert rule.stage == stage and "@" not in rule.expr     # verdicts show the plain rule
    assert rule.text == f"{rule.expr} @ stage {stage}"
    assert parse_rule(rule.text) == rule


@pytest.mark.parametrize("text, words", [
    ("p99 < 30ms @ stage", "a stage index is missing after '@ stage'"),
    ("p99 < 30ms @ stage two", "'two' is not a stage index"),
    ("p99 < 30ms @ stage -1", "'-1' is not a stage index"),
])
def test_a_bad_stage_suffix_is_one_clear_line(text: str, words: str) -> None:
    with pytest.raises(SlaSyntaxError, match=words):
        parse_rule(text)


def test_an_unscoped_rule_is_written_as_its_expression() -> None:
    assert parse_rule("p99<30ms").text == "p99 < 30ms"
    with pytest.raises(SlaSyntaxError, match="stage must not be negative"):
        parse_rule("p99 < 30ms", stage=-1)


def test_refusals_say_exactly_what_to_write_instead():
    import pytest

    from loadkit.errors import SlaSyntaxError

    with pytest.raises(SlaSyntaxError) as info:
        parse_rule("p98 < 200ms")
    assert str(info.value) == (
        "'p98 < 200ms': unknown metric 'p98' (use one of p50, p90, p95, p99, p999, max, mean, "
        "error_rate, throughput, rows_per_s; streaming: ttft_P, itl_P, tpot_P, "
        "output_tokens_per_s, goodput, slo_attainment)")
    with pytest.raises(SlaSyntaxError) as info:
        parse_rule("")
    assert str(info.value) == "empty SLA rule (use e.g. 'p99 < 200ms')"
    with pytest.raises(SlaSyntaxError) as info:
        parse_rule(5)  # type: ignore[arg-type]
    assert str(info.value) == "5: an SLA rule must be a string like 'p99 < 200ms'"


def test_keywords_are_carried_and_a_written_scope_wins_over_none():
    rule = parse_rule("p99 < 200ms", stage=3, abort=True, grace_s=2)
    assert (rule.stage, rule.abort, rule.grace_s) == (3, True, 2.0)
    plain = parse_rule("p99 < 200ms")
    assert (plain.stage, plain.abort, plain.grace_s) == (None, False, 0.0)
    assert parse_rule("p99 < 200ms @ stage 2").stage == 2
    assert parse_rule("  server:q.max < 3").metric.startswith("server:")   # leading blanks


@pytest.mark.parametrize("text, canonical", [
    ("p99 < 0ms", "p99 < 0ms"), ("p99 < 0.5ms", "p99 < 500us"), ("p99 < 1ms", "p99 < 1ms"),
    ("p99 < 1.5ms", "p99 < 1.5ms"), ("p99 < 999ms", "p99 < 999ms"), ("p99 < 1000ms", "p99 < 1s"),
])
def test_a_latency_is_written_in_the_unit_that_reads_best_at_the_boundaries(text, canonical):
    assert parse_rule(text).expr == canonical


def test_an_error_rate_of_exactly_100_percent_is_allowed_and_above_is_not():
    assert parse_rule("error_rate <= 100%").threshold == 1.0
    with pytest.raises(SlaSyntaxError) as info:
        parse_rule("error_rate < fast")
    assert str(info.value) == "'error_rate < fast': value 'fast' is not an error rate (use e.g. 1% or 0.01)"


def test_a_stage_written_in_the_rule_must_agree_with_the_stage_given_beside_it():
    assert parse_rule("p99 < 1s @ stage 2", stage=2).stage == 2
    with pytest.raises(SlaSyntaxError) as info:
        parse_rule("p99 < 1s @ stage 2", stage=3)
    assert str(info.value) == "'p99 < 1s @ stage 2': names stage 2 but stage 3 is given"


def test_an_unknown_operator_is_a_programming_error_naming_it():
    from loadkit.sla.grammar import compare

    with pytest.raises(ValueError) as info:
        compare(1.0, "==", 1.0)
    assert str(info.value) == "unknown operator '=='"


@pytest.mark.parametrize("expr, upper", [("p99 < 1s", True), ("p99 <= 1s", True),
                                         ("throughput > 1rps", False),
                                         ("throughput >= 1rps", False)])
def test_only_less_than_rules_are_upper_bounds(expr, upper):
    assert parse_rule(expr).upper_bound is upper


@pytest.mark.parametrize("expr, canonical", [
    ("error_rate < 0.0000001", "error_rate < 1e-05%"),           # 12 significant digits at most
    ("throughput > 0.333333333333333rps", "throughput > 0.333333333333rps"),
    ("rows_per_s > 100.50", "rows_per_s > 100.5"),                # no trailing zeros
    ("goodput >= 2.0rps", "goodput >= 2rps"),
    ("slo_attainment >= 0.995", "slo_attainment >= 99.5%"),
    ("output_tokens_per_s > 0", "output_tokens_per_s > 0"),
    ("p99 < 1234.5ms", "p99 < 1.2345s"),
])
def test_every_unit_family_has_one_short_stable_spelling(expr, canonical):
    assert parse_rule(expr).expr == canonical
    assert parse_rule(canonical).expr == canonical


def test_minus_zero_is_written_as_zero():
    from loadkit.sla.grammar import canonical

    assert canonical("rows_per_s", ">", -0.0) == "rows_per_s > 0"
    assert canonical("p99", "<", -0.0) == "p99 < 0ms"
