"""What the store keeps of a RunResult: figures per profile and stage, provenance, identity.

First step of the history flow (result.json -> figures -> store). Figures are
read from the RunResult through its model only (never from the JSON text), so a
``loadkit.result/v1`` file and a v2 one give the same names: a stage's
``latency_ms`` is what latency rules judge in either. Streaming keys (``ttft_ms``,
``itl_ms``, ``tpot_ms``, ``goodput_rps``, ...) are read where a stage or summary
has them and skipped where it does not.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loadkit.results import codec
from loadkit.results.model import LatencySummary, ProfileResult, RunResult, StageResult

LATENCY_STATS = ("p50", "p90", "p95", "p99", "p999", "max", "mean")
STREAM_LATENCIES = ("ttft", "itl", "tpot")
STREAM_RATES = {"goodput_rps": "goodput", "output_tokens_per_s": "output_tokens_per_s",
                "slo_attainment": "slo_attainment"}


@dataclass(frozen=True)
class Figure:
    """One number of one run: ``stage`` None is the profile's summary of its measured stages."""

    profile: str
    stage: int | None
    metric: str
    value: float


@dataclass(frozen=True)
class Provenance:
    """Where a run came from: the commit and branch it measured and the machine that ran it."""

    commit: str | None = None
    branch: str | None = None
    runner: str | None = None


def digest(result: RunResult) -> str:
    """The run's identity: a hash of its canonical result.json (the same run added twice,
    re-indented or not, is the same run)."""
    return hashlib.sha256(codec.dumps(result).encode("utf-8")).hexdigest()


def _latency(prefix: str, summary: Any) -> dict[str, float]:
    if not isinstance(summary, LatencySummary):
        return {}
    return {f"{prefix}{stat}": float(getattr(summary, stat)) for stat in LATENCY_STATS}


def _stream(holder: Any) -> dict[str, float]:
    """TTFT/ITL/TPOT statistics and token rates where ``holder`` (a stage or summary) has them."""
    out: dict[str, float] = {}
    for name in STREAM_LATENCIES:
        out.update(_latency(f"{name}_", getattr(holder, f"{name}_ms", None)))
    for attr, metric in STREAM_RATES.items():
        value = getattr(holder, attr, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[metric] = float(value)
    return out


def stage_figures(stage: StageResult) -> dict[str, float]:
    out = _latency("", stage.latency_ms)
    out.update(throughput=float(stage.throughput_rps), error_rate=float(stage.error_rate),
               requests=float(stage.requests))
    out.update(_stream(stage))
    return out


def profile_figures(profile: ProfileResult) -> dict[str, float]:
    """The profile's summary figures; streaming ones from its summary when it has them, else
    from its one measured stage (a mean of several stages' percentiles would be wrong)."""
    s = profile.summary
    out = _latency("", s.latency_ms)
    out.update(throughput=float(s.throughput_rps), error_rate=float(s.error_rate),
               requests=float(s.requests))
    stream = _stream(s)
    measured = profile.measured_stages()
    if not stream and len(measured) == 1:
        stream = _stream(measured[0])
    out.update(stream)
    return out


def figures(result: RunResult) -> list[Figure]:
    """Every figure the store keeps of ``result``: each profile's summary and each stage."""
    out: list[Figure] = []
    for p in result.profiles:
        out += [Figure(p.name, None, m, v) for m, v in profile_figures(p).items()]
        for st in p.stages:
            out += [Figure(p.name, st.index, m, v) for m, v in stage_figures(st).items()]
    return out


def _first(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def provenance(commit: str | None = None, branch: str | None = None, runner: str | None = None,
               env: Mapping[str, str] | None = None) -> Provenance:
    """The given commit/branch/runner, each missing one read from the CI's environment
    (GitHub Actions, GitLab CI); outside CI what is not given stays unknown."""
    env = os.environ if env is None else env
    if env.get("GITHUB_ACTIONS") == "true":
        ci = Provenance(
            commit=_first(env, "GITHUB_SHA"),
            # a pull request's branch is its head ref; GITHUB_REF_NAME is then "123/merge"
            branch=_first(env, "GITHUB_HEAD_REF", "GITHUB_REF_NAME"),
            runner=_first(env, "RUNNER_NAME") and f"github-actions:{env['RUNNER_NAME'].strip()}",
        )
    elif env.get("GITLAB_CI") == "true":
        ci = Provenance(
            commit=_first(env, "CI_COMMIT_SHA"),
            branch=_first(env, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_BRANCH",
                          "CI_COMMIT_REF_NAME"),
            runner=(r := _first(env, "CI_RUNNER_DESCRIPTION", "CI_RUNNER_ID")) and f"gitlab:{r}",
        )
    else:
        ci = Provenance()
    return Provenance(commit=commit or ci.commit, branch=branch or ci.branch,
                      runner=runner or ci.runner)
