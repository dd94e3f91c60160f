"""What the server's own metrics say at a profile's turning point (pure).

Sits beside ``ramp.py`` / ``stress.py``: ``analyze`` adds ``analysis["server"]``
to a profile whose stages carry ``server_metrics`` (``loadkit.telemetry``):

* ``at``: at a ramp's saturation point (the knee) or a stress profile's breaking
  point, what the server's in-flight and queue gauges did there (mean and max)
  and on the step before, so a report can say "queue 0.1 -> 2.3 at c=8".
  Which gauges: those whose name says queue, waiting, pending, in-flight,
  running, busy or active (vLLM, Triton, TGI and the mock all name theirs so).
* ``first_ceiling``: the first gauge that hit its ceiling -- it rose with the
  load, then its stage maximum stayed within 2% of its highest for every later
  step (at least one): busy slots pinned at capacity, a bounded queue full, a
  KV cache at 100%. Counters and histograms are not ceilings (a rate flattening
  is the throughput plateau the knee already names).
* ``chart``: the series a report draws beside the client's figures (at most four:
  the queue/in-flight gauges, then what moved most).
* ``moved``: every series' change between the first and last measured step (a
  gauge's mean, a counter's or histogram's rate, a histogram's p50), largest
  relative change first -- what reports list as "moved most".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from loadkit.results.analysis import (
    Analysis,
    Ceiling,
    GaugeAt,
    RampAnalysis,
    ServerAnalysis,
    ServerMove,
    ServerTurn,
    StressAnalysis,
)
from loadkit.results.model import ProfileResult, StageResult
from loadkit.results.server import GAUGE, ServerSeries

QUEUE_RE = re.compile(r"queue|waiting|pending|in_?flight|running|busy|active|concurrency",
                      re.IGNORECASE)
CEILING_TOLERANCE = 0.02
MOVED_LIMIT = 10
CHART_LIMIT = 4


def _steps(profile: ProfileResult) -> list[StageResult]:
    """Measured load steps (a stress profile's recovery is not one)."""
    return [s for s in profile.stages
            if not s.warmup and s.server_metrics and s.role in ("measured", "probe")]


def headline_value(series: ServerSeries) -> float | None:
    """The one figure that stands for a series in a table: a gauge's mean, a counter's
    or histogram's rate (a histogram's p50 in ``moved``)."""
    if series.kind == GAUGE:
        return series.mean
    return series.rate_per_s


def _queue_gauges(stage: StageResult) -> dict[str, GaugeAt]:
    return {k: GaugeAt(mean=s.mean, max=s.max) for k, s in stage.server_metrics.items()
            if s.kind == GAUGE and QUEUE_RE.search(k.split("{", 1)[0])}


def at_step(steps: Sequence[StageResult], index: int | None) -> ServerTurn | None:
    """The queue/in-flight gauges at step ``index`` and the step before it."""
    pos = next((i for i, s in enumerate(steps) if s.index == index), None)
    if pos is None or index is None:
        return None
    here = _queue_gauges(steps[pos])
    if not here:
        return None
    before = _queue_gauges(steps[pos - 1]) if pos > 0 else {}
    return ServerTurn(step=index, gauges=here, before=before,
                      before_step=steps[pos - 1].index if pos > 0 else None)


def first_ceiling(steps: Sequence[StageResult]) -> Ceiling | None:
    """The gauge that reached its plateau at the earliest step (see the module doc)."""
    best: tuple[int, Ceiling] | None = None
    keys = {k for s in steps for k, v in s.server_metrics.items() if v.kind == GAUGE}
    for key in sorted(keys):
        maxima = [s.server_metrics[key].max if key in s.server_metrics else None for s in steps]
        if any(m is None for m in maxima) or len(maxima) < 3:
            continue
        values = [float(m) for m in maxima if m is not None]
        top = max(values)
        if top <= 0 or values[0] >= top * (1 - CEILING_TOLERANCE):
            continue                                # flat from the start: not load-driven
        near = [v >= top * (1 - CEILING_TOLERANCE) for v in values]
        hit = next((i for i, ok in enumerate(near) if ok and all(near[i:])), None)
        if hit is None or hit >= len(values) - 1:   # None: fell back below (a search's bisection)
            continue                                # still climbing at the last step
        if best is None or hit < best[0]:
            best = (hit, Ceiling(series=key, step=steps[hit].index, ceiling=top))
    return best[1] if best is not None else None


def moved(steps: Sequence[StageResult], limit: int = MOVED_LIMIT) -> list[ServerMove]:
    """Series by how much they changed between the first and last step."""
    if len(steps) < 2:
        return []
    first, last = steps[0].server_metrics, steps[-1].server_metrics
    out: list[ServerMove] = []
    for key in first.keys() & last.keys():
        a, b = first[key], last[key]
        stat = "mean" if a.kind == GAUGE else "rate_per_s"
        va, vb = headline_value(a), headline_value(b)
        if va is None or vb is None or va == vb:
            continue
        change = (vb - va) / abs(va) if va else None
        out.append(ServerMove(series=key, kind=a.kind, stat=stat, first=va, last=vb,
                              change=None if change is None else round(change, 4)))
    out.sort(key=lambda m: (-(abs(m.change) if m.change is not None else float("inf")),
                            m.series))
    return out[:limit]


def turning_step(analysis: Analysis | None) -> int | None:
    """The step a ramp saturated at (its knee) or a stress profile broke at."""
    if isinstance(analysis, RampAnalysis) and analysis.knee is not None:
        return analysis.knee.step
    if isinstance(analysis, StressAnalysis) and analysis.breaking_point is not None:
        return analysis.breaking_point.step
    return None


def analyze_server(profile: ProfileResult, analysis: Analysis | None) -> ServerAnalysis | None:
    """``analysis.server`` for a profile with server metrics (None without any)."""
    steps = _steps(profile)
    if not steps:
        return None
    moves = moved(steps)
    point = turning_step(analysis)
    at = at_step(steps, point) if point is not None else None
    ceiling = first_ceiling(steps) if profile.kind in ("ramp", "stress", "search") else None
    chart = chart_series(profile, steps, moves)
    return ServerAnalysis(moved=tuple(moves), at=at, first_ceiling=ceiling, chart=tuple(chart),
                          headline=server_line(at, ceiling, profile.kind))


def chart_series(profile: ProfileResult, steps: Sequence[StageResult],
                 moved_list: Sequence[ServerMove], limit: int = CHART_LIMIT) -> list[str]:
    """The series a report charts beside the client's: queue/in-flight gauges first,
    then what moved most, then the others as the server listed them (a one-stage
    profile moves nothing); only series the time series holds."""
    charted = list(dict.fromkeys(k for p in profile.server_timeseries for k in p.values))
    queue = sorted(k for k, v in steps[-1].server_metrics.items()
                   if v.kind == GAUGE and QUEUE_RE.search(k.split("{", 1)[0]))
    picked = [k for k in [*queue, *(m.series for m in moved_list), *charted]
              if k in charted]
    return list(dict.fromkeys(picked))[:limit]


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


def server_line(at: ServerTurn | None, ceiling: Ceiling | None, kind: str) -> str:
    """One sentence: the queue at the turning point and the first ceiling."""
    parts = []
    if at is not None:
        where = "the saturation point" if kind == "ramp" else "the breaking point"
        said = []
        for key, g in sorted(at.gauges.items()):
            prev = at.before[key].mean if key in at.before else None
            said.append(f"{key} {_fmt(prev)} -> {_fmt(g.mean)} (max {_fmt(g.max)})"
                        if prev is not None else f"{key} {_fmt(g.mean)} (max {_fmt(g.max)})")
        parts.append(f"server at {where} (step {at.step}): " + ", ".join(said))
    if ceiling is not None:
        parts.append(f"first at its ceiling: {ceiling.series} = {ceiling.ceiling:g} "
                     f"from step {ceiling.step}")
    return "; ".join(parts)
