"""The server over HTTP, through the shared ``mock_server`` fixture and a plain aiohttp client.

Timing assertions are lower bounds only (a stall or a capacity limit makes
things take *at least* so long), so a slow machine cannot fail them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp
import numpy as np
import pytest

ROW = [5.1, 3.5, 1.4, 0.2]
BODY = {"instances": [ROW]}
TIMEOUT = aiohttp.ClientTimeout(total=20)


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


async def post(s: aiohttp.ClientSession, url: str, body: Any = BODY) -> tuple[int, Any, bytes]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with s.post(url + "/predict", data=data,
                      headers={"Content-Type": "application/json"}) as r:
        return r.status, r.headers, await r.read()


async def get(s: aiohttp.ClientSession, url: str, path: str) -> tuple[int, Any, str]:
    async with s.get(url + path) as r:
        return r.status, r.headers, await r.text()


def metrics_of(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


async def hammer(url: str, n: int, concurrency: int, body: Any = BODY) -> Counter[int]:
    """n requests over `concurrency` connections; returns the status counts."""
    statuses: Counter[int] = Counter()
    left = iter(range(n))
    async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
        async def worker() -> None:
            for _ in left:
                status, _, _ = await post(s, url, body)
                statuses[status] += 1
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


MockServer = Callable[..., str]


def test_predict_answers_labels_probabilities_and_version(mock_server: MockServer) -> None:
    url = mock_server(model_version="v7")
    row = dict(zip(["sepal_length", "sepal_width", "petal_length", "petal_width"],
                   [6.7, 3.0, 5.2, 2.3], strict=False))

    async def go() -> None:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
            status, headers, body = await post(s, url, {"instances": [ROW, row]})
            assert status == 200
            assert headers["X-Model-Version"] == "v7"
            answer = json.loads(body)
            assert answer["predictions"] == ["setosa", "virginica"]
            assert len(answer["probabilities"]) == 2 and len(answer["probabilities"][0]) == 3
            assert answer["model_version"] == "v7"

    run(go())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Expecting"),
        ({"rows": [ROW]}, "'instances'"),
        ([ROW], "'instances'"),
        ({"instances": [[1, 2]]}, "instances[0] has 2 values"),
        ({"instances": []}, "non-empty"),
    ],
    ids=["not-json", "no-instances", "not-an-object", "short-row", "empty"],
)
def test_a_bad_body_is_a_400_with_a_json_error(mock_server: MockServer, body: Any,
                                              message: str) -> None:
    url = mock_server()

    async def go() -> None:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
            status, _, raw = await post(s, url, body)
            assert status == 400
            assert message in json.loads(raw)["error"]

    run(go())


def test_health_ready_and_metrics_answer(mock_server: MockServer) -> None:
    url = mock_server()

    async def go() -> None:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
            for _ in range(3):
                await post(s, url)
            await post(s, url, {"instances": "nope"})
            assert (await get(s, url, "/health"))[0] == 200
            assert (await get(s, url, "/ready"))[0] == 200
            status, headers, text = await get(s, url, "/metrics")
            assert status == 200
            assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
            m = metrics_of(text)
            assert m['mock_requests_total{status="200"}'] == 3
            assert m['mock_requests_total{status="400"}'] == 1
            assert m["mock_request_latency_seconds_count"] == 4
            assert m['mock_request_latency_seconds_bucket{le="+Inf"}'] == 4
            assert m["mock_in_flight_requests"] == 0
            assert m["mock_ready"] == 1

    run(go())


def test_requests_beyond_slots_and_queue_get_503_with_retry_after(mock_server: MockServer) -> None:
    url = mock_server(capacity=2, queue=1, latency="fixed:600ms", retry_after="2s")

    async def go() -> None:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
            first = [asyncio.ensure_future(post(s, url)) for _ in range(3)]
            while True:  # until the server holds all three (bounded by the 600 ms service)
                m = metrics_of((await get(s, url, "/metrics"))[2])
                if m["mock_in_flight_requests"] == 3 or all(f.done() for f in first):
                    break
                await asyncio.sleep(0.01)
            assert (m["mock_busy_slots"], m["mock_queue_depth"]) == (2, 1)
            status, headers, _ = await post(s, url)
            assert status == 503
            assert headers["Retry-After"] == "2"
            assert [r[0] for r in await asyncio.gather(*first)] == [200, 200, 200]

    run(go())


def test_throughput_cannot_exceed_capacity_over_service_time(mock_server: MockServer) -> None:
    url = mock_server(capacity=4, latency="fixed:10ms")
    started = time.perf_counter()
    statuses = run(hammer(url, 120, concurrency=16))
    elapsed = time.perf_counter() - started
    assert statuses == {200: 120}
    assert elapsed >= 120 / 4 * 0.010 - 0.010  # 30 service rounds of 10 ms, at most one caught up


def test_a_ten_percent_error_rate_gives_ten_percent_http_500(mock_server: MockServer) -> None:
    url = mock_server(error_rate="10%", seed=11)
    statuses = run(hammer(url, 1000, concurrency=16))
    assert statuses[200] + statuses[500] == 1000
    assert statuses[500] / 1000 == pytest.approx(0.10, abs=0.03)


def test_unavailable_fault_is_a_503_with_retry_after(mock_server: MockServer) -> None:
    url = mock_server(unavailable_rate=1)

    async def go() -> None:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
            status, headers, _ = await post(s, url)
            assert status == 503 and headers["Retry-After"] == "1"

    run(go())


def test_reset_fault_drops_the_connection_without_a_response(mock_server: MockServer) -> None:
    url = mock_server(reset_rate=1)

    async def go() -> None:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
            with pytest.raises(aiohttp.ClientConnectionError):
                await post(s, url)
            m = metrics_of((await get(s, url, "/metrics"))[2])
            assert m['mock_requests_total{status="reset"}'] == 1

    run(go())


def test_hang_fault_outlasts_the_client_timeout(mock_server: MockServer) -> None:
    url = mock_server(hang_rate=1)

    async def go() -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.3)) as s:
            with pytest.raises(asyncio.TimeoutError):
                await post(s, url)
        async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
            for _ in range(200):  # the server notices the hang-up and counts it
                m = metrics_of((await get(s, url, "/metrics"))[2])
                if m.get('mock_requests_total{status="hang"}'):
                    break
                await asyncio.sleep(0.01)
            assert m['mock_requests_total{status="hang"}'] == 1
            assert m["mock_in_flight_requests"] == 0

    run(go())


def test_malformed_fault_is_a_200_whose_body_is_not_json(mock_server: MockServer) -> None:
    url = mock_server(malformed_rate=1)

    async def go() -> None:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
            status, headers, body = await post(s, url)
            assert status == 200 and headers["Content-Type"].startswith("application/json")
            with pytest.raises(json.JSONDecodeError):
                json.loads(body)

    run(go())


def test_slow_body_fault_trickles_a_valid_body_in_pieces(mock_server: MockServer) -> None:
    url = mock_server(slow_body_rate=1, trickle="400ms")

    async def go() -> None:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as s,
            s.post(url + "/predict", json=BODY) as r,
        ):
                first_headers_at = time.perf_counter()
                assert r.headers["Transfer-Encoding"] == "chunked"
                pieces = [chunk async for chunk in r.content.iter_any()]
                elapsed = time.perf_counter() - first_headers_at
        assert json.loads(b"".join(pieces))["predictions"] == ["setosa"]
        assert len(pieces) > 1
        assert elapsed >= 0.3  # most of the 400 ms comes after the headers

    run(go())


def test_large_body_fault_sends_a_valid_body_of_the_configured_size(mock_server: MockServer) -> None:
    url = mock_server(large_body_rate=1, large_body_bytes="200KB")

    async def go() -> None:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
            status, _, body = await post(s, url)
        assert status == 200 and len(body) == 200_000
        assert json.loads(body)["predictions"] == ["setosa"]

    run(go())


def test_a_stall_delays_requests_in_flight_and_arriving(mock_server: MockServer) -> None:
    # The first request anchors the schedule at t0: the stall covers [t0+0.1 s, t0+1.1 s).
    url = mock_server(latency="fixed:300ms", stall="1s@at:100ms")

    async def go() -> tuple[float, float, list[int]]:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
            t1 = time.perf_counter()

            async def done_at() -> tuple[int, float]:
                status, _, _ = await post(s, url)
                return status, time.perf_counter() - t1

            in_flight = asyncio.ensure_future(done_at())  # served by 0.3 s, held to 1.1 s
            await asyncio.sleep(0.4)
            second = await done_at()  # arrives in the window: waits it out, then 0.3 s
            first = await in_flight
        return first[1], second[1], [first[0], second[0]]

    first_done, second_done, statuses = run(go())
    assert statuses == [200, 200]
    assert first_done >= 1.1 - 0.02
    assert second_done >= 1.1 + 0.3 - 0.02


def test_cold_start_keeps_ready_and_predict_at_503_for_its_duration(mock_server: MockServer) -> None:
    started = time.perf_counter()
    url = mock_server(cold_start="1s")

    async def go() -> float:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
            status, headers, _ = await get(s, url, "/ready")
            assert status == 503 and int(headers["Retry-After"]) >= 1
            assert (await post(s, url))[0] == 503
            assert (await get(s, url, "/health"))[0] == 200
            deadline = time.perf_counter() + 10
            while (await get(s, url, "/ready"))[0] != 200 and time.perf_counter() < deadline:
                await asyncio.sleep(0.02)
            ready_after = time.perf_counter() - started
            assert (await post(s, url))[0] == 200
            return ready_after

    assert run(go()) >= 1.0


def test_the_first_requests_after_a_cold_start_are_slower(mock_server: MockServer) -> None:
    url = mock_server(warmup_requests=3, warmup_extra="300ms")

    async def go() -> list[float]:
        times = []
        async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
            for _ in range(3):
                t = time.perf_counter()
                await post(s, url)
                times.append(time.perf_counter() - t)
        return times

    first, second, third = run(go())
    assert first >= 0.3 and second >= 0.2 and third >= 0.1


def test_a_shifted_version_differs_on_the_configured_fraction(mock_server: MockServer) -> None:
    base = mock_server(model_version="v1")
    candidate = mock_server(model_version="v2", predictions_shift=0.2)
    rng = np.random.default_rng(4)
    rows = (rng.normal([5.8, 3.0, 3.8, 1.2], [0.8, 0.4, 1.7, 0.7], (1000, 4))
            .clip(0.1).round(1).tolist())

    async def go() -> tuple[list[str], list[str], list[str], str]:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
            _, _, a = await post(s, base, {"instances": rows})
            _, h, b = await post(s, candidate, {"instances": rows})
            _, _, again = await post(s, candidate, {"instances": rows[::-1]})
        return (json.loads(a)["predictions"], json.loads(b)["predictions"],
                json.loads(again)["predictions"][::-1], h["X-Model-Version"])

    v1, v2, v2_again, version = run(go())
    assert version == "v2"
    assert v2 == v2_again  # by input, not by order
    unique = {tuple(r): (p, q) for r, p, q in zip(rows, v1, v2, strict=False)}
    differ = sum(p != q for p, q in unique.values()) / len(unique)
    assert differ == pytest.approx(0.2, abs=0.04)
