"""Waiting for a task: the poll schedule (pure) and the parts of the one wait loop,
:meth:`KieClient.wait_for_task <storyboard.providers.kie.client.KieClient.wait_for_task>`.

- :class:`PollPolicy` and :func:`poll_delays` — how often to ask, and for how long;
- :class:`TaskWatch` — what one wait has seen: the state (reported on change), the
  deadline, and the window in which "recordInfo is null" answers are tolerated;
- :class:`Pause` — the sleep between two polls, cut short by a wake-up (a callback);
- :func:`raise_if_failed` — a final record to a result or :class:`GenerationFailed`.
"""

from __future__ import annotations

import asyncio
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
    "NOT_VISIBLE",
    "OnState",
    "Pause",
    "PollPolicy",
    "TaskWatch",
    "poll_delays",
    "raise_if_failed",
]

logger = logging.getLogger("storyboard.kie")

NOT_VISIBLE = "not visible yet"
"""The state a wait reports while recordInfo does not show the task yet."""

OnState = Callable[[str], object]
"""Called with a task's state each time the state a wait sees changes."""


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


class TaskWatch:
    """What one wait for a task has seen: the state (reported on change), the deadline and
    the window of "not visible yet" answers."""

    def __init__(
        self,
        policy: PollPolicy,
        clock: Callable[[], float],
        task_id: str,
        scene: str | None = None,
        on_state: OnState | None = None,
    ) -> None:
        self.policy, self.clock = policy, clock
        self.task_id, self.scene, self.on_state = task_id, scene, on_state
        self.deadline = clock() + policy.timeout
        self.state: str | None = None
        """The last state seen (:data:`NOT_VISIBLE` while the service does not show it)."""
        self.hidden_since: float | None = None
        """When the current run of "not visible yet" answers began."""

    async def poll(self, fetch: Callable[[], Awaitable[TaskRecord]]) -> TaskRecord | None:
        """One poll: the record, or None to poll again — a retryable error that outlasted
        the fetch's own retries, or a task not visible yet (within its window)."""
        try:
            record = await fetch()
        except TaskNotVisible:
            self._not_visible()
            return None
        except KieError as error:
            if not error.retryable:
                raise
            logger.warning("kie.ai: polling continues after %s", type(error).__name__)
            return None
        self.hidden_since = None
        self._seen(record.state)
        return record

    def check_deadline(self, delay: float) -> None:
        """Raise :class:`PollTimeout` when waiting ``delay`` more would pass the deadline."""
        if self.clock() + delay > self.deadline:
            state = self.state or "unknown"
            raise PollTimeout(
                f"task still {state} after {self.policy.timeout:g} s of polling", **self._context
            )

    def _not_visible(self) -> None:
        """Count one not-visible answer; raise PollTimeout once the window is over."""
        now = self.clock()
        self.hidden_since = now if self.hidden_since is None else self.hidden_since
        self._seen(NOT_VISIBLE)
        if now - self.hidden_since >= self.policy.not_visible_timeout:
            raise PollTimeout(
                f"kie.ai still does not show the task after {now - self.hidden_since:.0f} s "
                "(recordInfo is null); it may exist and be billed, so keep its id",
                **self._context,
            )

    def _seen(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if self.on_state is not None:
                self.on_state(state)

    @property
    def _context(self) -> dict[str, str | None]:
        return {"endpoint": "recordInfo", "task_id": self.task_id, "scene": self.scene}


class Pause:
    """The wait between two polls, cut short by ``wake`` (e.g. a completion callback).

    ``wake`` is an awaitable, started at once; when it completes, the current pause (or
    the next one) ends at once and the next poll follows. It wakes the wait once: later
    pauses keep to the schedule, so a callback for a task that recordInfo does not show
    finished yet (or a forged one) cannot turn polling into a busy loop.
    """

    def __init__(self, sleep: Sleep, wake: Awaitable[object] | None = None) -> None:
        self._sleep = sleep
        self._wake = asyncio.ensure_future(wake) if wake is not None else None
        self.woken = False

    async def __call__(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or until the wake-up, whichever comes first."""
        wake = self._wake
        if wake is None or self.woken:
            await self._sleep(delay)
            return
        sleeper = asyncio.ensure_future(self._sleep(delay))
        try:
            await asyncio.wait({sleeper, wake}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
        if sleeper.done() and not sleeper.cancelled():
            sleeper.result()  # a failed sleep fails the wait
        if wake.done():
            self.woken = True
            if not wake.cancelled() and wake.exception() is not None:
                logger.warning("kie.ai: the wake-up failed (%r); polling goes on", wake.exception())

    def close(self) -> None:
        """Stop waiting for the wake-up (the wait is over)."""
        if self._wake is not None:
            self._wake.cancel()


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
