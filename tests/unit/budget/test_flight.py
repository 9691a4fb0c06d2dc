"""Store calls on the request path: shared when identical, queued past a limit."""

from __future__ import annotations

import asyncio

import pytest

from router.budget.flight import COOLDOWN, Gate, SingleFlight
from router.store.base import StoreUnavailable


async def test_concurrent_identical_calls_share_one() -> None:
    calls = 0
    release = asyncio.Event()

    async def fetch() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return calls

    flight: SingleFlight[str, int] = SingleFlight()
    waiting = [asyncio.ensure_future(flight.run("k", fetch)) for _ in range(50)]
    other = asyncio.ensure_future(flight.run("other", fetch))
    await asyncio.sleep(0)
    release.set()
    assert len(set(await asyncio.gather(*waiting))) == 1  # all 50 got the one answer
    await other
    assert calls == 2  # one for "k", one for "other"
    assert await flight.run("k", fetch) == 3  # a later call fetches again


async def test_a_cancelled_caller_does_not_cancel_the_shared_call() -> None:
    release = asyncio.Event()

    async def fetch() -> str:
        await release.wait()
        return "done"

    flight: SingleFlight[str, str] = SingleFlight()
    first = asyncio.ensure_future(flight.run("k", fetch))
    second = asyncio.ensure_future(flight.run("k", fetch))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    assert await second == "done"


async def test_the_gate_queues_past_its_limit() -> None:
    gate = Gate(2, timeout=0.1)
    running = peak = 0

    async def work() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1

    # 10 calls of 0.05 s two at a time: the last waits 0.2 s, more than one call's timeout.
    await asyncio.gather(*(gate.call(work) for _ in range(10)))
    assert peak == 2


async def test_a_store_that_stops_answering_opens_the_breaker_for_a_moment() -> None:
    now = [100.0]
    gate = Gate(2, timeout=0.05, clock=lambda: now[0])

    async def stuck() -> None:
        await asyncio.sleep(5)

    async def quick() -> str:
        return "ok"

    with pytest.raises(TimeoutError):
        await gate.call(stuck)
    with pytest.raises(StoreUnavailable):
        await gate.call(quick)  # fails at once while the breaker is open
    now[0] += COOLDOWN
    assert await gate.call(quick) == "ok"
