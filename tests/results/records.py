"""The round trip every analysis record must survive: record -> result.json -> record."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from loadkit.results.codec import dumps, loads
from loadkit.testing import profile, run_result


def round_trip(record: Any) -> Any:
    """``record`` stored as a profile's analysis, written, read back (and written again
    byte for byte the same)."""
    # A profile keeps its cold start beside its latency analysis (as the runner stores it).
    p = replace(profile("p", str(getattr(record, "kind", "x")), analysis=record),
                cold_start=getattr(record, "cold_start", None))
    text = dumps(run_result(p))
    back = loads(text)
    assert dumps(back) == text
    return back.profiles[0].analysis
