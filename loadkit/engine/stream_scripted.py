"""A scripted transport's streamed replies, read as the real transports read theirs.

Where it sits: ``local.new_state`` wraps a Transport *instance* that has
``stream(payload)`` (``(perf_counter_ns, piece)`` as each piece is due) and
``reply_for(n, payload)`` -- ``loadkit.testing.MockTransport`` -- when the
request streams, so a test can drive TTFT, gaps and broken streams with
exact, scripted delays and no network. Each piece goes to a ``StreamRead``
with the time the script delivered it. A script has no headers: its answers
count as event streams (``stream: chunks`` needs none).
"""

from __future__ import annotations

from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from loadkit.engine.stream_read import StreamRead
from loadkit.engine.transport import TransportError

if TYPE_CHECKING:
    from loadkit.scenario.plan import StreamSpec


def scripted(transport: Any) -> bool:
    """Whether ``transport`` can be driven as a stream (``stream`` and ``reply_for``)."""
    return callable(getattr(transport, "stream", None)) and callable(
        getattr(transport, "reply_for", None))


class ScriptedStreams:
    """A scripted transport behind the streaming ``send``: ``(status, StreamRead, last byte)``."""

    reads_streams = True

    def __init__(self, inner: Any, spec: StreamSpec) -> None:
        self.inner = inner
        self.name = str(getattr(inner, "name", "scripted"))
        self._spec = spec

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    async def send(self, payload: int) -> tuple[int, StreamRead, int]:
        spec = self._spec
        # the reply stream() is about to play (no await in between: the same request number)
        status = int(self.inner.reply_for(len(self.inner.calls), payload).status)
        read = StreamRead(spec.format, spec.tokenizer is not None)
        read.status = status
        read.content_type = "text/event-stream"
        pieces: list[bytes] = []
        live = spec.streamed and 200 <= status < 300
        try:
            async for at_ns, piece in self.inner.stream(payload):
                if live:
                    read.feed(piece, at_ns)
                else:
                    pieces.append(piece)
        except TransportError as exc:
            if read.chunks and exc.kind == "reset":
                raise TransportError("stream_incomplete", status) from None
            raise
        read.last_ns = perf_counter_ns()
        if not live:
            body = b"".join(pieces)
            if not spec.streamed and 200 <= status < 300:
                read.whole_body(body)
            else:
                read.raw = body
        return status, read, read.last_ns
