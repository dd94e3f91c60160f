"""Server-side telemetry: the target's own Prometheus metrics beside client latency.

``Telemetry`` scrapes a scenario's ``server_metrics`` sources during a profile
(``scraper.py``: a thread with its own event loop, never load); ``parse.py`` turns
an exposition into a snapshot with prometheus_client's parser; ``window.py``
summarises each stage (pure). ``with_server_metrics`` puts the figures on the
engine's stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from loadkit.results.model import StageResult
from loadkit.telemetry.scraper import Telemetry

__all__ = ["Telemetry", "with_server_metrics"]


def with_server_metrics(stages: Sequence[StageResult], telemetry: Telemetry | None
                        ) -> tuple[StageResult, ...]:
    """The stages with each one's ``server_metrics`` and ``server_scrapes`` filled in."""
    if telemetry is None:
        return tuple(stages)
    out = []
    for s in stages:
        series, stats = telemetry.stage(s.index)
        out.append(replace(s, server_metrics=series, server_scrapes=stats))
    return tuple(out)
