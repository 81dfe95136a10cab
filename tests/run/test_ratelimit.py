"""The one token bucket (storyboard.ratelimit): bursts up to ``burst``, then ``rate`` per
second, shared fairly; the same bucket paces a run, a cluster and the emulator."""

from __future__ import annotations

import asyncio

import pytest

from storyboard.ratelimit import RateLimiter, TokenBucket, reserve

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


def limiter(fake: FakeTime, rate: float, burst: int) -> RateLimiter:
    return RateLimiter(rate, burst=burst, clock=fake.clock, sleep=fake.sleep)


async def test_a_burst_passes_at_once_then_the_rate_holds() -> None:
    fake = FakeTime()
    paced = limiter(fake, 4.0, burst=3)  # binary-exact steps: a fake clock
    times = []  # does not move by itself, so a rounding error would loop forever
    for _ in range(8):
        await paced.acquire()
        times.append(fake.now)
    assert times[:3] == [0.0, 0.0, 0.0]
    assert times[3:] == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.25])


async def test_idle_time_refills_up_to_the_burst() -> None:
    fake = FakeTime()
    paced = limiter(fake, 2.0, burst=2)
    for _ in range(2):
        await paced.acquire()
    fake.now += 100.0  # a long pause refills, but never beyond the burst
    start = fake.now
    for _ in range(3):
        await paced.acquire()
    assert fake.now - start == pytest.approx(0.5)


async def test_concurrent_callers_share_the_rate() -> None:
    fake = FakeTime()
    paced = limiter(fake, 8.0, burst=1)
    stamps: list[float] = []

    async def call() -> None:
        await paced.acquire()
        stamps.append(fake.now)

    await asyncio.gather(*(call() for _ in range(5)))
    assert sorted(stamps) == pytest.approx([0.0, 0.125, 0.25, 0.375, 0.5])


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(-1.0)
    assert RateLimiter(1.0, burst=0).burst == 1


def test_reserve_paces_requests_after_a_burst() -> None:
    tat, waits = 0.0, []
    for _ in range(6):
        tat, wait = reserve(tat, 100.0, rate=2.0, burst=3)
        waits.append(wait)
    assert waits == [0.0, 0.0, 0.0, 0.5, 1.0, 1.5]
    assert reserve(tat, 1000.0, rate=2.0, burst=3) == (1000.5, 0.0)  # idle: a fresh burst


def test_admit_refuses_without_taking_a_token_and_reserve_always_takes_one() -> None:
    bucket = TokenBucket(rate=2, burst=2)
    assert [bucket.admit(0.0) for _ in range(3)] == [None, None, 0.5]
    assert bucket.admit(0.0) == 0.5  # the refusal took nothing
    assert bucket.reserve(0.0) == 0.5 and bucket.reserve(0.0) == 1.0  # scheduled ahead
    assert bucket.admit(0.5) == 1.0  # both reservations are in the way
    assert bucket.admit(1.5) is None and bucket.admit(1.5) == 0.5
