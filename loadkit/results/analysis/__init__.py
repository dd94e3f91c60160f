"""Typed analysis records, one per profile kind (what ``ProfileResult.analysis`` holds).

Where it sits: ``loadkit.analysis`` derives one record per profile from what the
result stores, ``loadkit.judge.judge`` puts it under ``ProfileResult.analysis``, and
reporters, SLA verdicts, search and the history read its attributes (never keys,
never English parsed back). The codec writes each record as the profile's
``analysis`` object (its field names are result.json's keys) and reads it back by
its ``kind``: the first record of ``Analysis`` whose ``kind`` allows the value, else
``SummaryAnalysis``.

* ``kinds``: latency, throughput, constant-rate, soak, spike, any other kind;
* ``steps``: ramp and stress, their steps and turning points;
* ``extras``: what any kind may carry -- cold start, recovery, server metrics,
  latency by input;
* capacity search's ``SearchAnalysis`` lives with its record in ``results/search.py``.
"""

from __future__ import annotations

from typing import Union

from loadkit.results.analysis.extras import (
    BreakdownAnalysis,
    BreakdownGroup,
    BucketRow,
    Ceiling,
    ColdStart,
    Extras,
    GaugeAt,
    Recovery,
    RecoveryStatus,
    ServerAnalysis,
    ServerMove,
    ServerTurn,
)
from loadkit.results.analysis.kinds import (
    BatchRow,
    ConstantRateAnalysis,
    FirstSecond,
    LatencyAnalysis,
    SoakAnalysis,
    SoakWindow,
    SpikeAnalysis,
    SummaryAnalysis,
    ThroughputAnalysis,
)
from loadkit.results.analysis.steps import (
    RampAnalysis,
    RampPoint,
    RampStep,
    StressAnalysis,
    StressPoint,
    StressStep,
)
from loadkit.results.search import SearchAnalysis

# Order matters to the codec: the first record whose ``kind`` allows a value reads it
# (a soak is a SoakAnalysis, though a soak's ``steady`` part is a ConstantRateAnalysis).
Analysis = Union[  # noqa: UP007 - a runtime value the codec inspects
    LatencyAnalysis, ThroughputAnalysis, RampAnalysis, StressAnalysis, SpikeAnalysis,
    SoakAnalysis, ConstantRateAnalysis, SearchAnalysis, SummaryAnalysis,
]

__all__ = [
    "Analysis",
    "BatchRow",
    "BreakdownAnalysis",
    "BreakdownGroup",
    "BucketRow",
    "Ceiling",
    "ColdStart",
    "ConstantRateAnalysis",
    "Extras",
    "FirstSecond",
    "GaugeAt",
    "LatencyAnalysis",
    "RampAnalysis",
    "RampPoint",
    "RampStep",
    "Recovery",
    "RecoveryStatus",
    "SearchAnalysis",
    "ServerAnalysis",
    "ServerMove",
    "ServerTurn",
    "SoakAnalysis",
    "SoakWindow",
    "SpikeAnalysis",
    "StressAnalysis",
    "StressPoint",
    "StressStep",
    "SummaryAnalysis",
    "ThroughputAnalysis",
]
