"""A ramp against a target whose capacity is computed, not measured: the knee is exact.

``MockTransport(capacity=4)`` answers like a server with 4 workers and 20 ms of
work per request: 50 rps per worker, so 50 / 100 / 200 rps at concurrency
1 / 2 / 4, then 200 rps with a queue (p50 40 ms at 8, 80 ms at 16). Nothing about
the machine running the test can move the knee: it is concurrency 4, the SLA
(p50 < 30 ms) holds up to 4 and first breaks at 8. (A p99 of 60 requests is their
slowest one, which a busy machine's timer can stretch; a median it cannot.)
"""

from __future__ import annotations

import loadkit
from loadkit.testing import MockTransport, Reply

RAMP = """
name: knee
target: mock
request: {path: /predict, timeout: 5s, body: {instances: "{{ rows }}"}}
dataset: {path: data/iris.csv, seed: 1}
profiles:
  - name: ramp
    kind: ramp
    warmup: 0s
    concurrency: [1, 2, 4, 8, 16]
    stage_duration: 1s
    sla: [p50 < 30ms]
"""


def test_ramp_finds_the_knee_exactly_at_a_computed_capacity_of_four(write_scenario):
    mock = MockTransport(Reply(latency_ms=20), capacity=4)
    result = loadkit.run(write_scenario(RAMP), transport=mock)
    analysis = result.profiles[0].analysis
    steps = {s.concurrency: s for s in analysis.steps}
    why = {c: (s.throughput_rps, s.p50_ms) for c, s in steps.items()}
    assert analysis.knee.concurrency == 4, why
    assert analysis.headline.startswith("saturates at concurrency 4: "), why
    assert analysis.max_concurrency_under_sla == 4, why
    assert analysis.first_breaking_step.concurrency == 8, why
    assert steps[16].efficiency < 0.4, why              # 200 rps, not 16 x 50
