"""The request-rate limiter: bursts up to ``burst``, then ``rate`` per second, shared fairly."""

from __future__ import annotations

import asyncio
import types

import pytest

from storyboard.run import ratelimit
from storyboard.run.ratelimit import RateLimiter

pytestmark = pytest.mark.anyio


class FakeTime:
    """A clock that only moves when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    time = FakeTime()
    patched = types.SimpleNamespace(sleep=time.sleep, Lock=asyncio.Lock)
    monkeypatch.setattr(ratelimit, "asyncio", patched)
    return time


async def test_a_burst_passes_at_once_then_the_rate_holds(fake: FakeTime) -> None:
    limiter = RateLimiter(4.0, burst=3, clock=fake.clock)  # binary-exact steps: a fake clock
    times = []  # does not move by itself, so a rounding error would loop forever
    for _ in range(8):
        await limiter.acquire()
        times.append(fake.now)
    assert times[:3] == [0.0, 0.0, 0.0]
    assert times[3:] == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.25])


async def test_idle_time_refills_up_to_the_burst(fake: FakeTime) -> None:
    limiter = RateLimiter(2.0, burst=2, clock=fake.clock)
    for _ in range(2):
        await limiter.acquire()
    fake.now += 100.0  # a long pause refills, but never beyond the burst
    start = fake.now
    for _ in range(3):
        await limiter.acquire()
    assert fake.now - start == pytest.approx(0.5)


async def test_concurrent_callers_share_the_rate(fake: FakeTime) -> None:
    limiter = RateLimiter(8.0, burst=1, clock=fake.clock)
    stamps: list[float] = []

    async def call() -> None:
        await limiter.acquire()
        stamps.append(fake.now)

    await asyncio.gather(*(call() for _ in range(5)))
    assert sorted(stamps) == pytest.approx([0.0, 0.125, 0.25, 0.375, 0.5])


async def test_real_time_pacing() -> None:
    limiter = RateLimiter(50.0, burst=1)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(6):
        await limiter.acquire()
    assert loop.time() - start >= 0.09


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)
    assert RateLimiter(1.0, burst=0).burst == 1
