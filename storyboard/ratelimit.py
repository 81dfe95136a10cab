"""One token bucket for every request rate: the runner's, a batch's and the emulator's.

The bucket is kept as GCRA (the generic cell rate algorithm): one number, the
"theoretical arrival time" (``tat``) of the next request. Up to ``burst`` requests may go
at once, then one every ``1/rate`` seconds; idle time refills the burst. One float of
state is what lets a cluster keep the bucket in a shared variable (``recipes.limits``).

- :func:`reserve` — the pure step: a request at ``now`` -> the next ``tat`` and its wait;
- :class:`TokenBucket` — that step with its state: ``reserve(now)`` (a client paces
  itself) and ``admit(now)`` (a server refuses what is over the rate);
- :class:`RateLimiter` — ``await limiter.acquire()`` before each request (asyncio);
- :class:`Limiter` — what a run accepts as its limiter (anything with ``acquire``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

__all__ = ["Limiter", "RateLimiter", "TokenBucket", "reserve"]


class Limiter(Protocol):
    """Anything with ``await acquire()`` that paces requests (local or cluster-wide)."""

    async def acquire(self) -> None: ...


def reserve(tat: float, now: float, rate: float, burst: float) -> tuple[float, float]:
    """One request under the bucket: ``(next tat, seconds to wait before sending)``.

    ``tat`` is the theoretical arrival time after the requests reserved so far.
    """
    interval = 1.0 / rate
    new_tat = max(tat, now) + interval
    return new_tat, max(0.0, new_tat - max(1.0, burst) * interval - now)


class TokenBucket:
    """``rate`` requests per second on average, bursts up to ``burst`` (pure: the caller
    passes the time)."""

    def __init__(self, rate: float, burst: float = 1) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate, self.burst = rate, max(1.0, burst)
        self.tat: float | None = None
        """The theoretical arrival time of the next request; None: a full burst."""

    def reserve(self, now: float) -> float:
        """Take the next free send time: the seconds to wait until it (0: send now)."""
        self.tat, wait = reserve(now if self.tat is None else self.tat, now, self.rate, self.burst)
        return wait

    def admit(self, now: float) -> float | None:
        """None when a request may go now (it takes a token), else the seconds until one
        could (nothing taken)."""
        tat, wait = reserve(now if self.tat is None else self.tat, now, self.rate, self.burst)
        if wait > 0:
            return wait
        self.tat = tat
        return None


class RateLimiter:
    """At most ``rate`` acquisitions per second, with bursts up to ``burst``; callers are
    served in the order they ask."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._bucket = TokenBucket(rate, burst)
        self.rate, self.burst = rate, max(1, burst)
        self._clock, self._sleep = clock, sleep
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until a request may be sent."""
        async with self._lock:
            wait = self._bucket.reserve(self._clock())
            if wait > 0:
                await self._sleep(wait)
