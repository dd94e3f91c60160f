"""Inference slots: FIFO hand-over, the bounded queue, the nominal timeline. No network."""

from __future__ import annotations

import asyncio

import pytest

from mock_server.capacity import MAX_CATCHUP_S, Slots


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_unlimited_slots_always_admit_and_start_at_once() -> None:
    async def go() -> None:
        slots = Slots(0, None)
        starts = [await slots.acquire(10.0) for _ in range(100)]
        assert starts == [10.0] * 100
        assert slots.admit() and slots.busy == 100

    run(go())


def test_requests_beyond_the_slots_wait_and_beyond_the_queue_are_turned_away() -> None:
    async def go() -> None:
        slots = Slots(2, 1)
        await slots.acquire(0.0)
        await slots.acquire(0.0)
        assert slots.admit()  # the queue has room for one
        waiter = asyncio.ensure_future(slots.acquire(0.0))
        await asyncio.sleep(0)
        assert slots.waiting == 1
        assert not slots.admit()
        slots.release(0.010)
        assert await waiter == 0.010  # starts when the slot nominally became free
        assert (slots.busy, slots.waiting) == (2, 0)

    run(go())


def test_waiters_get_slots_in_arrival_order() -> None:
    async def go() -> None:
        slots = Slots(1, None)
        await slots.acquire(0.0)
        order: list[int] = []

        async def wait(i: int) -> None:
            await slots.acquire(0.0)
            order.append(i)
            slots.release(float(i))

        tasks = [asyncio.ensure_future(wait(i)) for i in range(5)]
        await asyncio.sleep(0)
        slots.release(0.0)
        await asyncio.gather(*tasks)
        assert order == [0, 1, 2, 3, 4]

    run(go())


def test_a_cancelled_waiter_does_not_lose_the_slot() -> None:
    async def go() -> None:
        slots = Slots(1, None)
        await slots.acquire(0.0)
        doomed = asyncio.ensure_future(slots.acquire(0.0))
        survivor = asyncio.ensure_future(slots.acquire(0.0))
        await asyncio.sleep(0)
        doomed.cancel()
        await asyncio.sleep(0)
        slots.release(1.0)
        assert await survivor == 1.0
        with pytest.raises(asyncio.CancelledError):
            await doomed
        slots.release(2.0)
        assert (slots.busy, slots.waiting) == (0, 0)

    run(go())


def test_timer_lateness_is_paid_back_but_only_up_to_the_cap() -> None:
    async def go() -> None:
        slots = Slots(1, None)
        await slots.acquire(0.0)
        slots.release(1.000, now=1.002)  # finished 2 ms late: the next start keeps 1.000
        assert await slots.acquire(0.5) == 1.000
        slots.release(2.000, now=3.000)  # a long pause: no burst of catch-up afterwards
        assert await slots.acquire(0.5) == pytest.approx(3.000 - MAX_CATCHUP_S)

    run(go())


def test_an_idle_slot_starts_a_new_request_at_its_arrival() -> None:
    async def go() -> None:
        slots = Slots(1, None)
        await slots.acquire(0.0)
        slots.release(1.0, now=1.0)
        assert await slots.acquire(5.0) == 5.0

    run(go())
