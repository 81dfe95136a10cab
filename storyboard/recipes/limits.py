"""Cluster-wide generation slots and request rate, on dask.distributed primitives.

A batch on Dask runs many storyboards in many processes, but the account's limits are
global: at most ``concurrency`` generations in flight and ``rate`` requests per second,
across every worker. These implement :class:`~storyboard.run.steps.RunOptions`' hooks:

- slots: a ``distributed.Semaphore(max_leases=concurrency)``. Its leases are refreshed
  by the holder and expire when a worker dies (``distributed.scheduler.locks.
  lease-timeout``), so a killed worker's slots come back.
- rate: the token bucket of :mod:`storyboard.ratelimit`, its one number (the
  "theoretical arrival time" of the next request, :func:`~storyboard.ratelimit.reserve`)
  kept in a ``distributed.Variable`` and updated under a ``distributed.Lock``; each
  request reserves its send time and sleeps until then.

The distributed API is synchronous from a task's threads; its blocking calls run on a
small thread pool per job, sized so a release always finds a free thread (an asyncio
gate admits at most ``concurrency`` acquirers). dask is imported lazily.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
import uuid
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from storyboard.ratelimit import reserve

__all__ = ["ClusterLimits", "ClusterRateLimiter", "ClusterSlots", "distributed"]


def distributed() -> Any:
    """``dask.distributed``, imported on first use (it is an optional dependency)."""
    return importlib.import_module("distributed")


@dataclass(frozen=True)
class ClusterLimits:
    """Names and sizes of a batch's shared limits (plain data: it travels to workers)."""

    slots_name: str
    concurrency: int
    rate_name: str
    rate: float
    burst: int

    @classmethod
    def create(cls, client: Any, concurrency: int, rate: float) -> ClusterLimits:
        """Register the semaphore and the bucket's state on ``client``'s scheduler."""
        dd = distributed()
        batch = uuid.uuid4().hex[:12]
        limits = cls(
            f"storyboard-slots-{batch}",
            concurrency,
            f"storyboard-rate-{batch}",
            rate,
            burst=concurrency,
        )
        limits._semaphore(client).register()
        dd.Variable(limits.rate_name, client=client).set(0.0)
        return limits

    def close(self, client: Any) -> None:
        """Remove the semaphore and the bucket from the scheduler (end of the batch).

        A worker that died mid-batch may still hold a lease until Dask's lease timeout;
        the scheduler then warns while closing. The batch has finished, so that lease
        no longer matters: the warning is silenced here.
        """
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Closing semaphore", RuntimeWarning)
            # raised through the RPC when warnings are errors
            with contextlib.suppress(RuntimeWarning):
                self._semaphore(client).close()
        distributed().Variable(self.rate_name, client=client).delete()

    def _semaphore(self, client: Any) -> Any:
        """The slots semaphore, bound to ``client`` (not whichever client is the default)."""
        return distributed().Semaphore(
            max_leases=self.concurrency,
            name=self.slots_name,
            scheduler_rpc=client.scheduler,
            loop=client.loop,
        )

    @contextmanager
    def open(self) -> Iterator[tuple[ClusterSlots, ClusterRateLimiter]]:
        """The hooks for one job on a worker (call from the task's thread)."""
        dd = distributed()
        semaphore = dd.Semaphore(max_leases=self.concurrency, name=self.slots_name)
        lock = dd.Lock(f"{self.rate_name}-lock")
        state = dd.Variable(self.rate_name, client=dd.get_client())
        slots = ClusterSlots(semaphore, self.concurrency)
        limiter = ClusterRateLimiter(lock, state, self.rate, self.burst)
        try:
            yield slots, limiter
        finally:
            slots.close()
            limiter.close()
            for primitive in (semaphore, lock):
                callback = getattr(primitive, "refresh_callback", None)
                if callback is not None:
                    callback.stop()


class ClusterSlots:
    """``async with slots:`` holds one lease of the cluster-wide semaphore."""

    def __init__(self, semaphore: Any, concurrency: int) -> None:
        self._semaphore = semaphore
        self._gate = asyncio.Semaphore(concurrency)
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="storyboard-slots")

    async def __aenter__(self) -> ClusterSlots:
        await self._gate.acquire()
        try:
            await asyncio.get_running_loop().run_in_executor(self._pool, self._semaphore.acquire)
        except BaseException:
            self._gate.release()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._pool, self._semaphore.release)
        finally:
            self._gate.release()

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class ClusterRateLimiter:
    """``await limiter.acquire()`` paces requests across the cluster (see :func:`reserve`)."""

    def __init__(
        self, lock: Any, state: Any, rate: float, burst: int, *, timeout: float = 30.0
    ) -> None:
        self._lock, self._state = lock, state
        self.rate, self.burst, self.timeout = rate, burst, timeout
        self._local = asyncio.Lock()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="storyboard-rate")

    async def acquire(self) -> None:
        """Reserve the next send time cluster-wide, then wait for it."""
        async with self._local:
            wait = await asyncio.get_running_loop().run_in_executor(self._pool, self._reserve)
        if wait > 0:
            await asyncio.sleep(wait)

    def _reserve(self) -> float:
        if not self._lock.acquire(timeout=self.timeout):
            return 0.0  # the scheduler is unreachable or stuck: don't stall the batch
        try:
            tat = float(self._state.get(timeout=self.timeout))
            new_tat, wait = reserve(tat, time.time(), self.rate, self.burst)
            self._state.set(new_tat)
        finally:
            self._lock.release()
        return wait

    def close(self) -> None:
        self._pool.shutdown(wait=True)
