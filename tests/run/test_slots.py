"""Generation slots: highest priority first, kept for an expected claimant of a longer
chain, never leaked by cancellation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storyboard.plan import build_plan
from storyboard.run.slots import PrioritySlots, chain_lengths

from .run_helpers import chain_storyboard, compile_text

pytestmark = pytest.mark.anyio


async def test_waiters_are_served_by_priority_then_arrival() -> None:
    slots = PrioritySlots(1)
    order: list[str] = []
    release = asyncio.Event()

    async def claim(name: str, priority: float) -> None:
        async with slots.hold(priority):
            order.append(name)
            if name == "first":
                await release.wait()

    first = asyncio.create_task(claim("first", 0))
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(claim(n, p)) for n, p in
               (("low", 1), ("high", 3), ("mid-a", 2), ("mid-b", 2))]  # fmt: skip
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *waiters)
    assert order == ["first", "high", "mid-a", "mid-b", "low"]
    assert slots.free == 1


async def test_a_slot_is_kept_for_an_expected_claimant_of_higher_priority() -> None:
    slots = PrioritySlots(1)
    slots.expect("chain-head", 3)
    got: list[str] = []

    async def claim(name: str, priority: float, key: str | None = None) -> None:
        async with slots.hold(priority, key):
            got.append(name)

    single = asyncio.create_task(claim("single", 1))
    await asyncio.sleep(0.01)
    assert got == [] and slots.free == 1  # kept for the chain head, although free
    await claim("chain-head", 3, "chain-head")
    await single
    assert got == ["chain-head", "single"] and slots.expected == {}


async def test_withdrawing_an_expectation_frees_the_slot() -> None:
    slots = PrioritySlots(2)
    slots.expect("a", 5)
    slots.expect("b", 5)
    held = slots.hold(1)  # (kept referenced: a collected context manager releases its slot)
    waiter = asyncio.create_task(held.__aenter__())  # both free slots are kept ...
    await asyncio.sleep(0.01)
    assert not waiter.done() and slots.free == 2
    slots.withdraw("a")  # ... until a claimant will not come
    await asyncio.wait_for(waiter, 1)
    assert slots.free == 1 and slots.expected == {"b": 5}


async def test_equal_priorities_do_not_keep_slots() -> None:
    slots = PrioritySlots(1)
    slots.expect("other", 2)
    async with slots.hold(2):
        assert slots.free == 0


async def test_a_cancelled_waiter_leaks_nothing() -> None:
    slots = PrioritySlots(1)
    async with slots:
        waiter = asyncio.create_task(slots.hold(1).__aenter__())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    assert slots.free == 1
    async with slots.hold(1):
        assert slots.free == 0


async def test_a_waiter_cancelled_as_it_is_served_gives_the_slot_back() -> None:
    slots = PrioritySlots(1)
    async with slots:
        waiter = asyncio.create_task(slots.hold(1).__aenter__())
        await asyncio.sleep(0)
    # leaving the block handed the slot to the waiter, which has not run since
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert slots.free == 1


def test_no_slots_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        PrioritySlots(0)


def test_chain_lengths_count_the_generations_a_scene_unblocks(tmp_path: Path) -> None:
    generations = compile_text(chain_storyboard((3, 1), singles=1), tmp_path)
    plan = build_plan(generations, {"refs/room.png": "a" * 64, "refs/harbour.png": "b" * 64},
                      namespace="offline")  # fmt: skip
    assert chain_lengths(plan) == {"c0s0": 3, "c0s1": 2, "c0s2": 1, "c1s0": 1, "single0": 1}
