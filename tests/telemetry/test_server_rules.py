"""SLA rules on the target's own metrics: ``server:SERIES.STAT OP NUMBER`` (pure)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadkit import testing
from loadkit.errors import SlaSyntaxError
from loadkit.results.aggregate import summarize
from loadkit.results.server import ServerSeries
from loadkit.sla import evaluate, parse_rule

QUEUE = 'vllm:num_requests_waiting{model="m"}'


def result_with(series: dict[str, ServerSeries], kind: str = "throughput"):
    stage = replace(testing.stage(0, [10.0] * 50, concurrency=4), server_metrics=series)
    profile = testing.profile("p", kind, [stage])
    return testing.run_result(replace(profile, summary=summarize([stage])))


SERIES = {
    QUEUE: ServerSeries(kind="gauge", scrapes=5, mean=2.5, min=0.0, max=7.0, last=3.0),
    "http_requests_total": ServerSeries(kind="counter", scrapes=5, increase=100.0,
                                        rate_per_s=50.0, window_s=2.0),
    "svc_seconds": ServerSeries(kind="histogram", scrapes=5, count=100.0, rate_per_s=50.0,
                                mean=0.02, p50=0.015, p90=0.03, p99=0.05, window_s=2.0),
}


@pytest.mark.parametrize(("rule", "passed", "observed"), [
    (f"server:{QUEUE}.max < 10", True, 7.0),
    ("server:vllm:num_requests_waiting{model=\"m\"}.mean < 2", False, 2.5),
    ("server:http_requests_total.rate >= 40", True, 50.0),
    ("server:svc_seconds.p99 < 0.04", False, 0.05),
    ("server:svc_seconds.p50 <= 0.015", True, 0.015),
    ("server:gpu_util.mean < 90", False, None),                  # never exposed: no data fails
    (f"server:{QUEUE}.rate < 1", False, None),                   # a gauge has no rate: no data
], ids=["gauge-max", "gauge-mean-fails", "counter-rate", "hist-p99-fails", "hist-p50",
        "absent-series", "stat-the-kind-lacks"])
def test_a_server_rule_is_judged_on_the_profiles_server_figures(
        rule: str, passed: bool, observed: float | None) -> None:
    (verdict,) = evaluate({"p": [parse_rule(rule)]}, result_with(SERIES))
    assert (verdict.passed, verdict.observed) == (passed, observed)
    assert not verdict.inconclusive


@pytest.mark.parametrize(("text", "canonical"), [
    ('server:x{b="2", a="1"}.rate_per_s<=0.5', 'server:x{a="1",b="2"}.rate <= 0.5'),
    ("server:vllm:gpu_cache_usage_perc.max < 0.9", "server:vllm:gpu_cache_usage_perc.max < 0.9"),
    ('server:x{path="/a.b<c"}.p99 < 1e-1 @ stage 2', 'server:x{path="/a.b<c"}.p99 < 0.1 @ stage 2'),
], ids=["labels-sorted-rate-alias", "colons-in-name", "quoted-dots-and-ops"])
def test_server_rules_have_one_spelling_that_parses_back(text: str, canonical: str) -> None:
    rule = parse_rule(text)
    assert rule.text == canonical and parse_rule(rule.text) == rule


@pytest.mark.parametrize(("text", "says"), [
    ("server:x.max < 10ms", "not a plain number"),
    ("server:x.p95 < 1", "unknown statistic 'p95'"),
    ("server:x < 1", "expected server:SERIES.STAT OP NUMBER"),
    ("server:x.max == 1", "operator '==' is not supported"),
    ('server:x{a=1}.max < 1', "expected server:SERIES.STAT OP NUMBER"),
], ids=["unit", "unknown-stat", "no-stat", "operator", "unquoted-label"])
def test_a_bad_server_rule_is_one_line_naming_the_problem(text: str, says: str) -> None:
    with pytest.raises(SlaSyntaxError, match=says):
        parse_rule(text)
