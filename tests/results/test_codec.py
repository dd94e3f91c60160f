import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadkit.errors import UsageError
from loadkit.results import dumps, loads
from loadkit.results.model import GeneratorHealth, Verdict
from loadkit.testing import T0, interval, profile, run_result, stage

latencies = st.lists(st.integers(min_value=1, max_value=5_000_000), min_size=0, max_size=200)


@given(latencies, latencies, st.floats(min_value=0.001, max_value=1e5, allow_nan=False),
       st.text(max_size=20))
@settings(max_examples=40, deadline=None)
def test_result_json_round_trip_is_byte_identical(a, b, duration, name):
    result = run_result(profile(
        stages=[stage(0, latencies_us=a, warmup=True, duration_s=duration),
                stage(1, latencies_us=b, duration_s=duration)],
        timeseries=[interval(T0 + i, 0, 5.5 * i, requests=10 + i, t0=T0) for i in range(3)]))
    result = dataclasses.replace(
        result,
        scenario=dataclasses.replace(result.scenario, name=name),
        verdicts=(Verdict(profile="throughput", expr="p99 < 200ms", metric="p99", observed=None,
                          threshold=200.0, passed=False, reason="no data"),),
        health=GeneratorHealth(fell_behind=True, reasons=("loop lag 80 ms",)),
        warnings=("x",),
    )
    text = dumps(result)
    back = loads(text)
    assert back == result
    assert dumps(back) == text


def test_round_trip_keeps_histograms_exact():
    result = run_result(profile(stages=[stage(latencies_us=[100, 200, 300, 4_000_000])]))
    back = loads(dumps(result))
    assert back.profiles[0].stages[0].hist() == result.profiles[0].stages[0].hist()


@pytest.mark.parametrize("text, problem", [
    ("{not json", "not valid JSON"),
    ('{"schema": "other/v9"}', "expected 'loadkit.result/v2'"),
    ("[]", "schema is None"),
], ids=["broken-json", "wrong-schema", "not-an-object"])
def test_unreadable_result_files_are_refused_with_one_clear_line(text, problem):
    with pytest.raises(UsageError, match=problem):
        loads(text, source="r.json")
