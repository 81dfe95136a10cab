"""Polling a task until it finishes: the backoff schedule (pure) and the wait loop."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator

from pydantic import BaseModel, ConfigDict, Field

from storyboard.providers.kie.errors import (
    GenerationFailed,
    KieError,
    PollTimeout,
    TaskNotVisible,
)
from storyboard.providers.kie.models import TaskRecord
from storyboard.providers.kie.retry import Sleep

__all__ = [
    "NotVisibleWindow",
    "PollPolicy",
    "poll_delays",
    "poll_until_done",
    "raise_if_failed",
]

logger = logging.getLogger("storyboard.kie")


class PollPolicy(BaseModel):
    """The recordInfo polling schedule (provider advice: start at 2-3 s). Live tasks take
    2-3 min and have been seen pending past 5 min, so the wait limit is 30 min."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    initial: float = Field(2.5, ge=0, description="First wait in seconds.")
    factor: float = Field(1.5, ge=1, description="Each wait is the previous one times this.")
    max_interval: float = Field(
        10.0,
        ge=0,
        description="Longest wait between polls (seconds); a finished clip is noticed at "
        "most this late, and a continuity chain pays that at every link.",
    )
    timeout: float = Field(
        1800.0, gt=0, description="Give up waiting for a generation after this many seconds."
    )
    not_visible_timeout: float = Field(
        120.0,
        gt=0,
        description="How long recordInfo may answer 'recordInfo is null' / data: null (the "
        "task not visible yet, right after createTask) before the wait gives up.",
    )


def poll_delays(policy: PollPolicy) -> Iterator[float]:
    """The endless sequence of waits between polls: initial, ×factor, capped."""
    delay = policy.initial
    while True:
        yield min(delay, policy.max_interval)
        delay = min(delay * policy.factor, policy.max_interval)


async def poll_until_done(
    fetch: Callable[[], Awaitable[TaskRecord]],
    policy: PollPolicy,
    *,
    sleep: Sleep,
    clock: Callable[[], float],
    task_id: str,
    scene: str | None = None,
) -> TaskRecord:
    """Fetch the task until it is final; raise GenerationFailed on ``fail``.

    Retryable errors that outlast the fetch's own retries do not end the wait: the next
    poll tries again, until the overall timeout.
    """
    deadline = clock() + policy.timeout
    invisible = NotVisibleWindow(policy, clock)
    for delay in poll_delays(policy):
        record = await invisible.fetch(fetch, task_id, scene)
        if record is not None and record.is_final:
            return raise_if_failed(record, scene)
        if clock() + delay > deadline:
            state = record.state if record else "unknown"
            raise PollTimeout(
                f"task still {state} after {policy.timeout:g} s of polling",
                endpoint="recordInfo",
                task_id=task_id,
                scene=scene,
            )
        await sleep(delay)
    raise AssertionError("poll_delays is endless")  # pragma: no cover


class NotVisibleWindow:
    """Tolerates "recordInfo is null" / ``data: null`` answers for a bounded time: the
    window opens at the first such answer and closes at the next real record."""

    def __init__(self, policy: PollPolicy, clock: Callable[[], float]) -> None:
        self.policy, self.clock = policy, clock
        self.since: float | None = None

    async def fetch(
        self, fetch: Callable[[], Awaitable[TaskRecord]], task_id: str, scene: str | None
    ) -> TaskRecord | None:
        """One poll: the record, None to poll again, or PollTimeout past the window."""
        try:
            record = await _fetch_tolerant(fetch)
        except TaskNotVisible:
            self.check(task_id, scene)
            return None
        self.since = None
        return record

    def check(self, task_id: str, scene: str | None) -> None:
        """Record one not-visible answer; raise PollTimeout once the window is over."""
        now = self.clock()
        self.since = now if self.since is None else self.since
        if now - self.since >= self.policy.not_visible_timeout:
            raise PollTimeout(
                f"kie.ai still does not show the task after {now - self.since:.0f} s "
                "(recordInfo is null); it may exist and be billed, so keep its id and "
                "poll it again later",
                endpoint="recordInfo",
                task_id=task_id,
                scene=scene,
            )


async def _fetch_tolerant(fetch: Callable[[], Awaitable[TaskRecord]]) -> TaskRecord | None:
    try:
        return await fetch()
    except KieError as error:
        if not error.retryable:
            raise
        logger.warning("kie.ai: polling continues after %s", type(error).__name__)
        return None


def raise_if_failed(record: TaskRecord, scene: str | None = None) -> TaskRecord:
    """Return a successful record; raise GenerationFailed for a failed one."""
    if record.state == "success":
        return record
    raise GenerationFailed(
        f"generation failed: {record.fail_msg or 'no reason given'}"
        f" (failCode {record.fail_code or '?'})",
        fail_code=record.fail_code,
        fail_msg=record.fail_msg,
        endpoint="recordInfo",
        task_id=record.task_id,
        scene=scene,
    )
