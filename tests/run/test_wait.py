"""The runner waits for tasks through the client's one wait loop
(:meth:`KieClient.wait_for_task`): it survives a retryable poll error the way the library
does, and a completion callback ends a wait before the next poll is due."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from storyboard.providers.emulator import EmulatorConfig, InProcessTransport, inprocess_client
from storyboard.providers.emulator.inprocess import FAST_RETRY
from storyboard.providers.kie import CallbackReceiver, KieClient
from storyboard.run.backend import Backend
from storyboard.run.events import Event
from storyboard.run.render import generate_all, prepare

from .run_helpers import Recorder, TinyRenderer, chain_storyboard, fast_options, shared_emulator

pytestmark = pytest.mark.anyio

CALLBACK_URL = "http://runner.invalid/kie/callback"


def board(project: Path, chains: tuple[int, ...], singles: int = 0) -> Path:
    path = project / "storyboard.yaml"
    path.write_text(chain_storyboard(chains, singles), encoding="utf-8")
    return path


async def test_the_runner_survives_a_retryable_poll_error(
    project: Path, tiny_renderer: TinyRenderer
) -> None:
    """Every try of the first poll answers 500 (the client's retries run out): the wait
    goes on, and the next poll finds the task — no new task, no failed scene."""
    path = board(project, (1,))
    tries = FAST_RETRY.max_attempts
    config = EmulatorConfig(renderer=tiny_renderer, latency=0.3, credits=10**6)
    async with shared_emulator(config) as (backend, emulator):
        recorder = Recorder()

        def sink(event: Event) -> None:
            recorder(event)
            if event.message == "task created":  # the next API call is the first poll
                emulator.faults.force("http_error", tries, code=500)

        result = await generate_all(prepare(path, backend), fast_options(), sink)
        stats = emulator.stats()
    assert result.ok, result.to_json()
    assert stats["faults_injected"] == {"http_error": tries}
    assert stats["polls"] > tries  # the faulted poll's tries, then the polls that found it
    assert stats["create_task_calls"] == stats["tasks_created"] == 1
    assert "retrying" not in recorder.states("generate:c0s0")


async def never(seconds: float) -> None:
    """A poll interval that never ends: only a wake-up can end the pause."""
    await asyncio.Event().wait()


async def test_a_callback_ends_the_runners_wait_before_the_next_poll(
    project: Path, tiny_renderer: TinyRenderer
) -> None:
    """The client's pauses never end by themselves, so the run can finish only because
    each task's callback woke its wait: at most one poll before the callback and one
    after it, per task."""
    path = board(project, (2,), singles=1)
    receiver = CallbackReceiver(None)
    config = EmulatorConfig(
        renderer=tiny_renderer,
        latency=0.3,
        credits=10**6,
        callback_transport=InProcessTransport(receiver),
    )
    client, emulator = inprocess_client(config, sleep=never)

    @asynccontextmanager
    async def factory() -> AsyncIterator[KieClient]:
        yield client

    backend = Backend("offline", "offline", billed=False, factory=factory)
    options = fast_options(callbacks=receiver, callback_url=CALLBACK_URL)
    try:
        async with asyncio.timeout(60):  # a safety bound, not a measurement
            result = await generate_all(prepare(path, backend), options, Recorder())
        stats = emulator.stats()
    finally:
        await client.aclose()
        await emulator.aclose()
    assert result.ok, result.to_json()
    assert stats["tasks_created"] == stats["callbacks_sent"] == 3
    assert stats["polls"] <= 2 * 3
