"""Streamed answers timed end to end by both transports, against the mock's exact schedule.

The mock's ``llm-schedule`` fixes every TTFT and gap, so the truth is known:
measured figures may sit above it (the loopback, and the server's event loop
shares this process and a busy 2-core machine), never below it. The upper bounds
here only tell TTFT from the neighbours a wrong reading would give (the role-only
chunk at ~0 ms, the last byte at TTFT + 4 gaps); how close loadkit gets to the
truth is measured by ``benchmarks/streaming.py`` on a quiet machine.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from loadkit.engine import run_stages
from loadkit.results.model import StageResult
from loadkit.scenario.plan import PayloadSet, RequestSpec, Slo, Stage, StreamSpec

TRANSPORTS = ["fast", "aiohttp"]


def body(max_tokens: int = 5, stream: bool = True) -> bytes:
    return json.dumps({"model": "m", "messages": [{"role": "user", "content": "one two three"}],
                       "max_tokens": max_tokens, "stream": stream,
                       "stream_options": {"include_usage": stream}}).encode()


def run(url: str, transport: str, *, stage: Stage | None = None, stream: StreamSpec | None = None,
        path: str = "/v1/chat/completions", payload: bytes | None = None,
        timeout_s: float = 5.0, warmup: bool = False) -> StageResult:
    """The stage as measured; ``warmup`` runs 8 requests first (connections, first calls)."""
    request = RequestSpec(target=url, path=path, timeout_s=timeout_s,
                          stream=stream or StreamSpec("openai"))
    payloads = {1: PayloadSet(batch_size=1, bodies=(payload or body(),))}
    stage = stage or Stage(0, "c=4", concurrency=4, requests=24)
    stages = [Stage(0, "warm-up", concurrency=4, requests=8, warmup=True),
              replace(stage, index=1)] if warmup else [stage]
    return run_stages(stages, request, payloads, transport=transport,
                      handle_signals=False).stages[-1]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_ttft_itl_tpot_and_tokens_match_the_schedule(mock_server: Callable[..., str],
                                                     transport: str) -> None:
    url = mock_server(llm_schedule="ttft=40ms;gap=10ms")
    s = run(url, transport, stage=Stage(0, "c=4", concurrency=4, requests=24,
                                        slo=Slo(ttft_ms=100)), warmup=True)
    assert (s.ok, s.errors) == (24, 0)
    assert s.output_tokens == 24 * 5 and s.input_tokens == 24 * 3 and s.tokens_from == "usage"
    assert s.ttft_ms is not None and s.itl_ms is not None and s.tpot_ms is not None
    assert 40 <= s.ttft_ms.min and s.ttft_ms.p50 < 40 + 25     # the last byte is at 80
    assert s.stream_hist("itl").count == 24 * 4
    assert 10 - 2 <= s.itl_ms.p50 <= 10 + 8    # a gap loses what the token before was late
    assert 10 - 2 <= s.tpot_ms.p50 <= 10 + 8
    assert s.slo_attainment == 1.0 and s.good_requests == 24


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_open_model_ttft_counts_from_the_scheduled_start(mock_server: Callable[..., str],
                                                         transport: str) -> None:
    # 100 rps into one slot of ~20 ms answers: each request starts later than scheduled,
    # and its TTFT must carry that wait (measured from the send it would stay ~20 ms).
    url = mock_server(llm_schedule="ttft=20ms;gap=1ms")
    s = run(url, transport, stage=Stage(0, "100 rps", rate=100, requests=10, max_in_flight=1),
            payload=body(max_tokens=1))
    assert s.ok == 10 and s.ttft_ms is not None and s.late > 0
    assert s.ttft_ms.min >= 20 and s.ttft_ms.max >= 20 + 9 * (20 - 10)
    assert s.ttft_ms.max <= s.latency_ms.max


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stream_without_done_is_stream_incomplete_and_its_timings_are_dropped(
        mock_server: Callable[..., str], transport: str) -> None:
    url = mock_server(llm_schedule="ttft=1ms;gap=1ms", malformed_rate=1)
    s = run(url, transport, stage=Stage(0, "c=2", concurrency=2, requests=6))
    assert s.error_kinds == {"stream_incomplete": 6}
    assert s.output_tokens == 0 and s.stream_hist("ttft").count == 0
    assert s.error_details == {"stream_incomplete: the stream ended without data: [DONE]": 6}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_connection_cut_mid_stream_is_stream_incomplete(mock_server: Callable[..., str],
                                                        transport: str) -> None:
    url = mock_server(llm_schedule="ttft=1ms;gap=1ms", reset_rate=1)
    s = run(url, transport, stage=Stage(0, "c=2", concurrency=2, requests=4),
            payload=body(max_tokens=8))
    assert s.error_kinds == {"stream_incomplete": 4}
    assert s.stream_hist("itl").count == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_json_where_a_stream_was_asked_is_check_failed_naming_it(
        mock_server: Callable[..., str], transport: str) -> None:
    url = mock_server(llm_schedule="ttft=1ms;gap=1ms")
    s = run(url, transport, stage=Stage(0, "c=1", concurrency=1, requests=2),
            payload=body(stream=False))
    assert s.error_kinds == {"check_failed": 2}
    (detail,) = s.error_details
    assert detail.startswith("check_failed: not an event stream: application/json")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_non_streaming_call_counts_usage_tokens_without_ttft(mock_server: Callable[..., str],
                                                             transport: str) -> None:
    url = mock_server(llm_schedule="ttft=1ms;gap=1ms")
    s = run(url, transport, stage=Stage(0, "c=1", concurrency=1, requests=3),
            payload=body(stream=False), stream=StreamSpec("openai", streamed=False))
    assert (s.ok, s.output_tokens, s.stream_hist("ttft").count) == (3, 15, 0)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_stream_that_stalls_past_the_timeout_is_a_timeout(mock_server: Callable[..., str],
                                                            transport: str) -> None:
    url = mock_server(llm_schedule="ttft=1ms;gap=1ms*3,400ms")
    s = run(url, transport, stage=Stage(0, "c=1", concurrency=1, requests=1),
            payload=body(max_tokens=8), timeout_s=0.15)
    assert s.error_kinds == {"timeout": 1}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_long_stream_outlives_the_timeout_while_tokens_keep_coming(
        mock_server: Callable[..., str], transport: str) -> None:
    url = mock_server(llm_schedule="ttft=20ms;gap=20ms")
    s = run(url, transport, stage=Stage(0, "c=1", concurrency=1, requests=1),
            payload=body(max_tokens=12), timeout_s=0.1)
    assert s.ok == 1 and s.latency_ms.max >= 240


def test_a_transport_that_answers_whole_bodies_is_refused_for_a_stream() -> None:
    from loadkit.errors import UsageError

    class WholeBodies:
        name = "whole"

        async def start(self) -> None: ...
        async def close(self) -> None: ...
        async def send(self, payload: int) -> tuple[int, bytes, int]:
            return 200, b"", 0

    request = RequestSpec(target="http://127.0.0.1:1", stream=StreamSpec("openai"))
    with pytest.raises(UsageError, match="^transport: a streamed request"):
        run_stages([Stage(0, "c=1", concurrency=1, requests=1)], request,
                   {1: PayloadSet(batch_size=1, bodies=(body(),))}, transport=WholeBodies(),
                   handle_signals=False)
