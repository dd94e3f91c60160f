"""Server-side counters, rendered as Prometheus text for GET /metrics.

The app updates plain attributes and dicts (cheap enough for thousands of
requests a second); ``render`` builds the exposition text only when scraped.
These numbers are the server's own view: tests and users can check loadkit's
measurements against them.
"""

from __future__ import annotations

import bisect
from collections import Counter

# Latency buckets in seconds: 1 ms .. 10 s, the range model endpoints live in.
BUCKETS_S: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)


class Histogram:
    """Cumulative-bucket histogram over ``BUCKETS_S``, rendered in the text format."""

    def __init__(self, name: str, help_text: str) -> None:
        self.name, self.help = name, help_text
        self.counts = [0] * (len(BUCKETS_S) + 1)
        self.sum_s = 0.0
        self.count = 0

    def observe(self, value_s: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS_S, value_s)] += 1
        self.sum_s += value_s
        self.count += 1

    def lines(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        cumulative = 0
        for edge, count in zip(BUCKETS_S, self.counts, strict=False):
            cumulative += count
            out.append(f'{self.name}_bucket{{le="{edge:g}"}} {cumulative}')
        out += [f'{self.name}_bucket{{le="+Inf"}} {cumulative + self.counts[-1]}',
                f"{self.name}_sum {self.sum_s:.6f}", f"{self.name}_count {self.count}"]
        return out


class Metrics:
    """Requests by status, in-flight, queue depth, busy and total slots, latency and
    service-time histograms, injected faults."""

    def __init__(self, model_version: str, capacity: int = 0) -> None:
        self.model_version = model_version
        self.capacity = capacity                 # inference slots (0: unlimited)
        self.service = Histogram("mock_service_seconds",
                                 "Time a /predict held an inference slot (no queueing).")
        self.requests_by_status: Counter[str] = Counter()
        self.faults_by_kind: Counter[str] = Counter()
        self.in_flight = 0
        self.queue_depth = 0
        self.busy_slots = 0
        self.ready = False
        self._bucket_counts = [0] * (len(BUCKETS_S) + 1)
        self._latency_sum_s = 0.0
        self._latency_count = 0

    def observe(self, status: str, latency_s: float) -> None:
        """Count one finished /predict (status "200", "503", "reset", ...)."""
        self.requests_by_status[status] += 1
        self._bucket_counts[bisect.bisect_left(BUCKETS_S, latency_s)] += 1
        self._latency_sum_s += latency_s
        self._latency_count += 1

    def render(self) -> str:
        lines = [
            "# HELP mock_requests_total Finished /predict requests by outcome.",
            "# TYPE mock_requests_total counter",
        ]
        for status, count in sorted(self.requests_by_status.items()):
            lines.append(f'mock_requests_total{{status="{status}"}} {count}')
        lines += [
            "# HELP mock_faults_injected_total Faults injected by kind.",
            "# TYPE mock_faults_injected_total counter",
        ]
        for kind, count in sorted(self.faults_by_kind.items()):
            lines.append(f'mock_faults_injected_total{{kind="{kind}"}} {count}')
        lines += [
            "# HELP mock_in_flight_requests /predict requests being handled (queued or served).",
            "# TYPE mock_in_flight_requests gauge",
            f"mock_in_flight_requests {self.in_flight}",
            "# HELP mock_queue_depth Requests waiting for an inference slot.",
            "# TYPE mock_queue_depth gauge",
            f"mock_queue_depth {self.queue_depth}",
            "# HELP mock_busy_slots Inference slots in use.",
            "# TYPE mock_busy_slots gauge",
            f"mock_busy_slots {self.busy_slots}",
            "# HELP mock_capacity_slots Inference slots configured (0: unlimited).",
            "# TYPE mock_capacity_slots gauge",
            f"mock_capacity_slots {self.capacity}",
            "# HELP mock_ready 1 once the cold start is over.",
            "# TYPE mock_ready gauge",
            f"mock_ready {int(self.ready)}",
            "# HELP mock_model_info The model version served.",
            "# TYPE mock_model_info gauge",
            f'mock_model_info{{version="{self.model_version}"}} 1',
            "# HELP mock_request_latency_seconds Time from arrival to response, /predict.",
            "# TYPE mock_request_latency_seconds histogram",
        ]
        cumulative = 0
        for edge, count in zip(BUCKETS_S, self._bucket_counts, strict=False):
            cumulative += count
            lines.append(f'mock_request_latency_seconds_bucket{{le="{edge:g}"}} {cumulative}')
        cumulative += self._bucket_counts[-1]
        lines += [
            f'mock_request_latency_seconds_bucket{{le="+Inf"}} {cumulative}',
            f"mock_request_latency_seconds_sum {self._latency_sum_s:.6f}",
            f"mock_request_latency_seconds_count {self._latency_count}",
            *self.service.lines(),
        ]
        return "\n".join(lines) + "\n"
