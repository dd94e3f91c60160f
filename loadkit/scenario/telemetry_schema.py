"""``server_metrics:`` in the scenario file: the target's Prometheus endpoints to scrape.

Where it sits: ``schema.py``'s ScenarioModel holds one of these or a list of them;
``model.py`` turns each into a ``MetricsSource`` (plan.py) for the telemetry
scraper. A source is refused (exit 2, naming the field) when its URL is neither a
path nor an http(s) URL, an ``include`` is not a regex, or a field is unknown.
Header values are never echoed (they are usually tokens).
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from loadkit.scenario.fields import Count, Seconds, Strict, as_list, is_http_url
from loadkit.scenario.plan import MetricsSource

DEFAULT_TIMEOUT_S = 5.0


class ServerMetricsModel(Strict):
    url: str = "/metrics"
    interval: Seconds = 1.0
    timeout: Seconds | None = None
    include: Annotated[list[str], BeforeValidator(as_list)] = Field(default_factory=list)
    headers: dict[str, str] = Field(default_factory=dict)
    max_series: Annotated[Count, Field(le=10_000)] = 500

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value.startswith("/") and not value.startswith("//"):
            if any(c.isspace() for c in value):
                raise ValueError("a path must contain no spaces")
            return value
        if not is_http_url(value) or any(c.isspace() for c in value):
            shown = value if "@" not in value and "?" not in value else "…"
            raise ValueError(f"{shown[:60]!r} is neither a path (/metrics) nor an http(s) URL")
        return value

    @field_validator("include")
    @classmethod
    def _include(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern[:40]!r} is not a regular expression ({exc})") from None
        return value

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, value: Any) -> Any:
        from loadkit.scenario.schema import RequestModel  # schema imports this module

        return RequestModel._headers(value)

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: float) -> float:
        if value < 0.1:
            raise ValueError("must be at least 100ms (a scrape is not free for the server)")
        return value

    def source(self) -> MetricsSource:
        timeout = self.timeout if self.timeout is not None else min(self.interval,
                                                                    DEFAULT_TIMEOUT_S)
        return MetricsSource(url=self.url, interval_s=self.interval, timeout_s=timeout,
                             include=tuple(self.include), headers=tuple(self.headers.items()),
                             max_series=self.max_series)


def _sources(value: Any) -> Any:
    """One source or a list of them; a bare string (alone or in the list) is the URL."""
    return [{"url": v} if isinstance(v, str) else v for v in as_list(value)]


ServerMetrics = Annotated[list[ServerMetricsModel], BeforeValidator(_sources),
                          Field(min_length=1)]


class ServerTimingModel(Strict):
    """``server_timing: true`` or ``{metric: app}``: which Server-Timing entry counts."""

    metric: str = ""

    @field_validator("metric")
    @classmethod
    def _metric(cls, value: str) -> str:
        if value and not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", value):
            raise ValueError(f"{value[:40]!r} is not a Server-Timing metric name")
        return value


def _server_timing(value: Any) -> Any:
    if value is True:
        return {}
    if value is False:
        return None
    if isinstance(value, str):
        return {"metric": value}
    return value


ServerTiming = Annotated[ServerTimingModel | None, BeforeValidator(_server_timing)]


def trace_headers(on: bool) -> tuple[tuple[str, str], ...]:
    """A W3C ``traceparent`` for the run: one trace id the server's spans can be found by.

    Built once (the fast transport's requests are pre-encoded bytes), so every
    request of the run carries the same trace id and parent span: the run is the
    parent of every server span. The runner writes the trace id into result.json.
    """
    if not on:
        return ()
    return (("traceparent", f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"),)
