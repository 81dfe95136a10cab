"""Generation slots: highest priority first, kept for an expected claimant of a longer
chain, never leaked by cancellation; a slot shared with other runs behind the same
interface."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storyboard.plan import build_plan
from storyboard.providers.emulator import EmulatorConfig
from storyboard.run.render import generate_all, prepare
from storyboard.run.slots import PrioritySlots, SharedSlot, chain_lengths, run_slots

from .run_helpers import (
    Recorder,
    TinyRenderer,
    chain_storyboard,
    compile_text,
    fast_options,
    shared_emulator,
)

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
    waiters = [
        asyncio.create_task(claim(n, p))
        for n, p in (("low", 1), ("high", 3), ("mid-a", 2), ("mid-b", 2))
    ]
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
    plan = build_plan(
        generations, {"refs/room.png": "a" * 64, "refs/harbour.png": "b" * 64}, namespace="offline"
    )
    assert chain_lengths(plan) == {"c0s0": 3, "c0s1": 2, "c0s2": 1, "c1s0": 1, "single0": 1}


class CountingSlot:
    """A plain slot shared with other runs (one holder at a time), counting its holders."""

    def __init__(self) -> None:
        self._lock = asyncio.Semaphore(1)
        self.entries = self.holders = self.most = 0

    async def __aenter__(self) -> None:
        await self._lock.acquire()
        self.entries, self.holders = self.entries + 1, self.holders + 1
        self.most = max(self.most, self.holders)

    async def __aexit__(self, *exc: object) -> None:
        self.holders -= 1
        self._lock.release()


async def test_a_shared_slot_answers_the_same_interface_first_come_first_served() -> None:
    shared = CountingSlot()
    slots = run_slots(shared, 4)
    assert isinstance(slots, SharedSlot) and isinstance(run_slots(None, 2), PrioritySlots)
    slots.expect("high", 5)  # nothing to keep: a shared slot has no priorities
    order: list[str] = []

    async def claim(name: str, priority: float) -> None:
        async with slots.hold(priority, name):
            order.append(name)
            await asyncio.sleep(0)

    await asyncio.gather(claim("low", 1), claim("high", 3))
    slots.withdraw("high")
    assert order == ["low", "high"] and shared.entries == 2 and shared.most == 1


async def test_a_run_holds_the_shared_slot_for_each_generation(
    project: Path, tiny_renderer: TinyRenderer
) -> None:
    path = project / "storyboard.yaml"
    path.write_text(chain_storyboard((2,), singles=2), encoding="utf-8")
    shared = CountingSlot()
    config = EmulatorConfig(renderer=tiny_renderer, latency=0.1, credits=10**6)
    async with shared_emulator(config) as (backend, emulator):
        result = await generate_all(prepare(path, backend), fast_options(slots=shared), Recorder())
    assert result.ok, result.to_json()
    assert shared.entries == emulator.counters.tasks_created == 4 and shared.most == 1
