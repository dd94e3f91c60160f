"""The LLM mode's serving model: when each sequence's tokens come out.

Two models behind one interface (``admit`` a sequence, then read its tokens
from ``Sequence.tokens``), used by ``llm_api.py``:

* ``BatchingModel`` behaves like a continuous-batching server (vLLM, TGI): K
  sequence slots; a waiting queue in front of them (so TTFT rises once the
  slots are full); each engine step decodes one token for every running
  sequence, and takes longer the fuller the batch is (so inter-token latency
  rises with load); a sequence admitted in a step is prefilled in it first,
  and that prefill grows with its prompt tokens and delays the whole step
  (prefill interference, as in a real server). Steps run on a nominal timeline
  (see capacity.py for why) so timer jitter does not accumulate.
* ``ScheduleModel`` (``llm-schedule``) is for tests and benchmarks: every
  sequence gets its TTFT and every gap from fixed cycles, independently of
  load, so the truth a client must measure is known exactly. The values a run
  actually served are counted (``served``) and shown at /v1/mock/schedule.

Everything runs on the server's one event loop (no locking).
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

MAX_CATCHUP_S = 0.005
_STRIDE = 7919
TTFT_BUCKETS_S = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0,
                  2.5, 5.0, 7.5, 10.0)  # a prime: walks a cycle in an order that mixes its values


@dataclass(frozen=True)
class LlmSpec:
    """The serving model's knobs (MockOptions.llm_*)."""

    slots: int = 16
    prefill_base_s: float = 0.010
    prefill_per_token_s: float = 0.0001
    step_s: tuple[float, float] = (0.008, 0.016)   # decode step at batch 1 .. at full batch
    output_tokens: int = 64                         # when the request names no max_tokens
    queue: int | None = None                        # waiting sequences; beyond -> 503
    kv_tokens: int = 65536                          # KV-cache capacity, for the usage gauge


@dataclass(frozen=True)
class Schedule:
    """Fixed TTFT and gap cycles: ``ttft=80ms*90,200ms*8,600ms*2;gap=8ms*90,20ms*8,60ms*2``.

    ``V*N`` is N copies of V in the cycle; request n takes the TTFT at cycle
    position ``n * 7919 mod len``, its token k the gap at ``(n + k) * 7919 mod len``;
    an optional ``tokens=N`` fixes the output length whatever max_tokens says.
    """

    ttft_s: tuple[float, ...]
    gaps_s: tuple[float, ...]
    tokens: int | None = None
    spec: str = ""

    @classmethod
    def parse(cls, spec: str) -> Schedule:
        from mock_server.units import parse_count, parse_duration_s

        parts: dict[str, str] = {}
        for item in str(spec).split(";"):
            key, sep, value = item.partition("=")
            if not sep or key.strip() not in ("ttft", "gap", "tokens"):
                raise ValueError(f"{item.strip()!r} is not ttft=..., gap=... or tokens=N "
                                 "(e.g. ttft=80ms*90,600ms*10;gap=8ms;tokens=20)")
            parts[key.strip()] = value
        if "ttft" not in parts or "gap" not in parts:
            raise ValueError("a schedule needs both ttft=... and gap=...")

        def cycle(text: str) -> tuple[float, ...]:
            out: list[float] = []
            for piece in text.split(","):
                value, _, count = piece.partition("*")
                out += [parse_duration_s(value.strip())] * (parse_count(count.strip(), 1)
                                                             if count else 1)
            if len(out) > 100_000:
                raise ValueError("a cycle of more than 100000 values")
            return tuple(out)

        tokens = parse_count(parts["tokens"].strip(), 1) if "tokens" in parts else None
        return cls(cycle(parts["ttft"]), cycle(parts["gap"]), tokens, str(spec))


class Sequence:
    """One generation; the handler reads its tokens through the model's ``stream``."""

    __slots__ = ("arrival", "cancelled", "first_at", "generated", "max_tokens", "prompt_tokens",
                 "tokens")

    def __init__(self, prompt_tokens: int, max_tokens: int, arrival: float) -> None:
        self.prompt_tokens = prompt_tokens
        self.max_tokens = max_tokens
        self.arrival = arrival
        self.generated = 0
        self.first_at: float | None = None
        self.cancelled = False
        self.tokens: asyncio.Queue[int | None] = asyncio.Queue()

    def emit(self, now: float) -> bool:
        """One more token; True when that was the last."""
        if self.first_at is None:
            self.first_at = now
        self.tokens.put_nowait(self.generated)
        self.generated += 1
        if self.generated >= self.max_tokens:
            self.tokens.put_nowait(None)
            return True
        return False


class LlmStats:
    """The server's own counters, rendered as vLLM-style series by llm_api."""

    def __init__(self) -> None:
        self.prompt_tokens = 0
        self.generation_tokens = 0
        self.finished = 0
        self.rejected = 0
        self.ttft_counts = [0] * (len(TTFT_BUCKETS_S) + 1)
        self.ttft_sum_s = 0.0

    def observe_ttft(self, seconds: float) -> None:
        self.ttft_counts[bisect.bisect_left(TTFT_BUCKETS_S, seconds)] += 1
        self.ttft_sum_s += seconds


class BatchingModel:
    """Continuous batching over ``spec.slots`` slots with a waiting queue."""

    def __init__(self, spec: LlmSpec) -> None:
        self.spec = spec
        self.running: list[Sequence] = []
        self.waiting: deque[Sequence] = deque()
        self.stats = LlmStats()
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Future[None] | None = None

    def step_s(self, batch: int) -> float:
        lo, hi = self.spec.step_s
        k = self.spec.slots
        return lo if k <= 1 else lo + (hi - lo) * (max(1, batch) - 1) / (k - 1)

    def prefill_s(self, prompt_tokens: int) -> float:
        return self.spec.prefill_base_s + self.spec.prefill_per_token_s * prompt_tokens

    @property
    def kv_usage(self) -> float:
        used = sum(s.prompt_tokens + s.generated for s in self.running)
        return min(1.0, used / max(1, self.spec.kv_tokens))

    def admit(self, seq: Sequence) -> bool:
        """Queue a sequence; False (turned away) when the waiting queue is full."""
        limit = self.spec.queue
        if limit is not None and len(self.waiting) >= limit and len(self.running) >= self.spec.slots:
            self.stats.rejected += 1
            return False
        self.stats.prompt_tokens += seq.prompt_tokens
        self.waiting.append(seq)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        elif self._wake is not None and not self._wake.done():
            self._wake.set_result(None)
        return True

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        nominal = loop.time()
        while True:
            if not self.running and not self.waiting:
                self._wake = loop.create_future()
                await self._wake
                nominal = loop.time()
            prefill = 0.0
            while self.waiting and len(self.running) < self.spec.slots:
                seq = self.waiting.popleft()
                if not seq.cancelled:
                    self.running.append(seq)
                    prefill += self.prefill_s(seq.prompt_tokens)
            if not self.running:
                continue
            nominal = max(nominal + self.step_s(len(self.running)) + prefill,
                          loop.time() - MAX_CATCHUP_S)
            delay = nominal - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = loop.time()
            keep: list[Sequence] = []
            for seq in self.running:
                if seq.cancelled:
                    continue
                first = seq.first_at is None
                done = seq.emit(now)
                if first:
                    self.stats.observe_ttft(now - seq.arrival)
                self.stats.generation_tokens += 1
                if done:
                    self.stats.finished += 1
                else:
                    keep.append(seq)
            self.running = keep

    async def stream(self, seq: Sequence) -> AsyncIterator[int]:
        """Yield token indexes as the engine's steps emit them."""
        while (token := await seq.tokens.get()) is not None:
            yield token

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()


class ScheduleModel:
    """Every sequence timed from fixed cycles; load never changes the timing."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self.stats = LlmStats()
        self.running: list[Sequence] = []
        self.waiting: deque[Sequence] = deque()
        self.served_ttft: Counter[float] = Counter()
        self.served_gaps: Counter[float] = Counter()
        self._n = 0

    @property
    def kv_usage(self) -> float:
        return 0.0

    def plan(self, n: int, tokens: int) -> Iterator[float]:
        """Request n's delays: its TTFT, then one gap per further token."""
        ttft, gaps = self.schedule.ttft_s, self.schedule.gaps_s
        yield ttft[(n * _STRIDE) % len(ttft)]
        for k in range(1, tokens):
            yield gaps[((n + k) * _STRIDE) % len(gaps)]

    def admit(self, seq: Sequence) -> bool:
        if self.schedule.tokens is not None:
            seq.max_tokens = self.schedule.tokens
        self.stats.prompt_tokens += seq.prompt_tokens
        return True

    async def stream(self, seq: Sequence) -> AsyncIterator[int]:
        """Yield token indexes on absolute due times (arrival + TTFT + gaps): late timers
        do not add up. The handler drives this itself: no task or queue per sequence.

        Times are ``perf_counter`` (the loop's clock may lag its last iteration, and
        uvloop's timers round to milliseconds), re-checked after each sleep, so a token
        is never sent before it is due: a client can only measure at or above the plan.
        """
        n, self._n = self._n, self._n + 1
        self.running.append(seq)
        arrival = due = time.perf_counter()
        try:
            for k, delay in enumerate(self.plan(n, seq.max_tokens)):
                due += delay
                while (wait := due - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                (self.served_ttft if k == 0 else self.served_gaps)[delay] += 1
                if k == 0:
                    self.stats.observe_ttft(time.perf_counter() - arrival)
                self.stats.generation_tokens += 1
                yield k
            self.stats.finished += 1
        finally:
            self.running.remove(seq)

    def served(self) -> dict[str, dict[str, int]]:
        """The TTFTs and gaps actually served, in ms: the exact truth of a run."""
        def ms(c: Counter[float]) -> dict[str, int]:
            return {f"{v * 1000:g}": n for v, n in sorted(c.items())}
        return {"ttft_ms": ms(self.served_ttft), "gap_ms": ms(self.served_gaps)}

    def close(self) -> None:
        """Nothing to stop: each handler drives its own sequence."""


ServingModel = BatchingModel | ScheduleModel
