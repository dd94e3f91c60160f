"""Reading a streamed answer: which events are content, when they came, what ends a stream."""

from __future__ import annotations

import json

import pytest

from loadkit.engine.stream_read import StreamRead


def chat(content: str | None = None, role: bool = False, **extra: object) -> bytes:
    delta: dict[str, object] = {"role": "assistant", "content": ""} if role else {}
    if content is not None:
        delta["content"] = content
    doc = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}], **extra}
    return b"data: " + json.dumps(doc).encode() + b"\n\n"


USAGE = b'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}\n\n'


def test_ttft_starts_at_first_content_not_role_chunk_comment_or_keepalive() -> None:
    r = StreamRead("openai")
    r.content_type = "text/event-stream"
    r.feed(chat(role=True), 1_000)
    r.feed(b": keep-alive\n\n", 2_000)
    r.feed(chat("Hel"), 5_000)
    r.feed(chat("lo") + chat("!"), 9_000)       # two events in one read: one timestamp
    r.feed(chat(None) + USAGE + b"data: [DONE]\n\n", 9_500)
    assert (r.first_ns, r.gaps, r.chunks) == (5_000, [4_000, 0], 3)
    assert (r.output_tokens, r.input_tokens, r.done) == (3, 7, True)
    assert r.problem(streamed=True, need_done=True) == ""


def test_events_split_across_reads_anywhere_with_crlf_line_ends_are_joined() -> None:
    two_lines = b'data: {"choices":[{"delta":\r\ndata: {"content":"c"}}]}\r\n\r\n'
    whole = (b": ping\r\n\r\n" + chat("a").replace(b"\n", b"\r\n") + two_lines
             + chat("b").replace(b"\n", b"\r\n"))
    for cut in range(1, len(whole)):          # every cut, a \r | \n one included
        r = StreamRead("openai")
        r.feed(whole[:cut], 1)
        r.feed(whole[cut:], 3)
        assert (r.chunks, r.error) == (3, ""), cut


def test_completions_text_is_content() -> None:
    r = StreamRead("openai")
    r.feed(b'data: {"choices":[{"text":" hi","index":0}]}\n\n', 10)
    r.feed(b'data: {"choices":[{"text":"","finish_reason":"length"}]}\n\n', 20)
    assert (r.first_ns, r.chunks) == (10, 1)


def test_stream_without_done_is_incomplete_and_error_event_is_named() -> None:
    r = StreamRead("openai")
    r.content_type = "text/event-stream"
    r.feed(chat("x"), 1)
    assert r.problem(streamed=True, need_done=True) == "incomplete"
    r.feed(b'event: error\ndata: {"message": "overloaded"}\n\n', 2)
    assert r.problem(streamed=True, need_done=True).startswith(
        "SSE error event: {\"message\": \"overloaded\"}")


def test_a_json_answer_where_a_stream_was_asked_is_named() -> None:
    r = StreamRead("openai")
    r.content_type = "application/json"
    r.raw = b'{"choices": []}'
    assert r.problem(streamed=True, need_done=True) == "not an event stream: application/json"


@pytest.mark.parametrize(("fmt", "chunks"), [("sse", 2), ("chunks", 3)])
def test_generic_sse_counts_data_events_and_chunks_counts_body_pieces(fmt: str,
                                                                      chunks: int) -> None:
    r = StreamRead(fmt)
    r.feed(b"data: one\n\n", 1)
    r.feed(b": ping\n\n", 2)
    r.feed(b"data: two\n\ndata: [DONE]\n\n", 3)
    assert r.chunks == chunks


def test_non_streamed_answer_reads_usage_and_text() -> None:
    r = StreamRead("openai", keep_text=True)
    r.whole_body(b'{"choices":[{"message":{"content":"a b c"}}],'
                 b'"usage":{"prompt_tokens":4,"completion_tokens":3}}')
    assert (r.output_tokens, r.input_tokens, r.text, r.first_ns) == (3, 4, "a b c", 0)
    assert r.problem(streamed=False, need_done=False) == ""


@pytest.mark.parametrize("payload", [
    b'{"choices":[{"delta":{"content":"hi"}}]}',
    b'{"choices":[{"delta":{"role":"assistant","content":""}}]}',
    b'{"choices":[{"delta":{"content": "spaced"}}]}',
    b'{"choices":[{"text":"x"}]}',
    b'{"choices":[{"text":""}]}',
    b'{"choices":[{"delta":{"content":"a"}}],"usage":{"completion_tokens":1}}',
    b'{"choices":[{"delta":{"reasoning_content":"think"}}]}',
    b'{"choices":[{"delta":{},"logprobs":{"content":[]}}]}',
    b'{"choices":[{"delta":{"tool_calls":[{"id":"1"}]}}]}',
])
def test_the_unparsed_fast_path_counts_exactly_what_the_parser_counts(payload: bytes) -> None:
    fast, parsed = StreamRead("openai"), StreamRead("openai", keep_text=True)
    fast.feed(b"data: " + payload + b"\n\n", 1)
    parsed.feed(b"data: " + payload + b"\n\n", 1)
    assert (fast.chunks, fast.output_tokens) == (parsed.chunks, parsed.output_tokens)
