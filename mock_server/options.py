"""One set of mock-server options, read from a command line, a preset or a mapping.

``python -m mock_server``, ``loadkit mock-server`` and a scenario's ``mock:``
block all use the same option names (dashes or underscores): this module
turns any of them into one frozen ``MockOptions``. Precedence: built-in
defaults < ``preset`` < explicit options. Every option takes a value
(``--name VALUE``; there are no bare flags), so a mapping becomes a command
line by ``--{key with dashes} {value}`` — see ``to_argv``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, NoReturn

from mock_server.faults import FaultRates, Stall
from mock_server.latency import LatencyModel
from mock_server.llm_model import LlmSpec, Schedule
from mock_server.units import parse_bytes, parse_count, parse_duration_s, parse_fraction


@dataclass(frozen=True)
class MockOptions:
    """Everything that shapes the server's behaviour; defaults are a fast, healthy server."""

    host: str = "127.0.0.1"
    port: int = 0  # 0 = a free port chosen by the OS
    preset: str | None = None
    latency: LatencyModel = field(default_factory=lambda: LatencyModel("fixed", 0.0))
    per_row_s: float = 0.0
    seed: int = 0
    capacity: int = 0  # concurrent inference slots; 0 = unlimited
    queue: int | None = None  # requests waiting for a slot; None = unbounded
    retry_after_s: float = 1.0
    faults: FaultRates = field(default_factory=FaultRates)
    hang_s: float = 3600.0
    trickle_s: float = 2.0
    large_body_bytes: int = 4_000_000
    stall: Stall | None = None
    cold_start_s: float = 0.0
    warmup_requests: int = 0
    warmup_extra_s: float = 0.1
    model_version: str = "v1"
    predictions_shift: float = 0.0
    # LLM mode (/v1/chat/completions, /v1/completions): see llm_model.py
    llm: LlmSpec = field(default_factory=LlmSpec)
    llm_schedule: Schedule | None = None
    llm_model: str = "mock-llm"


def _host(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a host name or address, got {value!r}")
    return value.strip()


def _port(value: Any) -> int:
    port = parse_count(value)
    if port > 65535:
        raise ValueError(f"{port} is not a TCP port (0..65535)")
    return port


def _queue(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().lower() in ("unbounded", "none", "inf"):
        return None
    return parse_count(value)


def _version(value: Any) -> str:
    text = str(value).strip() if isinstance(value, (str, int, float)) else ""
    if not text or not text.isprintable() or len(text) > 64:
        raise ValueError(f"expected a short printable version label, got {value!r}")
    return text


def _preset(value: Any) -> str:
    if value not in PRESETS:
        raise ValueError(f"unknown preset {value!r} (choose from {', '.join(PRESETS)})")
    return str(value)


def _step(value: Any) -> tuple[float, float]:
    """"8ms..16ms" (decode step at batch 1 .. at a full batch) or one duration for both."""
    text = str(value)
    lo, sep, hi = text.partition("..")
    a = parse_duration_s(lo.strip() if sep else value)
    b = parse_duration_s(hi.strip()) if sep else a
    if a <= 0 or b < a:
        raise ValueError(f"{text!r}: need 0 < step at batch 1 <= step at a full batch")
    return (a, b)


def _model_name(value: Any) -> str:
    text = str(value).strip()
    if not text or not text.isprintable() or '"' in text or len(text) > 128:
        raise ValueError(f"expected a short printable model name, got {value!r}")
    return text


@dataclass(frozen=True)
class _Opt:
    target: str  # MockOptions field, or "faults.<kind>" for a fault rate
    parse: Callable[[Any], Any]
    metavar: str
    help: str


# Option name (CLI spelling, without "--") -> where it goes and how it is read.
OPTIONS: dict[str, _Opt] = {
    "host": _Opt("host", _host, "ADDR", "address to bind (default 127.0.0.1)"),
    "port": _Opt("port", _port, "PORT", "port to bind; 0 picks a free one (default 0)"),
    "preset": _Opt("preset", _preset, "NAME", "named bundle of options; explicit options win"),
    "latency": _Opt("latency", LatencyModel.parse, "MODEL",
                    "service time: fixed:20ms | uniform:5ms:15ms | lognormal:p50=10ms,p99=80ms"),
    "per-row": _Opt("per_row_s", parse_duration_s, "DUR", "extra service time per instance row"),
    "seed": _Opt("seed", parse_count, "N", "seed for latency and fault draws (default 0)"),
    "capacity": _Opt("capacity", parse_count, "K", "concurrent inference slots; 0 = unlimited"),
    "queue": _Opt("queue", _queue, "Q",
                  "requests that may wait for a slot; beyond -> 503 (default unbounded)"),
    "retry-after": _Opt("retry_after_s", parse_duration_s, "DUR", "Retry-After on 503s (default 1s)"),
    "error-rate": _Opt("faults.error", parse_fraction, "F", "fraction answered HTTP 500"),
    "unavailable-rate": _Opt("faults.unavailable", parse_fraction, "F", "fraction answered 503"),
    "reset-rate": _Opt("faults.reset", parse_fraction, "F", "fraction whose connection is reset"),
    "hang-rate": _Opt("faults.hang", parse_fraction, "F", "fraction never answered"),
    "hang": _Opt("hang_s", parse_duration_s, "DUR", "how long a hung request waits (default 1h)"),
    "malformed-rate": _Opt("faults.malformed", parse_fraction, "F", "fraction given invalid JSON"),
    "slow-body-rate": _Opt("faults.slow_body", parse_fraction, "F", "fraction whose body trickles"),
    "trickle": _Opt("trickle_s", parse_duration_s, "DUR", "time a slow body takes (default 2s)"),
    "large-body-rate": _Opt("faults.large_body", parse_fraction, "F", "fraction given a huge body"),
    "large-body-bytes": _Opt("large_body_bytes", parse_bytes, "SIZE",
                             "size of a large body (default 4MB)"),
    "stall": _Opt("stall", Stall.parse, "SPEC", "pause all /predict: 1s@every:5s or 1s@at:3s"),
    "cold-start": _Opt("cold_start_s", parse_duration_s, "DUR",
                       "/ready and /predict answer 503 for this long after start"),
    "warmup-requests": _Opt("warmup_requests", parse_count, "N",
                            "the first N requests are slower (default 0)"),
    "warmup-extra": _Opt("warmup_extra_s", parse_duration_s, "DUR",
                         "extra latency of the first request, decaying to 0 (default 100ms)"),
    "model-version": _Opt("model_version", _version, "LABEL", "X-Model-Version (default v1)"),
    "predictions-shift": _Opt("predictions_shift", parse_fraction, "F",
                              "fraction of inputs whose prediction differs from the true model"),
    "llm-slots": _Opt("llm.slots", lambda v: parse_count(v, 1), "K",
                      "LLM mode: sequences decoded together (continuous batching; default 16)"),
    "llm-prefill": _Opt("llm.prefill_base_s", parse_duration_s, "DUR",
                        "LLM mode: prefill time of a prompt, before its tokens (default 10ms)"),
    "llm-prefill-per-token": _Opt("llm.prefill_per_token_s", parse_duration_s, "DUR",
                                  "LLM mode: extra prefill time per prompt token (default 100us)"),
    "llm-step": _Opt("llm.step_s", _step, "A..B",
                     "LLM mode: decode step at batch 1 .. at a full batch (default 8ms..16ms)"),
    "llm-output-tokens": _Opt("llm.output_tokens", lambda v: parse_count(v, 1), "N",
                              "LLM mode: tokens generated when max_tokens is absent (default 64)"),
    "llm-queue": _Opt("llm.queue", _queue, "Q",
                      "LLM mode: sequences that may wait for a slot; beyond -> 503 (unbounded)"),
    "llm-kv-tokens": _Opt("llm.kv_tokens", lambda v: parse_count(v, 1), "N",
                          "LLM mode: KV-cache capacity in tokens, for the usage gauge"),
    "llm-schedule": _Opt("llm_schedule", Schedule.parse, "SPEC",
                         "LLM mode, deterministic: ttft=80ms*90,600ms*10;gap=8ms;tokens=20"),
    "llm-model": _Opt("llm_model", _model_name, "NAME", "LLM mode: the model name (mock-llm)"),
}

# Named bundles, written as a user would write a mock: block.
PRESETS: dict[str, dict[str, str]] = {
    "fast": {"latency": "lognormal:p50=2ms,p99=8ms"},
    "slow-tail": {"latency": "lognormal:p50=20ms,p99=400ms", "capacity": "32"},
    "flaky": {
        "latency": "lognormal:p50=10ms,p99=60ms",
        "error-rate": "3%",
        "unavailable-rate": "2%",
        "reset-rate": "1%",
        "malformed-rate": "1%",
    },
    "overloaded": {"latency": "fixed:25ms", "capacity": "4", "queue": "16"},
    "cold-start": {
        "latency": "lognormal:p50=10ms,p99=50ms",
        "cold-start": "5s",
        "warmup-requests": "50",
        "warmup-extra": "200ms",
    },
}


def normalize_key(key: str) -> str:
    """``per_row`` / ``per-row`` / ``--per-row`` -> ``per-row``."""
    return str(key).strip().lstrip("-").replace("_", "-").lower()


def from_mapping(mapping: Mapping[str, Any]) -> MockOptions:
    """Validate a scenario's ``mock:`` block (or python kwargs) into MockOptions.

    Raises ValueError naming the offending key: an unknown option, or a value
    that does not parse.
    """
    values: dict[str, Any] = {}
    for key, value in mapping.items():
        name = normalize_key(key)
        if name not in OPTIONS:
            raise ValueError(f"unknown mock option {key!r}")
        values[name] = value
    return _build(values)


def to_argv(mapping: Mapping[str, Any]) -> list[str]:
    """The command-line equivalent of a mapping (what a launcher passes to the subprocess)."""
    argv: list[str] = []
    for key, value in mapping.items():
        argv += [f"--{normalize_key(key)}", "unbounded" if value is None else str(value)]
    return argv


def _build(values: Mapping[str, Any]) -> MockOptions:
    """defaults < preset < explicit values; then cross-field checks."""
    merged: dict[str, Any] = {}
    if "preset" in values:
        merged.update(PRESETS[_checked("preset", values["preset"])])
    merged.update(values)
    top: dict[str, Any] = {}
    rates: dict[str, float] = {}
    llm: dict[str, Any] = {}
    for name, raw in merged.items():
        parsed = _checked(name, raw)
        target = OPTIONS[name].target
        if target.startswith("faults."):
            rates[target.removeprefix("faults.")] = parsed
        elif target.startswith("llm."):
            llm[target.removeprefix("llm.")] = parsed
        else:
            top[target] = parsed
    top["faults"] = FaultRates(**rates)  # ValueError when the rates add up to more than 1
    top["llm"] = LlmSpec(**llm)
    return replace(MockOptions(), **top)


def _checked(name: str, raw: Any) -> Any:
    try:
        return OPTIONS[name].parse(raw)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


class _OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad usage as one stderr line and exit 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    presets = "\n".join(
        f"  {name:<11} " + " ".join(f"--{k} {v}" for k, v in bundle.items())
        for name, bundle in PRESETS.items()
    )
    parser = _OneLineParser(
        prog="mock_server",
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="A realistic ML model endpoint for rehearsing load tests (iris classifier).\n"
        "The first stdout line is 'LISTENING http://HOST:PORT'; SIGINT/SIGTERM stop it.",
        epilog=f"presets (explicit options override them):\n{presets}\n\n"
        "Stall times count from the first /predict; 'every:P' stalls at P, 2P, ...\n"
        "The same options, with dashes or underscores, form a scenario's mock: block.",
    )
    for name, opt in OPTIONS.items():
        kwargs: dict[str, Any] = {"metavar": opt.metavar, "help": opt.help,
                                  "default": argparse.SUPPRESS}
        if name == "preset":
            kwargs["choices"] = list(PRESETS)
        parser.add_argument(f"--{name}", dest=name.replace("-", "_"), **kwargs)
    parser.add_argument("--dry-run", action="store_true", default=argparse.SUPPRESS,
                        help="validate the options, print them as JSON, exit 0 (or 2)")
    return parser


def parse_args(argv: list[str] | None = None) -> tuple[MockOptions, bool]:
    """Options from a command line, and whether --dry-run was asked; exits 2 on bad usage."""
    parser = build_parser()
    ns = vars(parser.parse_args(sys.argv[1:] if argv is None else argv))
    dry_run = bool(ns.pop("dry_run", False))
    try:
        options = _build({normalize_key(k): v for k, v in ns.items()})
    except ValueError as exc:
        parser.error(f"--{exc}" if str(exc).split(":")[0] in OPTIONS else str(exc))
    return options, dry_run


def describe(options: MockOptions) -> dict[str, Any]:
    """A JSON-friendly view of the resolved options (for --dry-run and logs)."""
    out: dict[str, Any] = {}
    for f in fields(options):
        value = getattr(options, f.name)
        if isinstance(value, LatencyModel | Stall | Schedule):
            value = value.spec
        elif isinstance(value, FaultRates | LlmSpec):
            value = {k.name: getattr(value, k.name) for k in fields(value)}
        out[f.name] = value
    return out
