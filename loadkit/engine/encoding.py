"""Compressed answers, the same on both transports.

Neither transport asks for compression unless the scenario does (aiohttp's own
``Accept-Encoding: gzip, deflate`` is suppressed), so both measure the same bytes
on the wire. A scenario that sends ``Accept-Encoding: gzip`` (or deflate) gets
answers decoded here, with zlib, after the last byte's stamp: the server's
latency ends at its last byte, and the decoding is client work, timed apart
(``health.decompress_mean_us``) and counted with the checks as work that holds
the generator's loop. A decoded body is capped by ``request.max_response_bytes``
as a plain one is (``too_large``); a body that does not decode is ``protocol``.
"""

from __future__ import annotations

import zlib
from time import perf_counter_ns

from loadkit.engine.redirects import CURRENT_TALLY
from loadkit.engine.transport import TransportError
from loadkit.results import kinds

DECODED = frozenset({"gzip", "x-gzip", "deflate", "identity"})


def asked_codings(headers: tuple[tuple[str, str], ...]) -> tuple[str, ...] | None:
    """The codings the scenario's ``Accept-Encoding`` names (None: it sends none)."""
    for name, value in headers:
        if name.lower() == "accept-encoding":
            return tuple(c.split(";")[0].strip().lower() for c in value.split(",") if c.strip())
    return None


def unsupported_coding(headers: tuple[tuple[str, str], ...]) -> str | None:
    """A coding the scenario asks for that loadkit does not decode itself (br, zstd, *)."""
    for coding in asked_codings(headers) or ():
        if coding not in DECODED:
            return coding
    return None


def _inflate(obj: zlib._Decompress, data: bytes, cap: int, status: int) -> bytes:
    out = obj.decompress(data, cap + 1)
    if len(out) > cap or obj.unconsumed_tail:
        raise TransportError(kinds.TOO_LARGE, status)
    out += obj.flush()
    if len(out) > cap:
        raise TransportError(kinds.TOO_LARGE, status)
    return out


def _one(data: bytes, coding: str, cap: int, status: int) -> bytes:
    if coding in ("gzip", "x-gzip"):
        return _inflate(zlib.decompressobj(16 + zlib.MAX_WBITS), data, cap, status)
    if coding == "deflate":                     # zlib-wrapped as the RFC says, or raw as IIS sent
        try:
            return _inflate(zlib.decompressobj(zlib.MAX_WBITS), data, cap, status)
        except zlib.error:
            return _inflate(zlib.decompressobj(-zlib.MAX_WBITS), data, cap, status)
    if coding == "identity":
        return data
    raise TransportError(kinds.PROTOCOL, status)  # an answer in a coding nobody asked for


def decode(data: bytes, codings: list[str], cap: int, status: int) -> bytes:
    """``data`` with ``codings`` (in the order applied) undone; timed into the stage's tally."""
    t0 = perf_counter_ns()
    try:
        for coding in reversed(codings):
            data = _one(data, coding, cap, status)
    except zlib.error:
        raise TransportError(kinds.PROTOCOL, status) from None
    finally:
        tally = CURRENT_TALLY.get()
        if tally is not None:
            tally.decompress_ns += perf_counter_ns() - t0
            tally.decompressed += 1
    return data
