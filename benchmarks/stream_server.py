"""A lean OpenAI-compatible streaming server whose every TTFT and gap is planned.

The truth ``benchmarks/streaming.py`` measures clients against. An asyncio
protocol (uvloop when installed), no framework: a request is read to its
Content-Length, answered at once with the SSE head and a role-only chunk,
then each token chunk is written by a timer at its planned absolute time --
arrival + TTFT + the gaps so far -- so a late timer never delays the tokens
after it. A timer that fires early (uvloop rounds to milliseconds) re-arms
itself: nothing is sent before it is due, so a correct client can only
measure at or above the plan. Request n takes its TTFT and gaps from fixed
cycles at positions walked by a prime stride (as the mock's llm-schedule).

``python benchmarks/stream_server.py PORT TRUTH.json`` serves until SIGTERM,
then writes what it served (the planned TTFTs and gaps, and how late the
timers actually wrote, in ms) to TRUTH.json.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections import Counter

TTFT_MS = [80.0] * 90 + [200.0] * 8 + [600.0] * 2     # p50 80, p95 200, p99 600
GAP_MS = [8.0] * 90 + [20.0] * 8 + [60.0] * 2         # p50 8, p95 20, p99 60
TOKENS = 20
STRIDE = 7919

HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n")


def _chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def _event(doc: str) -> bytes:
    return _chunk(b"data: " + doc.encode() + b"\n\n")


ROLE = _event('{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,'
              '"delta":{"role":"assistant","content":""},"finish_reason":null}]}')
TOKEN = [_event('{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,'
                f'"delta":{{"content":" tok{k}"}},"finish_reason":null}}]}}')
         for k in range(TOKENS)]
TAIL = (_event('{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,'
               '"delta":{},"finish_reason":"length"}]}')
        + _event('{"id":"c","choices":[],"usage":{"prompt_tokens":8,'
                 f'"completion_tokens":{TOKENS},"total_tokens":{TOKENS + 8}}}}}')
        + _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")


class Truth:
    def __init__(self) -> None:
        self.n = 0
        self.ttft: Counter[float] = Counter()
        self.gaps: Counter[float] = Counter()
        self.late_ms: list[float] = []      # actual write - due, per token


class Stream(asyncio.Protocol):
    def __init__(self, truth: Truth) -> None:
        self.truth = truth
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15:head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0
                              else len(head)]) if at >= 0 else 0
            if len(self.buf) < end + 4 + length:
                return
            self.buf = self.buf[end + 4 + length:]
            self.answer()

    def answer(self) -> None:
        truth = self.truth
        n, truth.n = truth.n, truth.n + 1
        arrival = time.perf_counter()
        assert self.transport is not None
        self.transport.write(HEAD + ROLE)
        due = arrival
        plan = []
        for k in range(TOKENS):
            delay = (TTFT_MS[(n * STRIDE) % len(TTFT_MS)] if k == 0
                     else GAP_MS[((n + k) * STRIDE) % len(GAP_MS)])
            (truth.ttft if k == 0 else truth.gaps)[delay] += 1
            due += delay / 1000
            plan.append(due)
        self._arm(plan, 0)

    def _arm(self, plan: list[float], k: int) -> None:
        self.loop.call_later(max(0.0, plan[k] - time.perf_counter()), self._send, plan, k)

    def _send(self, plan: list[float], k: int) -> None:
        now = time.perf_counter()
        if now < plan[k]:                    # early (millisecond timers): wait the rest
            self._arm(plan, k)
            return
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        self.truth.late_ms.append((now - plan[k]) * 1000)
        transport.write(TOKEN[k] + (TAIL if k == TOKENS - 1 else b""))
        if k + 1 < TOKENS:
            self._arm(plan, k + 1)


async def serve(port: int, out: str) -> None:
    truth = Truth()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Stream(truth), "127.0.0.1", port, backlog=4096)
    print("LISTENING", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()
    late = sorted(truth.late_ms) or [0.0]
    with open(out, "w") as fh:
        json.dump({"requests": truth.n,
                   "ttft_ms": {f"{k:g}": v for k, v in truth.ttft.items()},
                   "gap_ms": {f"{k:g}": v for k, v in truth.gaps.items()},
                   "write_late_ms": {"p50": late[len(late) // 2],
                                     "p99": late[int(len(late) * 0.99)], "max": late[-1]}}, fh)


if __name__ == "__main__":
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(int(sys.argv[1]), sys.argv[2]))
