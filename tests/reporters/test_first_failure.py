"""The error summary names the check that failed: each stage keeps, per error kind, what its
first failure was (recorded on the error path only) and the text report prints it."""

from __future__ import annotations

from dataclasses import replace

import pytest

import loadkit
from loadkit import testing
from loadkit.reporters import html, markdown, text
from loadkit.results import dumps, loads
from loadkit.results.aggregate import first_errors
from loadkit.scenario import scenario_from_text
from loadkit.scenario.plan import Checks
from loadkit.testing import MockTransport, Reply


@pytest.mark.parametrize("checks, status, body, said", [
    (Checks(status=(200,)), 302, b"", "status 302, expected 200"),
    (Checks(status=(200, 201)), 404, b"", "status 404, expected 200, 201"),
    (Checks(), 503, b"", "status 503"),
    (Checks(json_has=("predictions",)), 200, b'{"oops": 1}', "json_has predictions missing"),
    (Checks(json_has=("model", "outputs.score")), 200, b'{"model": "m", "outputs": {}}',
     "json_has outputs.score missing"),
    (Checks(json_has=("predictions",)), 200, b"<html>", "json_has the body is not JSON"),
    (Checks(body_contains=("ok", "ready")), 200, b"ok", "body_contains 'ready' missing"),
], ids=["status-not-allowed", "status-not-in-two", "5xx", "json-key-missing",
        "nested-key-missing", "not-json", "substring-missing"])
def test_a_failed_check_is_explained(checks, status, body, said):
    assert checks.failure(status, body) is not None
    assert checks.explain(status, body) == said


SCENARIO = """
name: typo
target: http://127.0.0.1:9
request: {method: POST, path: /predict, body: {x: 1}}
checks: {status: [200], json_has: [predictions]}
fail_fast: 0s
sla: []
profiles:
  - {name: closed, kind: latency, requests: 12}
  - {name: open, kind: constant-rate, rate: 20, duration: 1s}
"""


def test_the_first_failing_check_reaches_the_stage_and_the_error_summary():
    replies = [Reply(body=b'{"oops": 1}'), Reply(status=201)]     # alternate two failures
    result = loadkit.run(scenario_from_text(SCENARIO), transport=MockTransport(replies))
    for p in result.profiles:                       # workers (closed) and pacer (open)
        (stage,) = p.measured_stages()
        assert stage.first_errors == {"check_failed": "json_has predictions missing"}
    lines = text.render(result).splitlines()
    assert ("  closed: check_failed 12: json_has predictions missing (the first failure) — "
            "POST /predict") in lines
    assert loads(dumps(result)).profiles[0].stages == result.profiles[0].stages
    assert "<dd>12 (first: json_has predictions missing)</dd>" in html.render(result)
    assert ("- closed: check\\_failed 12: json\\_has predictions missing (the first failure) — "
            "POST /predict") in markdown.render(result).splitlines()


def test_a_stage_without_errors_carries_no_first_errors_in_its_json():
    result = testing.run_result(testing.profile(stages=[testing.stage(0, [5.0] * 10)]))
    assert '"first_errors"' not in dumps(result)


def test_merged_stages_keep_the_earliest_first_failure_of_each_kind():
    early = replace(testing.stage(0, [5.0]), started_at=1.0,
                    first_errors={"check_failed": "json_has predictions missing"})
    late = replace(testing.stage(0, [5.0]), started_at=2.0,
                   first_errors={"check_failed": "status 302, expected 200",
                                 "http_5xx": "status 503"})
    assert first_errors([late, early]) == {"check_failed": "json_has predictions missing",
                                           "http_5xx": "status 503"}
