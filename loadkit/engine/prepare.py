"""What one generator process and N of them share before any request is sent.

``run_stages`` (``engine/run.py``, the engine's entry point) hands a run either
to this process's loop (``engine/local.py``) or to N spawned generators
(``engine/processes.py``). Both refuse bad stages the same way, pack every
batch size's bodies into one indexed payload set, size the connection pool and
return the same ``EngineRun``; those pieces live here so neither path imports
the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from loadkit.engine.stages import IntervalHook, max_in_flight_of
from loadkit.errors import UsageError
from loadkit.results.model import GeneratorHealth, Interval, StageResult
from loadkit.scenario.plan import InputBreakdown, PayloadSet, RequestSpec, Stage

if TYPE_CHECKING:
    from loadkit.engine.transport import Transport

ContinueHook = Callable[[StageResult, Stage], bool]


class StageObserver(Protocol):
    """Told when each stage starts and stops issuing (the telemetry scraper's cue);
    each call must return at once: it runs on the load's loop."""

    def stage_started(self, index: int) -> None: ...

    def stage_stopped(self, index: int) -> None: ...

__all__ = ["ContinueHook", "EngineRun", "IntervalHook", "StageObserver", "combine_payloads",
           "pool_size",
           "stage_breakdowns", "transport_name", "validate_stages"]


@dataclass(frozen=True)
class EngineRun:
    """What one ``run_stages`` call measured and how it ended."""

    stages: tuple[StageResult, ...]
    timeseries: tuple[Interval, ...]
    health: GeneratorHealth
    interrupted: bool
    aborted: bool
    transport: str
    started_at: float
    finished_at: float


def combine_payloads(payloads: Mapping[int, PayloadSet]
                     ) -> tuple[PayloadSet, dict[int, tuple[int, int]]]:
    """One PayloadSet holding every batch size's bodies, and where each batch sits in it.

    One transport serves the whole run (its pool and its pre-built requests), so
    the bodies of all batch sizes go in one indexed set; a stage then draws from
    ``offset .. offset + count``. An empty set (e.g. a GET) gets one empty body.
    """
    bodies: list[bytes] = []
    sizes: list[int] = []
    where: dict[int, tuple[int, int]] = {}
    content_type = "application/json"
    for batch, ps in sorted(payloads.items()):
        items = list(ps.bodies) or [b""]
        where[batch] = (len(bodies), len(items))
        bodies.extend(items)
        sizes.extend(len(b) for b in items)
        content_type = ps.content_type
    if not bodies:
        bodies, sizes, where = [b""], [0], {1: (0, 1)}
    inputs = [n for _, ps in sorted(payloads.items()) for n in ps.input_tokens]
    return PayloadSet(batch_size=min(where), bodies=tuple(bodies), content_type=content_type,
                      payload_bytes=tuple(sizes),
                      input_tokens=tuple(inputs) if len(inputs) == len(bodies) else ()), where


def stage_breakdowns(stages: Sequence[Stage], payloads: Mapping[int, PayloadSet]
                     ) -> dict[tuple[str, int], InputBreakdown]:
    """(key, batch_size) -> InputBreakdown, for the stages that record latency by input."""
    out: dict[tuple[str, int], InputBreakdown] = {}
    for s in stages:
        if s.breakdown is None or s.batch_size not in payloads:
            continue
        found = payloads[s.batch_size].breakdown(s.breakdown)
        if found is not None:
            out[(s.breakdown, s.batch_size)] = found
    return out


def validate_stages(stages: Sequence[Stage], batches: Mapping[int, object]) -> None:
    """Refuse a stage the engine cannot run, naming it (nothing is sent)."""
    for s in stages:
        name = f"stage {s.label or s.index}"
        if (s.concurrency is None) == (s.rate is None):
            raise UsageError(f"{name}: set exactly one of concurrency or rate")
        if s.concurrency is not None and s.concurrency < 1:
            raise UsageError(f"{name}: concurrency must be at least 1 (got {s.concurrency})")
        if s.rate is not None and not s.rate > 0:
            raise UsageError(f"{name}: rate must be positive (got {s.rate})")
        if s.duration_s is None and s.requests is None and s.stability is None:
            raise UsageError(f"{name}: needs a duration, a request count or stability windows")
        if s.duration_s is not None and not s.duration_s > 0:
            raise UsageError(f"{name}: duration must be positive (got {s.duration_s})")
        if s.requests is not None and s.requests < 1:
            raise UsageError(f"{name}: requests must be at least 1 (got {s.requests})")
        if s.max_in_flight is not None and s.max_in_flight < 1:
            raise UsageError(f"{name}: max_in_flight must be at least 1 (got {s.max_in_flight})")
        if s.batch_size not in batches:
            raise UsageError(f"{name}: no payloads were built for batch_size {s.batch_size}")


def pool_size(stages: Sequence[Stage], request: RequestSpec) -> int:
    """Connections the run may need at once.

    An open stage's ``max_in_flight`` bounds every request out, the previous
    stage's last ones included; a closed stage's workers start while the previous
    stage's last requests complete, so they may need that many more at a handover.
    """
    bounds = [max_in_flight_of(s, request) for s in stages]
    closed_after_first = [s.concurrency for s in stages[1:] if s.concurrency is not None]
    return max(bounds, default=1) + max(closed_after_first, default=0)


def transport_name(transport: str | Transport, request: RequestSpec) -> str:
    """The concrete name a run reports: a given instance's own, or what a name resolves to."""
    if isinstance(transport, str):
        from loadkit.engine.factory import resolve_transport

        return resolve_transport(transport, request)
    return transport.name
