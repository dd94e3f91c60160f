"""What a result says about the run around the measurements: the scenario it ran
(credentials removed), the machine and transport, and how well the generator itself
kept up (a starved generator makes a run inconclusive).

Plain frozen data, re-exported by ``model.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loadkit.results.fields import OMIT


@dataclass(frozen=True)
class ScenarioInfo:
    name: str
    target: str                 # credentials and query tokens removed
    method: str = "POST"
    path: str = "/"
    batch_size: int = 1
    trace_id: str = field(default="", metadata=OMIT)   # the W3C trace every request carried


@dataclass(frozen=True)
class Environment:
    python: str = ""
    platform: str = ""
    uvloop: bool = False
    processes: int = 1
    host_cores: int = 1
    transport: str = "aiohttp"
    insecure: bool = False


@dataclass(frozen=True)
class GeneratorHealth:
    """How well the generator itself kept up; a starved generator makes a run inconclusive."""

    loop_lag_p99_ms: float = 0.0
    loop_lag_max_ms: float = 0.0
    schedule_lag_p99_ms: float = 0.0
    schedule_lag_max_ms: float = 0.0
    late: int = 0
    cpu_share: float = 0.0        # generator CPU seconds / wall seconds (1.0 = one core)
    max_rss_mb: float = 0.0
    fell_behind: bool = False
    reasons: tuple[str, ...] = ()
    # Connection churn (summed over processes and merged results): connections the
    # transport opened, how many of those replaced one the target dropped, and
    # idempotent requests retried once on a reused connection closed unanswered.
    # None: unknown -- the transport does not count them (aiohttp: counting its
    # connections with a TraceConfig costs ~10 us a request, ~15% of its per-request CPU).
    connections_opened: int | None = 0
    reconnects: int | None = 0
    stale_retries: int | None = 0
    # Client work: the busiest measured stage's share of wall time its body checks
    # (json_has, body_contains) held the event loop, and their mean cost. Past a bound
    # relative to the stage's p50 the run is inconclusive (a reason says so).
    check_share: float = 0.0
    check_mean_us: float = 0.0
    # Compressed answers decoded by loadkit (only when the scenario sends Accept-Encoding):
    # how many, and the mean decoding time -- client time, outside every latency.
    decompressed: int = 0
    decompress_mean_us: float = 0.0
