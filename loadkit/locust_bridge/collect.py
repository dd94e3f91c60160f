"""From Locust's request events to loadkit's exact record, and back over the wire (pure).

Where it sits: ``listener`` calls these for every request (latency and error kind)
and when a worker ships its stages to the master (``encode_part``/``decode_part``:
plain dicts of the same dataclasses result.json holds, histograms in the standard
HdrHistogram encoding, so the master merges them exactly).

Locust keeps its own response times rounded to about two significant digits
(``locust.stats.bucket_response_time``); ``bucket_3sig`` is the replacement the
bridge installs so Locust's own table is as precise as loadkit's histograms (three
significant digits, sub-millisecond values kept).
"""

from __future__ import annotations

import math
import socket
from collections.abc import Mapping
from typing import Any

from loadkit.results.codec import from_data, to_data
from loadkit.results.model import ERROR_KINDS, ProfileResult

PART_VERSION = 1


def latency_us(response_time_ms: float | None) -> int:
    """Locust reports float milliseconds (perf_counter based); loadkit records whole µs."""
    if response_time_ms is None or math.isnan(response_time_ms):
        return 1
    return max(1, round(response_time_ms * 1000.0))


def error_kind_of(exc: BaseException | str | None) -> str:
    """loadkit's error kind for what Locust reports as a failure.

    The bridge's user marks every failure with the kind itself
    (``response.failure(kind)``), so the message usually *is* the kind; raw
    transport exceptions (from other code paths) are classified by type.
    """
    if exc is None:
        return "other"
    text = str(exc).strip()
    if text in ERROR_KINDS:
        return text
    if isinstance(exc, str):
        return "other"
    return transport_error_kind(exc)


def transport_error_kind(exc: BaseException) -> str:
    """Classify a connection-level exception the way the engine does."""
    if isinstance(exc, (TimeoutError, socket.timeout)) or "timeout" in type(exc).__name__.lower():
        return "timeout"
    if isinstance(exc, (ConnectionRefusedError, socket.gaierror)):
        return "connect"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return "reset"
    if isinstance(exc, OSError):
        return "connect"
    name = type(exc).__name__.lower()
    if "timeout" in name:
        return "timeout"
    return "other"


def bucket_3sig(response_time_ms: float) -> float | int:
    """Round a response time to 3 significant digits (Locust's default keeps ~2).

    Whole milliseconds from 100 ms up (as Locust does), fractions below, so a
    2.37 ms median is shown as 2.37, not 2. Keys stay bounded (~3,000 distinct).
    """
    if response_time_ms <= 0:
        return 0
    digits = 2 - math.floor(math.log10(response_time_ms))
    if digits <= 0:
        return round(response_time_ms, digits)  # int-valued float for digits <= 0
    return round(response_time_ms, digits)


def encode_part(profile: ProfileResult, *, node: str, users_peak: int = 0,
                final: bool = True) -> dict[str, Any]:
    """A worker's stages as plain data for a Locust message (msgpack-safe)."""
    return {"v": PART_VERSION, "node": node, "final": final, "users_peak": users_peak,
            "profile": to_data(profile)}


def decode_part(data: Mapping[str, Any]) -> tuple[str, ProfileResult, int]:
    """(node, profile, users_peak) from ``encode_part``'s data."""
    if data.get("v") != PART_VERSION:
        raise ValueError(f"unknown loadkit part version {data.get('v')!r}")
    return str(data["node"]), from_data(ProfileResult, data["profile"]), int(data["users_peak"])
