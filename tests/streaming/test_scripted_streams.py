"""A MockTransport script drives streamed requests: TTFT and gaps from its exact delays."""

from __future__ import annotations

import json

from loadkit.engine import run_stages
from loadkit.scenario.plan import PayloadSet, RequestSpec, Slo, Stage, StreamSpec
from loadkit.testing import Chunk, MockTransport, Reply

ROLE = b'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n'
USAGE = b'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}\n\n'
DONE = b"data: [DONE]\n\n"


def token(text: str) -> bytes:
    return b"data: " + json.dumps({"choices": [{"delta": {"content": text}}]}).encode() + b"\n\n"


def reply(ttft_ms: float, gap_ms: float, done: bool = True) -> Reply:
    chunks = (Chunk(ROLE), Chunk(token("a"), ttft_ms), *(Chunk(token(t), gap_ms) for t in "bcd"),
              Chunk(USAGE + (DONE if done else b"")))
    return Reply(chunks=chunks)


def run(script: Reply | list[Reply], requests: int = 4, slo: Slo | None = None):  # type: ignore[no-untyped-def]
    request = RequestSpec(target="http://127.0.0.1:1", path="/v1/chat/completions",
                          stream=StreamSpec("openai"))
    return run_stages([Stage(0, "c=2", concurrency=2, requests=requests, slo=slo)], request,
                      {1: PayloadSet(batch_size=1, bodies=(b"{}",))},
                      transport=MockTransport(script), handle_signals=False).stages[0]


def test_scripted_ttft_and_gaps_are_measured_from_the_script() -> None:
    # the script sleeps with the event loop's timers, which may fire up to 1 ms early
    s = run(reply(ttft_ms=40, gap_ms=15), slo=Slo(ttft_ms=60, itl_ms=30))
    assert (s.ok, s.output_tokens, s.input_tokens) == (4, 16, 12)
    assert s.ttft_ms is not None and s.itl_ms is not None
    assert 39 <= s.ttft_ms.min and s.ttft_ms.max < 40 + 15     # the role chunk at 0 ms is not TTFT
    assert s.stream_hist("itl").count == 12 and 14 <= s.itl_ms.min
    assert s.slo_attainment is not None and s.slo_attainment > 0


def test_scripted_stream_without_done_is_stream_incomplete() -> None:
    s = run([reply(1, 1), reply(1, 1, done=False)])
    assert s.error_kinds == {"stream_incomplete": 2} and s.ok == 2
