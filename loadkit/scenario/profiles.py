"""Profile -> Stages: what each profile kind means as blocks of constant load. Pure.

Where it sits: the runner calls ``compile_profile`` per profile and hands the
Stages to the engine, which never sees a profile's kind. A warm-up Stage (same
load as the first measured stage, ``warmup=True``, excluded from SLAs) comes
first when the profile's warm-up (or the scenario's) is above zero.

A stage with ``stability`` has no ``duration_s``: the engine runs it until its
windows agree or ``stability.max_duration_s`` (the profile's ``duration`` /
``stage_duration`` when ``max_duration`` is not given) has passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from loadkit.scenario.model import ProfileSpec, Scenario
from loadkit.scenario.plan import Stage


def _num(x: float) -> str:
    return f"{x:.6g}"


def rate_label(rate: float) -> str:
    return f"{_num(rate)} rps"


def _closed(c: int, batch: int, sweep: bool) -> str:
    return f"c={c} batch={batch}" if sweep else f"c={c}"


def _latency(p: ProfileSpec, batch: int) -> list[Stage]:
    c = p.concurrency or 1
    return [Stage(0, f"c={c}", concurrency=c, requests=p.requests, duration_s=p.duration_s,
                  batch_size=batch)]


def _throughput(p: ProfileSpec, batch: int) -> list[Stage]:
    sizes = p.batch_sizes or (batch,)
    c = p.concurrency or 1
    duration = None if p.stability else p.duration_s  # stability: until stable or its max
    return [Stage(0, _closed(c, b, len(sizes) > 1), concurrency=c, duration_s=duration,
                  batch_size=b, stability=p.stability) for b in sizes]


def _ramp(p: ProfileSpec, batch: int) -> list[Stage]:
    duration = None if p.stability else p.stage_duration_s
    return [Stage(0, f"c={c}", concurrency=c, duration_s=duration, batch_size=batch,
                  stability=p.stability) for c in p.concurrency_steps]


def _stress(p: ProfileSpec, batch: int) -> list[Stage]:
    stages = [Stage(0, rate_label(r), rate=r, duration_s=p.stage_duration_s,
                    max_in_flight=p.max_in_flight, batch_size=batch) for r in p.rate_steps]
    if p.recovery is not None:
        stages.append(Stage(0, f"recovery {rate_label(p.recovery.rate)}", rate=p.recovery.rate,
                            duration_s=p.recovery.duration_s, max_in_flight=p.max_in_flight,
                            batch_size=batch, always_run=True, role="recovery"))
    return stages


def _spike(p: ProfileSpec, batch: int) -> list[Stage]:
    assert p.rate is not None and p.spike is not None
    peak = p.rate * p.spike.multiplier

    def open_stage(label: str, rate: float, duration: float | None) -> Stage:
        return Stage(0, label, rate=rate, duration_s=duration, max_in_flight=p.max_in_flight,
                     batch_size=batch)

    return [open_stage(f"before {rate_label(p.rate)}", p.rate, p.before_s),
            open_stage(f"spike {rate_label(peak)}", peak, p.spike.duration_s),
            open_stage(f"after {rate_label(p.rate)}", p.rate, p.after_s)]


def _soak(p: ProfileSpec, batch: int) -> list[Stage]:
    if p.rate is not None:
        return [Stage(0, rate_label(p.rate), rate=p.rate, duration_s=p.duration_s,
                      max_in_flight=p.max_in_flight, batch_size=batch)]
    c = p.concurrency or 1
    return [Stage(0, f"c={c}", concurrency=c, duration_s=p.duration_s, batch_size=batch)]


def _constant_rate(p: ProfileSpec, batch: int) -> list[Stage]:
    assert p.rate is not None
    return [Stage(0, rate_label(p.rate), rate=p.rate, duration_s=p.duration_s,
                  max_in_flight=p.max_in_flight, batch_size=batch)]


def probe_stage(p: ProfileSpec, load: float, index: int, batch: int) -> Stage:
    """One capacity-search probe: ``load`` (a rate, or a concurrency) for ``stage_duration``."""
    assert p.search is not None
    if not p.search.integral:
        return Stage(index, f"probe {rate_label(load)}", rate=load, duration_s=p.stage_duration_s,
                     max_in_flight=p.max_in_flight, batch_size=batch, breakdown=p.breakdown,
                     role="probe")
    c = int(load)
    return Stage(index, f"probe c={c}", concurrency=c, duration_s=p.stage_duration_s,
                 batch_size=batch, breakdown=p.breakdown, role="probe")


def _search(p: ProfileSpec, batch: int) -> list[Stage]:
    """The first probe only: later probes are decided as the search runs (search_runner)."""
    assert p.search is not None
    return [probe_stage(p, p.search.start, 0, batch)]


COMPILERS: dict[str, Callable[[ProfileSpec, int], list[Stage]]] = {
    "latency": _latency,
    "throughput": _throughput,
    "ramp": _ramp,
    "stress": _stress,
    "spike": _spike,
    "soak": _soak,
    "constant-rate": _constant_rate,
    "search": _search,
}


def _warmup(first: Stage, seconds: float) -> Stage:
    load = rate_label(first.rate) if first.rate is not None else f"c={first.concurrency}"
    return replace(first, label=f"warm-up {load}", duration_s=seconds, requests=None,
                   warmup=True, stability=None, always_run=False, role="warmup")


def compile_profile(profile: ProfileSpec, scenario: Scenario) -> list[Stage]:
    """The Stages the engine runs for ``profile``, indexed from 0 (warm-up first).

    Every stage carries the profile's ``breakdown`` key (latency by input) and, for
    a streaming endpoint, its per-request ``slo`` (the profile's, else the
    scenario's): the only things of the profile besides its load the engine is told.
    """
    stages = COMPILERS[profile.kind](profile, scenario.request.batch_size)
    warmup_s = scenario.warmup_s if profile.warmup_s is None else profile.warmup_s
    if warmup_s > 0 and stages:
        stages.insert(0, _warmup(stages[0], warmup_s))
    slo = profile.slo if profile.slo is not None else scenario.slo
    return [replace(stage, index=i, breakdown=profile.breakdown, slo=slo)
            for i, stage in enumerate(stages)]
