"""The mock server's LLM mode: OpenAI-compatible streams over a serving model."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from mock_server.llm_model import BatchingModel, LlmSpec, Schedule, ScheduleModel
from mock_server.options import from_mapping

CHAT = {"model": "m", "messages": [{"role": "user", "content": "say hello to the world"}],
        "max_tokens": 5, "stream": True, "stream_options": {"include_usage": True}}


async def _events(url: str, body: dict[str, Any], path: str = "/v1/chat/completions"
                  ) -> tuple[str, list[tuple[float, bytes]]]:
    """(content type, [(arrival s after the send, event)]) of one streamed answer."""
    out: list[tuple[float, bytes]] = []
    async with aiohttp.ClientSession() as session:
        t0 = time.perf_counter()
        resp = await session.post(url + path, json=body)
        buf = b""
        async for chunk in resp.content.iter_any():
            now = time.perf_counter() - t0
            buf += chunk
            while b"\n\n" in buf:
                event, buf = buf.split(b"\n\n", 1)
                out.append((now, event))
        resp.release()
        return resp.headers["Content-Type"], out


def test_chat_stream_sends_role_chunk_tokens_usage_and_done(
        mock_server: Callable[..., str]) -> None:
    url = mock_server(llm_schedule="ttft=30ms;gap=5ms")
    ctype, events = asyncio.run(_events(url, CHAT))
    assert ctype.startswith("text/event-stream")
    docs = [json.loads(e[6:]) for _, e in events[:-1]]
    assert docs[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    contents = [d["choices"][0]["delta"].get("content") for d in docs[1:6]]
    assert all(contents) and len(contents) == 5
    assert docs[6]["choices"][0]["finish_reason"] == "length"
    assert docs[7]["choices"] == [] and docs[7]["usage"] == {
        "prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}
    assert events[-1][1] == b"data: [DONE]"
    # the first token comes no sooner than the 30 ms TTFT after the send
    assert events[1][0] >= 0.030


def test_completions_stream_has_no_role_chunk_and_no_usage_unless_asked(
        mock_server: Callable[..., str]) -> None:
    url = mock_server(llm_schedule="ttft=1ms;gap=1ms")
    body = {"model": "m", "prompt": "one two", "max_tokens": 3, "stream": True}
    _, events = asyncio.run(_events(url, body, "/v1/completions"))
    docs = [json.loads(e[6:]) for _, e in events[:-1]]
    assert [d["choices"][0]["text"] != "" for d in docs] == [True, True, True, False]
    assert events[-1][1] == b"data: [DONE]"


def test_non_streaming_answer_is_one_json_with_usage(mock_server: Callable[..., str]) -> None:
    url = mock_server(llm_schedule="ttft=1ms;gap=1ms")

    async def go() -> dict[str, Any]:
        async with aiohttp.ClientSession() as s, s.post(
                url + "/v1/chat/completions", json={**CHAT, "stream": False}) as r:
            return await r.json()  # type: ignore[no-any-return]

    doc = asyncio.run(go())
    assert doc["object"] == "chat.completion"
    assert doc["usage"]["completion_tokens"] == 5
    assert len(doc["choices"][0]["message"]["content"].split()) == 5


def test_bad_body_is_400_naming_the_field(mock_server: Callable[..., str]) -> None:
    url = mock_server()

    async def go() -> tuple[int, str]:
        async with aiohttp.ClientSession() as s, s.post(
                url + "/v1/chat/completions", json={"model": "m", "prompt": "x"}) as r:
            return r.status, (await r.json())["error"]["message"]

    assert asyncio.run(go()) == (400, "'messages' must be a non-empty list")


def test_malformed_fault_ends_the_stream_without_done(mock_server: Callable[..., str]) -> None:
    url = mock_server(llm_schedule="ttft=1ms;gap=1ms", malformed_rate=1)
    _, events = asyncio.run(_events(url, CHAT))
    assert events[-1][1] != b"data: [DONE]" and len(events) == 8


def test_schedule_walks_its_cycle_so_every_value_is_served_in_proportion() -> None:
    model = ScheduleModel(Schedule.parse("ttft=80ms*90,200ms*8,600ms*2;gap=8ms*9,60ms"))
    firsts = [next(model.plan(n, 1)) for n in range(100)]
    assert sorted(firsts) == [0.08] * 90 + [0.2] * 8 + [0.6] * 2
    gaps = [g for n in range(10) for g in list(model.plan(n, 11))[1:]]
    assert gaps.count(0.06) == 10 and gaps.count(0.008) == 90


@pytest.mark.parametrize("spec", ["ttft=1ms", "gap=1ms;ttft=x", "ttft=1ms;gap=1ms;foo=2"])
def test_bad_schedule_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="llm-schedule"):
        from_mapping({"llm_schedule": spec})


def test_decode_step_slows_as_the_batch_fills_and_prefill_grows_with_the_prompt() -> None:
    model = BatchingModel(LlmSpec(slots=5, step_s=(0.01, 0.03), prefill_base_s=0.01,
                                  prefill_per_token_s=0.001))
    assert [model.step_s(n) for n in (1, 3, 5)] == pytest.approx([0.01, 0.02, 0.03])
    assert model.prefill_s(100) == pytest.approx(0.11)


def test_batching_queues_past_its_slots_and_reports_vllm_gauges(
        mock_server: Callable[..., str]) -> None:
    url = mock_server(llm_slots=2, llm_step="20ms", llm_prefill="1ms", llm_prefill_per_token=0)

    async def go() -> tuple[list[float], str]:
        async with aiohttp.ClientSession() as s:
            async def one() -> float:
                t0 = time.perf_counter()
                async with s.post(url + "/v1/chat/completions",
                                  json={**CHAT, "max_tokens": 3}) as r:
                    async for _ in r.content.iter_any():
                        pass  # the role chunk, then tokens: measure to the last byte
                return time.perf_counter() - t0
            tasks = [asyncio.ensure_future(one()) for _ in range(4)]
            await asyncio.sleep(0.03)
            async with s.get(url + "/metrics") as r:
                text = await r.text()
            return sorted(await asyncio.gather(*tasks)), text

    latencies, text = asyncio.run(go())
    assert 'vllm:num_requests_running{model_name="mock-llm"} 2' in text
    assert 'vllm:num_requests_waiting{model_name="mock-llm"} 2' in text
    # two run 3 steps of 20 ms; the other two wait for them, then run 3 more
    assert latencies[0] >= 0.055 and latencies[2] >= 0.11
