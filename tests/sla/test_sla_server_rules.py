"""Reading a ``server:`` rule's value off a stage: the series by its key, the statistic
its kind has, and how many scrapes the value stands on (0: no data)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadkit.results.server import ServerSeries
from loadkit.sla import evaluate, parse_rule
from loadkit.sla.metrics import metric
from loadkit.sla.server_rule import read_server, scrapes_of, split_metric
from loadkit.testing import profile, run_result, stage

QUEUE = 'vllm:num_requests_waiting{model="m.1"}'
SERIES = {
    QUEUE: ServerSeries(kind="gauge", scrapes=5, mean=2.5, min=0.0, max=7.0, last=3.0),
    "reqs_total": ServerSeries(kind="counter", scrapes=4, increase=100.0, rate_per_s=50.0),
    "svc_seconds": ServerSeries(kind="histogram", scrapes=3, count=90.0, rate_per_s=45.0,
                                mean=0.02, p50=0.015, p90=0.03, p99=0.05),
    "empty_gauge": ServerSeries(kind="gauge", scrapes=2),
}
STAGE = replace(stage(0, [10.0] * 20, concurrency=2), server_metrics=SERIES)


def test_a_server_metric_splits_into_series_key_and_statistic_at_the_last_dot():
    assert split_metric(f"server:{QUEUE}.max") == (QUEUE, "max")   # the label's dot stays
    assert split_metric("server:reqs_total.rate") == ("reqs_total", "rate")


@pytest.mark.parametrize("name, value, scrapes", [
    (f"server:{QUEUE}.max", 7.0, 5), (f"server:{QUEUE}.min", 0.0, 5),
    (f"server:{QUEUE}.last", 3.0, 5), ("server:reqs_total.rate", 50.0, 4),
    ("server:reqs_total.increase", 100.0, 4), ("server:svc_seconds.p99", 0.05, 3),
    ("server:svc_seconds.count", 90.0, 3),
])
def test_a_server_rule_reads_its_series_statistic_and_counts_its_scrapes(name, value, scrapes):
    assert read_server(name, STAGE) == value and scrapes_of(name, STAGE) == scrapes
    m = metric(name)
    assert (m.name, m.read(STAGE), m.count(STAGE)) == (name, value, scrapes)
    # judged at a ramp's operating point (more load is not always worse), never live
    assert (m.over, m.load_broken, m.live) == ("scrapes of the server", False, None)


@pytest.mark.parametrize("name", [
    "server:gpu_util.mean",            # never exposed
    f"server:{QUEUE}.rate",            # a gauge has no rate
    "server:reqs_total.max",           # a counter has no max
    "server:empty_gauge.mean",         # seen, but no value in the stage
])
def test_a_series_or_statistic_the_stage_lacks_is_no_data_on_zero_scrapes(name):
    assert read_server(name, STAGE) is None and scrapes_of(name, STAGE) == 0
    m = metric(name)
    assert (m.read(STAGE), m.count(STAGE)) == (None, 0)


def test_a_server_rule_verdict_counts_scrapes_and_says_so():
    p = profile("p", "throughput", [STAGE])
    p = replace(p, summary=replace(p.summary, server_metrics=SERIES))
    ok, missing = evaluate({"p": [parse_rule(f"server:{QUEUE}.max < 10"),
                                  parse_rule("server:gpu_util.mean < 90")]}, run_result(p))
    assert (ok.passed, ok.observed, ok.reason) == (True, 7.0, "over 5 scrapes of the server")
    assert (missing.passed, missing.observed, missing.reason) == (
        False, None, "no data: no scrapes of the server to judge")


def test_a_server_rule_parses_to_a_rule_in_the_series_own_unit():
    from loadkit.sla import Rule

    rule = parse_rule('server:q{b="2",a="x\\"y"}.avg<=3', abort=True, grace_s=2, stage=0)
    assert rule == Rule(expr='server:q{a="x\\"y",b="2"}.mean <= 3',
                        metric='server:q{a="x\\"y",b="2"}.mean', op="<=", threshold=3.0, unit="",
                        abort=True, grace_s=2.0, stage=0)
    assert isinstance(rule.grace_s, float)
    assert parse_rule("server:q.rate_per_s > 0.5").metric == "server:q.rate"
    assert parse_rule('server:q{a="1"}.max < 1').metric == 'server:q{a="1"}.max'
    assert parse_rule("server:q{}.max < 1").metric == "server:q.max"


@pytest.mark.parametrize("text, kw, message", [
    ("server:q < 1", {},
     "'server:q < 1': expected server:SERIES.STAT OP NUMBER, e.g. "
     "'server:vllm:num_requests_waiting.max < 10' (labels as name{a=\"x\"})"),
    ("server:q.P95 < 1", {},
     "'server:q.P95 < 1': unknown statistic 'P95' of a server series (use one of mean, min, "
     "max, last, increase, rate, count, p50, p90, p99)"),
    ("server:q.max 1", {},
     "'server:q.max 1': missing operator after the statistic (use <, <=, > or >=)"),
    ("server:q.max != 1", {},
     "'server:q.max != 1': operator '!=' is not supported (use <, <=, > or >=)"),
    ("server:q.max <", {}, "'server:q.max <': missing value after '<'"),
    ("server:q.max < 1s", {},
     "'server:q.max < 1s': value '1s' is not a plain number (a server rule is in the "
     "metric's own unit, e.g. 10 or 0.25)"),
    ("server:q.max < 1", {"grace_s": -1}, "'server:q.max < 1': grace must not be negative"),
    ("server:q.max < 1", {"stage": -1}, "'server:q.max < 1': stage must not be negative"),
], ids=["no-stat", "unknown-stat", "no-op", "bad-op", "no-value", "unit", "grace", "stage"])
def test_a_bad_server_rule_says_exactly_what_is_wrong(text, kw, message):
    from loadkit.errors import SlaSyntaxError

    with pytest.raises(SlaSyntaxError) as info:
        parse_rule(text, **kw)
    assert str(info.value) == message


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_every_operator_is_accepted_in_a_server_rule(op):
    assert parse_rule(f"server:q.max {op} 2").op == op
