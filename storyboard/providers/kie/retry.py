"""The retry policy: which failures are repeated, and how long to wait between tries.

Pure except :func:`call_with_retries`, which takes its ``sleep`` as a parameter so tests
run instantly. Policy (see docs/kie.md):

=====================  ========  ===========================================
failure                retried   note
=====================  ========  ===========================================
429 rate limited       yes       waits ``Retry-After`` when the answer has it
455 maintenance        yes
500 / gateway 5xx      yes
network error/timeout  yes       except :class:`CreateTaskUncertain`
401 402 404 422 505    no
501 generation failed  no        the caller may create a new task (budget)
=====================  ========  ===========================================
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from storyboard.providers.kie.errors import KieApiError, KieError

__all__ = [
    "RETRYABLE_CODES",
    "RetryPolicy",
    "Sleep",
    "backoff_delay",
    "call_with_retries",
    "parse_retry_after",
    "retry_delay",
]

RETRYABLE_CODES = frozenset({429, 455, 500})
"""Envelope codes the client retries (plus network errors)."""

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
logger = logging.getLogger("storyboard.kie")


class RetryPolicy(BaseModel):
    """How often and how patiently a failed call is repeated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(5, ge=1, description="Tries per call, the first included.")
    base_delay: float = Field(1.0, ge=0, description="Backoff base in seconds (doubles).")
    max_delay: float = Field(30.0, ge=0, description="Cap of one backoff wait in seconds.")
    max_retry_after: float = Field(
        120.0, ge=0, description="Longest Retry-After (seconds) honoured; longer ones are cut."
    )


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Exponential backoff with full jitter for the wait after failed try ``attempt`` (1-based)."""
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
    return rng.uniform(0, ceiling)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_delay(
    error: KieError, attempt: int, policy: RetryPolicy, rng: random.Random
) -> float | None:
    """How long to wait before the next try, or None when the call must not be repeated."""
    if not error.retryable or attempt >= policy.max_attempts:
        return None
    after = error.retry_after if isinstance(error, KieApiError) else None
    if after is not None:
        return min(after, policy.max_retry_after)
    return backoff_delay(attempt, policy, rng)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Sleep,
    rng: random.Random,
) -> T:
    """Run ``call`` until it succeeds, raises a non-retryable error, or tries run out."""
    attempt = 1
    while True:
        try:
            return await call()
        except KieError as error:
            delay = retry_delay(error, attempt, policy, rng)
            if delay is None:
                raise
            logger.info(
                "kie.ai: %s; retry %d/%d in %.2f s",
                type(error).__name__,
                attempt,
                policy.max_attempts - 1,
                delay,
            )
            await sleep(delay)
            attempt += 1
