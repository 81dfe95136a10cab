"""Generation slots handed out critical path first.

A run may have only ``concurrency`` generations in flight. Which waiting generation gets
a freed slot matters: a continuity chain is the critical path of most storyboards, and
every link that waits behind an independent scene delays the end of the run by a whole
generation. :class:`PrioritySlots` gives slots by priority (the length of the longest
chain of generations a scene unblocks, :func:`chain_lengths`), and keeps a slot for a
generation that is *expected*: one whose upstream generations are done and which is only
waiting for cheap steps (an upload, a last-frame extraction). So the next link of a chain
takes over its predecessor's slot instead of losing it to a scene that happened to be
ready a few milliseconds earlier.

A run asks its slots only through :class:`Slots`: :class:`PrioritySlots` (the default),
or :class:`SharedSlot` around a plain slot shared with other runs (a batch's semaphore,
a cluster-wide lease), which serves first come first served.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import Any, Protocol

import networkx as nx

from storyboard.plan import NodeId, Plan

__all__ = ["PrioritySlots", "SharedSlot", "Slots", "chain_lengths", "run_slots"]


def chain_lengths(plan: Plan) -> dict[str, int]:
    """Per scene: the most generations on one path from it to the end, itself included."""
    graph = plan.graph
    length: dict[NodeId, int] = {}
    for node in reversed(list(nx.topological_sort(graph))):
        below = max((length[n] for n in graph.successors(node)), default=0)
        length[node] = below + (1 if node.kind == "generate" else 0)
    return {n.name: v for n, v in length.items() if n.kind == "generate"}


class Slots(Protocol):
    """What a run asks of its generation slots."""

    def expect(self, key: str, priority: float) -> None:
        """``key`` will ask soon, at ``priority``: keep a slot for it if that matters."""

    def withdraw(self, key: str) -> None:
        """``key`` will not ask after all (or not now)."""

    def hold(
        self, priority: float = 0.0, key: str | None = None
    ) -> AbstractAsyncContextManager[object]:
        """A slot for the ``async with`` block (``key``'s, if it was expected)."""
        ...


class SharedSlot:
    """A plain slot shared with other runs (``async with slot:`` holds one, e.g. a
    semaphore or a cluster-wide lease) as :class:`Slots`: first come first served, so
    priorities and announcements are ignored."""

    def __init__(self, slot: AbstractAsyncContextManager[Any]) -> None:
        self.slot = slot

    def expect(self, key: str, priority: float) -> None:
        """Nothing to keep: the shared slot has no priorities."""

    def withdraw(self, key: str) -> None:
        """Nothing was kept."""

    def hold(
        self, priority: float = 0.0, key: str | None = None
    ) -> AbstractAsyncContextManager[object]:
        """The shared slot itself (each ``async with`` takes one)."""
        return self.slot


def run_slots(shared: AbstractAsyncContextManager[Any] | None, size: int) -> Slots:
    """A run's slots: the ``shared`` slot when given, else ``size`` local priority slots."""
    return PrioritySlots(size) if shared is None else SharedSlot(shared)


class PrioritySlots:
    """``size`` slots, given to the highest priority first (first come first served among
    equals), with slots kept for expected claimants of higher priority.

    ``async with slots.hold(priority, key):`` holds one; ``expect(key, priority)`` announces
    a claimant that will ask soon, ``withdraw(key)`` cancels the announcement (asking for
    the slot consumes it). ``async with slots:`` holds a slot at priority 0.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("at least one slot")
        self.size, self._free = size, size
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._expected: dict[str, float] = {}
        self._order = itertools.count()

    @property
    def free(self) -> int:
        """Slots neither held nor promised to a waiter."""
        return self._free

    @property
    def expected(self) -> dict[str, float]:
        """Announced claimants and their priorities."""
        return dict(self._expected)

    def expect(self, key: str, priority: float) -> None:
        """Keep a slot for ``key`` from lower priorities until it asks or is withdrawn."""
        self._expected[key] = priority

    def withdraw(self, key: str) -> None:
        """``key`` will not ask after all (or not now)."""
        if self._expected.pop(key, None) is not None:
            self._dispatch()

    @asynccontextmanager
    async def hold(self, priority: float = 0.0, key: str | None = None) -> AsyncIterator[None]:
        """Hold a slot for the ``async with`` block."""
        await self._acquire(priority, key)
        try:
            yield
        finally:
            self._release()

    async def __aenter__(self) -> None:
        await self._acquire(0.0, None)

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._release()

    async def _acquire(self, priority: float, key: str | None) -> None:
        if key is not None:
            self._expected.pop(key, None)
        waiter = asyncio.get_running_loop().create_future()
        entry = (-priority, next(self._order), waiter)
        heapq.heappush(self._waiting, entry)
        self._dispatch()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the slot was handed over just as we were cancelled
            elif entry in self._waiting:
                self._waiting.remove(entry)
                heapq.heapify(self._waiting)
                self._dispatch()
            raise

    def _release(self) -> None:
        self._free += 1
        self._dispatch()

    def _dispatch(self) -> None:
        """Hand free slots to the best waiters, keeping one per better expected claimant."""
        while self._free > 0 and self._waiting:
            best = -self._waiting[0][0]
            kept = sum(1 for p in self._expected.values() if p > best)
            if self._free <= kept:
                return
            waiter = heapq.heappop(self._waiting)[2]
            if not waiter.done():
                self._free -= 1
                waiter.set_result(None)
