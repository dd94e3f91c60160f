"""Performance gates as tests: each runs a loadkit scenario and asserts its SLA.

``loadkit_run`` comes from loadkit's pytest plugin (registered on install). It
resolves the scenario against this folder, writes every report under the
test's tmp folder (or ``--loadkit-out DIR``), records the folder as a JUnit
property, and returns the judged result. ``loadkit.assert_sla`` fails the test
with one line per broken rule: ``steady: p99 < 200ms failed: observed 212 ms,
threshold 200 ms``.

    pytest examples/pytest --junitxml=reports/junit.xml --loadkit-out reports/loadkit
    pytest -m "not loadkit"          # the fast tests only
"""

from __future__ import annotations

import pytest

import loadkit

pytestmark = pytest.mark.loadkit


def test_iris_meets_its_sla(loadkit_run, model_url):
    loadkit.assert_sla(loadkit_run("perf/iris.yaml", target=model_url))


def test_iris_keeps_p95_under_50ms_at_concurrency_8(loadkit_run, model_url):
    result = loadkit_run("perf/iris.yaml", target=model_url, concurrency=8, duration="1s",
                         sla=["p95 < 50ms"], formats="json,junit")
    loadkit.assert_sla(result)
    assert result.profile("steady").summary.errors == 0
