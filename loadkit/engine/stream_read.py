"""Reading one streamed response as it arrives: content chunks, their times, tokens.

Both transports feed a ``StreamRead`` each piece of body the socket gave them
(the fast one per httptools ``on_body`` call, aiohttp per ``iter_any`` chunk)
with one ``perf_counter_ns`` timestamp for the whole piece; events are split
with ``bytes.split`` on the piece, never a Python step per byte. What counts as
a *content* chunk depends on the stream format:

* ``openai``: an SSE ``data:`` event whose JSON carries text -- a chat
  ``delta.content`` (or ``reasoning_content`` / ``tool_calls``), a completion's
  ``text``. The role-only first chunk, the finish chunk, the ``usage`` chunk,
  comments and keep-alives are not content; ``usage`` gives the token counts;
  ``data: [DONE]`` marks a complete stream.
* ``sse``: any non-empty ``data:`` event (``[DONE]`` excepted).
* ``chunks``: any non-empty body piece.

The first content chunk's time is TTFT's end; each later one adds one gap to
``gaps`` (nanoseconds; several events in one piece share its time, a 0 gap, as
a real client reading that socket sees them). ``outcome`` classifies the end:
an SSE ``error`` event or an error object is ``check_failed`` naming it; an
OpenAI stream without ``[DONE]`` is ``stream_incomplete``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

_loads: Callable[[bytes], Any]
try:  # orjson parses a chunk ~5x faster; either gives the same values
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads

FORMATS = ("openai", "sse", "chunks")
_MAX_DETAIL = 80


class StreamRead:
    """One streamed response, as far as it has arrived (one per request)."""

    __slots__ = ("_buf", "_fmt", "_text", "chunks", "content_type", "done", "error", "first_ns",
                 "gaps", "input_tokens", "last_ns", "output_tokens", "prev_ns", "raw", "status")

    def __init__(self, fmt: str, keep_text: bool = False) -> None:
        self._fmt = fmt
        self._buf = b""
        self._text: list[str] | None = [] if keep_text else None
        self.status = 0
        self.content_type = ""
        self.first_ns = 0              # perf_counter_ns of the first content chunk (0: none)
        self.prev_ns = 0
        self.last_ns = 0               # of the last byte
        self.gaps: list[int] = []      # ns between consecutive content chunks
        self.chunks = 0                # content chunks
        self.done = False              # saw data: [DONE]
        self.error = ""                # an SSE error event / error object, as text
        self.output_tokens = -1        # from usage (-1: the server sent none)
        self.input_tokens = -1
        self.raw = b""                 # a body that is not a stream (error pages, JSON)

    # -- the hot path: once per socket read ----------------------------------------------
    def feed(self, data: bytes, now_ns: int) -> None:
        if self._fmt == "chunks":
            if data:
                self._content(now_ns, None)
            return
        buf = self._buf + data if self._buf else data
        held = b""
        if b"\r" in buf:
            if buf.endswith(b"\r"):           # maybe half of a \r\n: decide with the next piece
                buf, held = buf[:-1], b"\r"
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if b"\n\n" not in buf:
            self._buf = buf + held
            return
        events = buf.split(b"\n\n")
        self._buf = events.pop() + held
        for event in events:
            if event.startswith(b"data: ") and b"\n" not in event:
                self._data(event[6:], now_ns)
            elif event:
                self._event(event, now_ns)

    def _event(self, event: bytes, now_ns: int) -> None:
        """The general SSE event: several lines, comments, ``event:`` names."""
        kind = b""
        data: list[bytes] = []
        for line in event.split(b"\n"):
            if not line or line.startswith(b":"):
                continue                                   # a comment / keep-alive
            name, _, value = line.partition(b":")
            if value.startswith(b" "):
                value = value[1:]
            if name == b"data":
                data.append(value)
            elif name == b"event":
                kind = value
        if kind == b"error":
            self.error = self.error or "SSE error event: " + _shown(b"\n".join(data))
        elif data:
            self._data(b"\n".join(data), now_ns)

    def _data(self, payload: bytes, now_ns: int) -> None:
        if payload == b"[DONE]":
            self.done = True
            return
        if self._fmt == "sse":
            if payload:
                self._content(now_ns, None)
            return
        if self._text is None and _plain_content(payload):
            self._content(now_ns, None)
            return
        try:
            doc = _loads(payload)
        except ValueError:
            self.error = self.error or "an event that is not JSON: " + _shown(payload)
            return
        if not isinstance(doc, dict):
            return
        if "error" in doc:
            self.error = self.error or "error object: " + _shown(payload)
            return
        usage = doc.get("usage")
        if isinstance(usage, dict):
            self._usage(usage)
        choices = doc.get("choices")
        if choices:
            text = _choice_text(choices[0])
            if text:
                self._content(now_ns, text)

    def _content(self, now_ns: int, text: str | None) -> None:
        if self.first_ns:
            self.gaps.append(now_ns - self.prev_ns)
        else:
            self.first_ns = now_ns
        self.prev_ns = now_ns
        self.chunks += 1
        if self._text is not None and text is not None:
            self._text.append(text)

    def _usage(self, usage: dict[str, Any]) -> None:
        out, inp = usage.get("completion_tokens"), usage.get("prompt_tokens")
        if isinstance(out, int):
            self.output_tokens = out
        if isinstance(inp, int):
            self.input_tokens = inp

    # -- after the last byte -----------------------------------------------------------------
    @property
    def text(self) -> str:
        return "".join(self._text or ())

    def whole_body(self, body: bytes) -> None:
        """A non-streamed OpenAI answer (``stream: false``): its usage and its text."""
        self.raw = body
        try:
            doc = _loads(body)
        except ValueError:
            return
        if not isinstance(doc, dict):
            return
        if isinstance(doc.get("usage"), dict):
            self._usage(doc["usage"])
        choices = doc.get("choices")
        if choices and isinstance(choices[0], dict):
            message = choices[0].get("message")
            text = message.get("content") if isinstance(message, dict) else choices[0].get("text")
            if isinstance(text, str) and self._text is not None:
                self._text.append(text)
            self.chunks = 1 if text else 0

    def problem(self, streamed: bool, need_done: bool) -> str:
        """Why a 2xx answer is not a good stream ("" when it is): the detail of its error."""
        if self.error:
            return self.error
        if not streamed:
            return ""
        if "text/event-stream" not in self.content_type and self._fmt != "chunks":
            got = self.content_type or "no Content-Type"
            return f"not an event stream: {got[:_MAX_DETAIL]}"
        if need_done and not self.done:
            return "incomplete"
        if not self.chunks:
            return "the stream carried no content"
        return ""


def _plain_content(payload: bytes) -> bool:
    """The common token chunk, told without parsing it: compact JSON carrying a non-empty
    ``"content":"`` (chat) or ``"text":"`` (completions) and no usage or error object.

    Anything else -- the role-only chunk (``"content":""``), finish and usage chunks,
    tool calls, JSON with spaces -- is parsed in full, so this only ever says yes to a
    chunk the parser would also count as content. It saves the parse on nearly every
    chunk (a profile of 256 streams had ``loads`` as a third of the per-chunk work).
    """
    if b'"usage"' in payload or b'"error"' in payload:
        return False
    at = payload.find(b'"content":"')
    if at < 0:
        at = payload.find(b'"text":"')
        return at >= 0 and payload[at + 8:at + 9] not in (b'"', b"")
    return payload[at + 11:at + 12] not in (b'"', b"")


def _choice_text(choice: Any) -> str:
    if not isinstance(choice, dict):
        return ""
    delta = choice.get("delta")
    if isinstance(delta, dict):
        content = delta.get("content") or delta.get("reasoning_content")
        if content:
            return str(content)
        if delta.get("tool_calls"):
            return json.dumps(delta["tool_calls"])
        return ""
    text = choice.get("text")
    return text if isinstance(text, str) else ""


def _shown(data: bytes) -> str:
    text = data[:_MAX_DETAIL].decode("utf-8", "replace")
    return text.replace("\n", " ") + ("..." if len(data) > _MAX_DETAIL else "")
