"""The validated scenario as frozen values: Scenario, ProfileSpec and friends.

Where it sits: ``schema.py`` validates the YAML tree; ``build_scenario`` here turns
it into these values (units in names, SLA rules parsed, dataset path resolved
against the scenario file) and does the checks that need a field path across
fields. The runner, CLI and Locust bridge read only these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadkit.errors import ScenarioError
from loadkit.results.canary import CanaryConfig
from loadkit.results.compare import CompareThresholds
from loadkit.results.model import DEFAULT_RULE, SlaOrigin
from loadkit.results.search import SearchSpace
from loadkit.scenario import profile_schema as s
from loadkit.scenario.checks import (
    check_profiles,
    check_search_rules,
    check_sla_stages,
    check_template,
    rule_of,
)
from loadkit.scenario.fields import steps_of
from loadkit.scenario.gate_schema import check_canary_profile
from loadkit.scenario.kserve import V2_APIS, v2_path
from loadkit.scenario.llm_schema import DEFAULT_PATHS
from loadkit.scenario.plan import (
    Checks,
    MetricsSource,
    RequestSpec,
    Slo,
    Stability,
    StreamSpec,
)
from loadkit.scenario.schema import DatasetModel, ScenarioModel
from loadkit.scenario.telemetry_schema import trace_headers
from loadkit.scenario.streaming import check_slo_rules, check_streaming, slo_of, stream_spec
from loadkit.sla import Rule, parse_rule

DATASET_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
                   ".parquet": "parquet", ".pq": "parquet"}
DEFAULT_BODY = {"instances": "{{ rows }}"}   # the body when a dataset is given without one


@dataclass(frozen=True)
class StopWhen:
    """A stress sequence stops stepping up once a step reaches either limit."""

    error_rate: float | None = None        # fraction 0..1
    p99_ms: float | None = None


@dataclass(frozen=True)
class Recovery:
    rate: float                            # requests/s
    duration_s: float


@dataclass(frozen=True)
class Spike:
    multiplier: float
    duration_s: float


@dataclass(frozen=True)
class ProfileSpec:
    """One profile, every kind in one shape; fields a kind does not use stay None/empty."""

    name: str
    kind: str
    sla: tuple[Rule, ...] = ()             # global rules merged with the profile's own
    sla_origin: SlaOrigin = "scenario"     # scenario | default (no sla: anywhere) | none (sla: [])
    concurrency: int | None = None         # latency, throughput, soak (closed)
    concurrency_steps: tuple[int, ...] = ()  # ramp
    rate: float | None = None              # constant-rate, spike (base), soak (open)
    rate_steps: tuple[float, ...] = ()     # stress
    duration_s: float | None = None
    requests: int | None = None            # latency
    stage_duration_s: float | None = None  # ramp, stress
    batch_sizes: tuple[int, ...] = ()      # throughput sweep; empty: request.batch_size
    stability: Stability | None = None     # throughput, ramp
    stop_when: StopWhen | None = None      # stress
    recovery: Recovery | None = None       # stress
    spike: Spike | None = None             # spike
    before_s: float | None = None          # spike: steady time before the spike
    after_s: float | None = None           # spike: steady time after it
    window_s: float | None = None          # soak: drift window
    max_in_flight: int | None = None       # open model bound on concurrent requests
    warmup_s: float | None = None          # None: the scenario's warmup
    breakdown: str | None = None           # "payload_bytes" or a dataset column
    search: SearchSpace | None = None      # search: the range it probes (integral: closed)
    slo: Slo | None = None                 # streaming: per-request bounds (None: the scenario's)


@dataclass(frozen=True)
class DatasetSpec:
    path: Path                             # absolute
    shown: str                             # as written in the file (for messages)
    format: str                            # csv | jsonl | json (an array of objects) | parquet
    sample: int | None = None              # rows drawn once before the run; None: all
    seed: int = 0
    order: str = "random"                  # random | sequential
    columns: tuple[str, ...] = ()          # keep only these columns, in this order; empty: all
    missing: str = "null"                  # a row with a missing value: error | drop | null


@dataclass(frozen=True)
class RequestTemplate:
    """The request as the scenario describes it, before a target URL is known."""

    method: str = "POST"
    path: str = "/predict"
    headers: tuple[tuple[str, str], ...] = ()
    timeout_s: float = 5.0
    body: Any = None                       # JSON-able template (see template.py)
    batch_size: int = 1
    max_response_bytes: int = 16 * 1024 * 1024
    api: str = "http"                      # http | openai-chat | openai-completions
    model: str | None = None               # openai-*: the body's "model"
    max_tokens: int | str | None = None    # openai-*: a number or "{{ row.COL }}"
    stream: StreamSpec | None = None       # how a streamed answer is read (None: not streamed)
    follow_redirects: int = 10


@dataclass(frozen=True)
class Scenario:
    name: str
    target: str                            # http(s) URL or "mock"
    profiles: tuple[ProfileSpec, ...]
    request: RequestTemplate = field(default_factory=RequestTemplate)
    mock: dict[str, Any] = field(default_factory=dict)
    dataset: DatasetSpec | None = None
    checks: Checks = field(default_factory=Checks)
    warmup_s: float = 0.0
    fail_fast_s: float = 5.0               # stop when the first N s are >= 99% errors; 0: off
    readiness_path: str | None = None
    readiness_timeout_s: float = 30.0
    sla: tuple[Rule, ...] = ()             # global rules
    sla_origin: SlaOrigin = "scenario"     # scenario | default (no sla:) | none (sla: [])
    notes: tuple[str, ...] = ()            # what the command line changed (e.g. --sla)
    description: str | None = None
    source: Path | None = None             # the scenario file, when loaded from one
    compare: CompareThresholds | None = None   # the compare: block (None: not given)
    canary: CanaryConfig | None = None         # the canary: block (None: not given)
    server_metrics: tuple[MetricsSource, ...] = ()          # scraped during every profile
    server_timing: str | None = None       # record Server-Timing ("": total or the largest)
    traceparent: bool = False              # send a W3C traceparent (one trace per run)
    slo: Slo | None = None                 # streaming: per-request bounds for goodput

    def request_spec(self, target_url: str, insecure: bool = False) -> RequestSpec:
        """The RequestSpec the engine sends, once the real base URL is known."""
        return RequestSpec(
            target=target_url, method=self.request.method, path=self.request.path,
            headers=self.request.headers + trace_headers(self.traceparent),
            timeout_s=self.request.timeout_s,
            checks=self.checks, max_response_bytes=self.request.max_response_bytes,
            insecure=insecure, readiness_path=self.readiness_path, stream=self.request.stream,
            follow_redirects=self.request.follow_redirects, server_timing=self.server_timing)

    def profile(self, name: str) -> ProfileSpec:
        for p in self.profiles:
            if p.name == name:
                return p
        raise KeyError(name)

    def batch_sizes(self) -> tuple[int, ...]:
        """Every batch size a profile will send, sorted."""
        sizes = {b for p in self.profiles for b in (p.batch_sizes or (self.request.batch_size,))}
        return tuple(sorted(sizes))


def merge_rules(base: Iterable[Rule], extra: Iterable[Rule]) -> tuple[Rule, ...]:
    """``extra`` rules replace ``base`` rules with the same metric and operator.

    An ``abort: true`` rule is an early-stop guard, not the verdict rule, so it only
    replaces another abort rule (``error_rate < 5%`` with abort can sit beside the
    verdict rule ``error_rate < 1%``). Likewise a rule scoped to a stage only replaces
    a rule scoped to the same stage.
    """
    out = list(base)
    for rule in extra:
        key = (rule.metric, rule.op, rule.abort, rule.stage)
        same = [i for i, r in enumerate(out) if (r.metric, r.op, r.abort, r.stage) == key]
        if same:
            out[same[0]] = rule
            for i in reversed(same[1:]):
                del out[i]
        else:
            out.append(rule)
    return tuple(out)


def _stability(m: s.StabilityModel | None, fallback_s: float | None) -> Stability | None:
    if m is None:
        return None
    return Stability(windows=m.windows, window_s=m.window, tolerance=m.tolerance,
                     max_duration_s=m.max_duration or fallback_s or Stability.max_duration_s)


def sla_of(rules: tuple[Rule, ...], given: bool) -> tuple[tuple[Rule, ...], SlaOrigin]:
    """(rules, origin): no ``sla:`` anywhere is the default rule ``error_rate < 1%``
    (a failing service never passes silently); ``sla: []`` gates nothing, on purpose."""
    if rules:
        return rules, "scenario"
    if given:
        return (), "none"
    return (parse_rule(DEFAULT_RULE),), "default"


def _profile(m: Any, global_sla: tuple[Rule, ...], global_given: bool) -> ProfileSpec:
    rules, origin = sla_of(merge_rules(global_sla, [rule_of(e) for e in m.sla]),
                           global_given or "sla" in m.model_fields_set)
    common: dict[str, Any] = {
        "name": m.name or m.kind, "kind": m.kind,
        "sla": rules, "sla_origin": origin,
        "max_in_flight": m.max_in_flight, "warmup_s": m.warmup, "breakdown": m.breakdown,
        "slo": slo_of(m.slo)}
    if isinstance(m, s.LatencyProfile):
        return ProfileSpec(**common, concurrency=m.concurrency, requests=m.requests,
                           duration_s=m.duration)
    if isinstance(m, s.ThroughputProfile):
        sizes = tuple(steps_of(m.batch_size)) if m.batch_size is not None else ()
        return ProfileSpec(**common, concurrency=m.concurrency, duration_s=m.duration,
                           batch_sizes=tuple(dict.fromkeys(sizes)),
                           stability=_stability(m.stability, m.duration))
    if isinstance(m, s.RampProfile):
        return ProfileSpec(**common, concurrency_steps=steps_of(m.concurrency),
                           stage_duration_s=m.stage_duration,
                           stability=_stability(m.stability, m.stage_duration))
    if isinstance(m, s.StressProfile):
        stop = m.stop_when
        return ProfileSpec(
            **common, rate_steps=tuple(float(r) for r in steps_of(m.rate)),
            stage_duration_s=m.stage_duration,
            stop_when=StopWhen(stop.error_rate, stop.p99) if stop else None,
            recovery=Recovery(m.recovery.rate, m.recovery.duration) if m.recovery else None)
    if isinstance(m, s.SpikeProfile):
        return ProfileSpec(**common, rate=m.rate, spike=Spike(m.spike.multiplier, m.spike.duration),
                           before_s=m.before, after_s=m.after)
    if isinstance(m, s.SoakProfile):
        window = m.window if m.window is not None else min(60.0, m.duration / 3)
        return ProfileSpec(**common, rate=m.rate, concurrency=m.concurrency,
                           duration_s=m.duration, window_s=window)
    if isinstance(m, s.SearchProfile):
        rng = m.rate if m.rate is not None else m.concurrency
        assert rng is not None
        return ProfileSpec(**common, stage_duration_s=m.stage_duration, search=SearchSpace(
            start=float(rng.start), max=float(rng.max), precision=m.precision,
            factor=rng.factor, integral=m.rate is None, max_probes=m.max_probes,
            repeats=m.repeats))
    assert isinstance(m, s.ConstantRateProfile)
    return ProfileSpec(**common, rate=m.rate, duration_s=m.duration)


def _dataset(m: DatasetModel, base_dir: Path) -> DatasetSpec:
    path = Path(m.path).expanduser()
    if not path.is_absolute():
        path = (base_dir / path).resolve()
    fmt = m.format or DATASET_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ScenarioError("dataset.format", f"cannot tell the format of {m.path!r} from its "
                            "extension; set format: csv, jsonl, json or parquet")
    return DatasetSpec(path=path, shown=m.path, format=fmt, sample=m.sample, seed=m.seed,
                       order=m.order, columns=tuple(m.columns or ()), missing=m.missing)


def build_scenario(m: ScenarioModel, base_dir: Path, default_name: str,
                   source: Path | None = None) -> Scenario:
    """Frozen Scenario from a validated model; raises ScenarioError for cross-field problems."""
    global_given = "sla" in m.model_fields_set
    global_sla = merge_rules((), [rule_of(e) for e in m.sla])
    profiles = tuple(_profile(p, global_sla, global_given) for p in m.profiles)
    global_sla, global_origin = sla_of(global_sla, global_given)
    check_profiles(profiles)
    check_canary_profile(m.canary, tuple(p.name for p in profiles))
    dataset = _dataset(m.dataset, base_dir) if m.dataset is not None else None
    body = m.request.body
    api = m.request.api
    if (body is None and dataset is not None and m.request.method not in ("GET", "HEAD")
            and api == "http"):
        body = DEFAULT_BODY
    path = m.request.path
    if api in DEFAULT_PATHS and "path" not in m.request.model_fields_set:
        path = DEFAULT_PATHS[api]
    json_has = tuple(m.checks.json_has)
    if api in V2_APIS:
        if "path" not in m.request.model_fields_set:
            path = v2_path(m.request.model)
        json_has = json_has or ("outputs",)        # an answer without outputs answered nothing
    stream = stream_spec(api, m.request.stream, m.request.tokenizer, base_dir)
    request = RequestTemplate(
        method=m.request.method, path=path,
        headers=tuple(m.request.headers.items()), timeout_s=m.request.timeout, body=body,
        batch_size=m.request.batch_size, max_response_bytes=m.request.max_response_bytes,
        api=api, model=m.request.model, max_tokens=m.request.max_tokens, stream=stream,
        follow_redirects=m.request.follow_redirects)
    scenario = Scenario(
        name=m.name or default_name, target=m.target, profiles=profiles, request=request,
        mock=dict(m.mock or {}), dataset=dataset,
        checks=Checks(status=tuple(m.checks.status), json_has=json_has,
                      body_contains=tuple(m.checks.body_contains)),
        warmup_s=m.warmup, fail_fast_s=m.fail_fast, readiness_path=m.readiness.path if m.readiness else None,
        readiness_timeout_s=m.readiness.timeout if m.readiness else 30.0, sla=global_sla,
        sla_origin=global_origin,
        description=m.description, source=source,
        compare=m.compare.thresholds() if m.compare is not None else None,
        canary=m.canary.config() if m.canary is not None else None, slo=slo_of(m.slo),
        server_metrics=tuple(src.source() for src in m.server_metrics or ()),
        server_timing=m.server_timing.metric if m.server_timing is not None else None,
        traceparent=m.traceparent)
    check_streaming(m, scenario)
    check_slo_rules(m, scenario)
    check_template(scenario)
    check_search_rules(m, scenario)
    check_sla_stages(m, scenario)
    return scenario
