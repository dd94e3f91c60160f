"""Results: HDR histograms, the recorder, the RunResult model, its JSON codec and merging."""

from loadkit.results.codec import dumps, loads, read
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import (
    SCHEMA,
    Environment,
    GeneratorHealth,
    Interval,
    LatencySummary,
    ProfileResult,
    RunResult,
    ScenarioInfo,
    StageResult,
    Summary,
    Verdict,
)
from loadkit.results.recorder import Recorder, StageMeta

__all__ = [
    "SCHEMA",
    "Environment",
    "GeneratorHealth",
    "Interval",
    "LatencyHistogram",
    "LatencySummary",
    "ProfileResult",
    "Recorder",
    "RunResult",
    "ScenarioInfo",
    "StageMeta",
    "StageResult",
    "Summary",
    "Verdict",
    "dumps",
    "loads",
    "read",
]
