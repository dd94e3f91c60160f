"""What the engine is given: Stages, the request to send, and pre-encoded payloads.

These are the plain values a validated Scenario compiles to. The engine knows
only these (never a profile's name or kind), so profiles stay a scenario concern
and the engine stays small.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urljoin

from loadkit.scenario.json_has import has_paths, missing_key


@dataclass(frozen=True)
class Stability:
    """Run a stage until its last ``windows`` windows agree within ``tolerance``."""

    windows: int = 3
    window_s: float = 5.0
    tolerance: float = 0.10
    max_duration_s: float = 120.0


@dataclass(frozen=True)
class Slo:
    """Per-request bounds (ms) of a streaming endpoint; a request meeting all of them is good.

    ``itl_ms`` bounds every gap of the request (its longest), ``tpot_ms`` its mean
    time per output token, ``latency_ms`` its time to the last byte.
    """

    ttft_ms: float | None = None
    itl_ms: float | None = None
    tpot_ms: float | None = None
    latency_ms: float | None = None


@dataclass(frozen=True)
class StreamSpec:
    """How the engine reads a streamed answer (see ``engine/stream_read.py``).

    ``format``: ``openai`` (SSE of OpenAI chunks; ``[DONE]`` ends a complete stream),
    ``sse`` (each data event one chunk) or ``chunks`` (each body piece one chunk).
    ``streamed`` False is an OpenAI call with ``stream: false`` (one JSON body: tokens
    from its usage, no TTFT). ``tokenizer``: a local tokenizer.json to count tokens
    when the server sends no usage.
    """

    format: str = "openai"
    streamed: bool = True
    tokenizer: str | None = None

    @property
    def need_done(self) -> bool:
        return self.format == "openai" and self.streamed


@dataclass(frozen=True)
class Stage:
    """One block of constant load: closed (``concurrency``) or open (``rate``).

    Exactly one of ``concurrency`` / ``rate`` is set, and at least one of
    ``duration_s`` / ``requests`` (whichever comes first ends the stage).
    """

    index: int
    label: str
    concurrency: int | None = None
    rate: float | None = None
    duration_s: float | None = None
    requests: int | None = None
    warmup: bool = False
    max_in_flight: int | None = None       # open model: bound on concurrent requests
    batch_size: int = 1                    # which PayloadSet to draw bodies from
    stability: Stability | None = None
    always_run: bool = False               # run even after a stop condition ended the sequence
                                           # (a stress profile's recovery stage)
    breakdown: str | None = None           # record latency per input bucket of this key (the
                                           # PayloadSet's InputBreakdown of the same key)
    slo: Slo | None = None                 # streaming: per-request bounds for goodput
    role: str = ""                         # result role; "": warmup or measured by ``warmup``

    @property
    def is_open(self) -> bool:
        return self.rate is not None


@dataclass(frozen=True)
class Checks:
    """What makes a response good; a response that fails is a ``check_failed`` error."""

    status: tuple[int, ...] = ()           # empty: any 2xx/3xx
    json_has: tuple[str, ...] = ()         # dotted keys that must be present in a JSON body
    body_contains: tuple[str, ...] = ()

    def failure(self, status: int, body: bytes) -> str | None:
        """The error kind of a response, or None when it is good.

        Status classes come first (``http_4xx`` / ``http_5xx``) unless the scenario
        explicitly allows that status; then body checks give ``check_failed``.
        """
        if self.status:
            if status not in self.status:
                if status >= 500:
                    return "http_5xx"
                if status >= 400:
                    return "http_4xx"
                return "check_failed"
        elif status >= 500:
            return "http_5xx"
        elif status >= 400:
            return "http_4xx"
        for needle in self._needles:
            if needle not in body:
                return "check_failed"
        if self.json_has and not has_paths(body, self._paths):
            return "check_failed"
        return None

    def explain(self, status: int, body: bytes) -> str:
        """Why ``failure`` refused this response, in words (``json_has predictions
        missing``, ``status 302, expected 200``). Only ever called on the error path,
        for the first failure of each kind in a stage: the reports name the check that
        failed, not just that one did."""
        if self.status and status not in self.status:
            return f"status {status}, expected {', '.join(str(c) for c in self.status)}"
        if not self.status and status >= 400:
            return f"status {status}"
        for needle, text in zip(self._needles, self.body_contains, strict=True):
            if needle not in body:
                return f"body_contains {text!r} missing"
        if self.json_has:
            return f"json_has {missing_key(body, self.json_has)}"
        return f"status {status}"

    @property
    def reads_body(self) -> bool:
        """True when a response's body is inspected (work worth timing)."""
        return bool(self.json_has or self.body_contains)

    @cached_property
    def _needles(self) -> tuple[bytes, ...]:
        return tuple(n.encode() for n in self.body_contains)

    @cached_property
    def _paths(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(key.split(".")) for key in self.json_has)


@dataclass(frozen=True)
class RequestSpec:
    """The request every payload is sent as; header values are secrets, never reported."""

    target: str                            # base URL, e.g. http://127.0.0.1:8080
    method: str = "POST"
    path: str = "/predict"
    headers: tuple[tuple[str, str], ...] = ()
    timeout_s: float = 5.0
    checks: Checks = field(default_factory=Checks)
    max_response_bytes: int = 16 * 1024 * 1024
    insecure: bool = False
    readiness_path: str | None = None
    stream: StreamSpec | None = None       # a streaming endpoint: read and time it token by token
    follow_redirects: int = 10             # redirects one request may follow (0: report the 3xx)
    server_timing: str | None = None       # record Server-Timing durations ("": total or the
                                           # largest entry; else that entry); None: off

    @property
    def url(self) -> str:
        return self.target.rstrip("/") + self.path


@dataclass(frozen=True)
class InputBreakdown:
    """Each body's input key and its quantile bucket, for latency-by-input.

    Computed before the run (``scenario/breakdown.py``). ``bodies`` repeats the
    PayloadSet's bodies (same objects, no copy) because a generator process gets
    a slice of the PayloadSet's bodies, not of this: the engine finds a body's
    bucket by its content, which survives any slicing.
    """

    key: str                               # the profile's breakdown: "payload_bytes" or a column
    measure: str                           # what the key measures: "payload_bytes", "len(text)"
    unit: str                              # "B" for payload_bytes, else ""
    ranges: tuple[tuple[float, float], ...]  # each bucket's (lowest, highest) key, lowest first
    labels: tuple[str, ...]                # e.g. "payload_bytes 96–120"
    keys: tuple[float, ...]                # per body (NaN: no value, in no bucket)
    buckets: tuple[int, ...]               # per body: its bucket (-1: none)
    bodies: tuple[bytes, ...] = field(default=(), repr=False)

    def bucket_of_body(self) -> dict[bytes, int]:
        """body -> bucket (a repeated body has one key: the same rows give the same bytes)."""
        return dict(zip(self.bodies, self.buckets, strict=True))


@dataclass(frozen=True)
class PayloadSet:
    """Request bodies for one batch size, encoded once before the run."""

    batch_size: int
    bodies: tuple[bytes, ...]
    content_type: str = "application/json"
    payload_bytes: tuple[int, ...] = ()    # len of each body (for latency-by-input breakdown)
    breakdowns: tuple[InputBreakdown, ...] = ()  # one per breakdown key a profile asks for
    input_tokens: tuple[int, ...] = ()     # streaming with a tokenizer: each body's prompt tokens

    def __len__(self) -> int:
        return len(self.bodies)

    def breakdown(self, key: str) -> InputBreakdown | None:
        for b in self.breakdowns:
            if b.key == key:
                return b
        return None


@dataclass(frozen=True)
class MetricsSource:
    """One Prometheus endpoint to scrape during the run (``server_metrics:``; see
    ``loadkit.telemetry``). Scrapes go through their own client: never load."""

    url: str                               # relative to the target ("/metrics") or absolute
    interval_s: float = 1.0
    timeout_s: float = 1.0                 # its own: a slow source never delays the load
    include: tuple[str, ...] = ()          # regexes on series/family names; empty: every one
    headers: tuple[tuple[str, str], ...] = ()   # e.g. an auth token; never written anywhere
    max_series: int = 500

    def resolve(self, target: str) -> str:
        """The absolute URL (a relative one is taken against the target's host)."""
        return urljoin(target, self.url)
