"""Which error kind an exception raised by one aiohttp request is.

Its own module (not inside the aiohttp transport) so the rule can be read, unit
tested and mutation tested alone; ``aiohttp_transport`` and ``stream_aiohttp``
call it only when a request failed, never on the hot path of a good answer.
"""

from __future__ import annotations

import asyncio

import aiohttp

from loadkit.results import kinds


def classify(exc: BaseException) -> str:
    """The error kind (``loadkit.results.kinds``) of an exception raised by one request.

    Mirrors the fast transport event for event: once a connection is made, its
    closing or failing in any way (aiohttp's ServerDisconnectedError, a truncated
    payload, a ClientOSError with or without an errno) is ``reset``; an answer that
    is not HTTP is ``protocol``; only a connection that could not be made is ``connect``.
    The order matters: aiohttp's exceptions subclass each other and ``OSError``
    (a ClientConnectorError is an OSError, a ServerTimeoutError a ServerConnectionError).
    """
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return kinds.TIMEOUT
    if isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ServerFingerprintMismatch,
                        ConnectionRefusedError)):
        return kinds.CONNECT
    if isinstance(exc, aiohttp.ClientPayloadError):
        return kinds.RESET           # a body cut short by the close (Content-Length or chunked)
    if isinstance(exc, (aiohttp.ClientResponseError, aiohttp.InvalidURL)):
        return kinds.PROTOCOL        # a malformed status line or headers, a bad Location
    if isinstance(exc, (aiohttp.ClientConnectionError, OSError)):
        return kinds.RESET           # ServerDisconnectedError, ClientOSError, ECONNRESET, EPIPE
    return kinds.OTHER


__all__ = ["classify"]
