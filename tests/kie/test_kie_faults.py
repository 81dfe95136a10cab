"""Seeded fault injection: a batch of generations survives 20 % HTTP errors and 10 %
generation failures, and no generation is ever created twice."""

# ruff: noqa: ASYNC240 - tests may touch the disk from async code

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storyboard.providers.emulator import EmulatorConfig, FaultConfig, FaultInjector, inprocess
from storyboard.providers.kie import GenerationFailed, KieClient, RetryPolicy

from .kie_helpers import FAKE_CLIP_HEADER, body, fake_render

pytestmark = pytest.mark.anyio

NEW_TASK_BUDGET = 3
"""New tasks a generation may create after a failed one (each costs credits)."""


async def generate(client: KieClient, scene: str, dest: Path, created: list[str]) -> Path:
    """What the runner does: create, wait, download; a failed generation gets a new task."""
    for attempt in range(1 + NEW_TASK_BUDGET):
        task_id = await client.create_task(body(f"{scene}, take {attempt}"), scene=scene)
        created.append(task_id)
        try:
            record = await client.wait_for_task(task_id, scene=scene)
        except GenerationFailed:
            continue
        return await client.download_result(record, dest, scene=scene)
    raise AssertionError(f"{scene}: the new-task budget ran out")


async def test_a_batch_survives_http_errors_and_generation_failures(tmp_path: Path) -> None:
    faults = FaultConfig(seed=2026, http_error_rate=0.2, generation_fail_rate=0.1, retry_after=0)
    config = EmulatorConfig(renderer=fake_render, faults=faults, latency=0.05)
    retry = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05)
    created: list[str] = []
    async with inprocess(config, settings_overrides={"retry": retry}) as (client, emulator):
        clips = await asyncio.gather(
            *(generate(client, f"scene-{n}", tmp_path / f"{n}.mp4", created) for n in range(20))
        )
        stats = emulator.stats()
    assert all(clip.read_bytes().startswith(FAKE_CLIP_HEADER) for clip in clips)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.mp4" for n in range(20))
    by_state = stats["tasks_by_state"]
    assert by_state["success"] == 20
    # every task the emulator created was handed to exactly one caller: none created twice
    assert len(created) == len(set(created)) == stats["tasks_created"]
    assert stats["tasks_created"] == 20 + by_state.get("fail", 0)
    assert stats["faults_injected"]["http_error"] > 0
    assert stats["faults_injected"].get("generation_fail", 0) == by_state.get("fail", 0)
    # faulted createTask calls created nothing and were retried
    assert stats["create_task_calls"] > stats["tasks_created"]
    assert stats["credits_spent"] == 20 * 180


def test_faults_are_seeded_and_repeatable() -> None:
    config = FaultConfig(seed=7, http_error_rate=0.3, generation_fail_rate=0.5)
    runs = []
    for _ in range(2):
        injector = FaultInjector(config)
        runs.append([injector.roll("http_error") for _ in range(50)])
    assert runs[0] == runs[1]
    codes = {fault.code for fault in runs[0] if fault is not None}
    assert codes <= {500, 429, 455} and len(codes) > 1
    hits = sum(fault is not None for fault in runs[0])
    assert 5 <= hits <= 25


def test_forced_faults_come_first_and_unknown_kinds_are_refused() -> None:
    injector = FaultInjector(FaultConfig())
    injector.force("http_error", 2, code=429)
    assert [injector.roll("http_error") for _ in range(3)] == [
        injector_fault(429),
        injector_fault(429),
        None,
    ]
    with pytest.raises(ValueError, match="unknown fault kind"):
        injector.force("meteor")


def injector_fault(code: int) -> object:
    from storyboard.providers.emulator.faults import Fault

    return Fault("http_error", code)


@pytest.mark.parametrize(("profile", "status"), [("docs", 429), ("live", 200)])
async def test_injected_429_carries_retry_after(profile: str, status: int) -> None:
    """Docs profile: HTTP status = code. Live: HTTP 200 with the code in the body, and the
    live service's own rate-limit message."""
    config = EmulatorConfig(
        renderer=fake_render,
        faults=FaultConfig(retry_after=3),
        profile=profile,  # type: ignore[arg-type]
    )
    async with inprocess(config) as (client, emulator):
        emulator.faults.force("http_error", code=429)
        response = await client._http.get(
            "http://emulator.invalid/api/v1/chat/credit",
            headers={"Authorization": "Bearer emulator-key"},
        )
    assert response.status_code == status and response.headers["retry-after"] == "3"
    assert response.json()["code"] == 429
    if profile == "live":
        assert response.json()["msg"] == "Your call frequency is too high. Please try again later."


def test_the_emulators_limiter_is_a_token_bucket() -> None:
    from storyboard.ratelimit import TokenBucket

    bucket = TokenBucket(rate=2, burst=2)
    assert [bucket.admit(0.0) for _ in range(3)] == [None, None, 0.5]
    assert bucket.admit(0.5) is None and bucket.admit(0.5) == 0.5


async def test_rate_limited_calls_get_429_and_the_client_waits() -> None:
    from .kie_helpers import Clock

    clock = Clock()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)

    config = EmulatorConfig(renderer=fake_render, clock=clock, rate_limit=2)
    async with inprocess(config, sleep=sleep) as (client, emulator):
        for _ in range(6):  # 2 per second: the 3rd and 6th wait a second
            await client.get_credits()
        stats = emulator.stats()
    assert waits == [1.0, 1.0] and stats["rejected_requests"] == {"429": 2}
