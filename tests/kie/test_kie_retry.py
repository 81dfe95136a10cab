"""Retry policy, polling backoff and createTask's never-retry-blindly rule."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from storyboard.providers.emulator import EmulatorConfig, inprocess
from storyboard.providers.kie import (
    CreateTaskUncertain,
    GenerationFailed,
    KieClient,
    KieSettings,
    KieTransportError,
    PollPolicy,
    PollTimeout,
    RateLimited,
    ResultExpired,
    RetryPolicy,
    ServerError,
    poll_delays,
)
from storyboard.providers.kie.errors import error_for_code
from storyboard.providers.kie.retry import backoff_delay, parse_retry_after, retry_delay

from .kie_helpers import FakeTime, body, fake_render

pytestmark = pytest.mark.anyio

OK_TASK = {"code": 200, "msg": "success", "data": {"taskId": "task_kling-3.0_1"}}
Answer = httpx.Response | Exception


def scripted(answers: list[Answer], seen: list[httpx.Request]) -> httpx.MockTransport:
    """A transport giving ``answers`` in order (exceptions are raised), then OK_TASK."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0) if answers else httpx.Response(200, json=OK_TASK)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler)


def client_for(answers: list[Answer], seen: list[httpx.Request], time: FakeTime) -> KieClient:
    settings = KieSettings(api_key="k", retry=RetryPolicy(max_attempts=4))
    return KieClient(
        settings,
        transport=scripted(answers, seen),
        sleep=time.sleep,
        clock=time.clock,
        rng=random.Random(1),
    )


def envelope(code: int, **headers: str) -> httpx.Response:
    return httpx.Response(200, json={"code": code, "msg": f"code {code}"}, headers=headers)


@pytest.mark.parametrize("code", [429, 455, 500])
async def test_retryable_codes_are_retried(code: int) -> None:
    seen: list[httpx.Request] = []
    time = FakeTime()
    async with client_for([envelope(code), envelope(code)], seen, time) as client:
        assert await client.create_task(body()) == "task_kling-3.0_1"
    assert len(seen) == 3 and len(time.waits) == 2


@pytest.mark.parametrize("code", [401, 402, 404, 422, 501, 505, 403])
async def test_other_codes_are_not_retried(code: int) -> None:
    seen: list[httpx.Request] = []
    async with client_for([envelope(code)], seen, FakeTime()) as client:
        with pytest.raises(error_for_code(code)) as caught:
            await client.get_task("t1", scene="s")
    assert len(seen) == 1 and caught.value.code == code
    assert caught.value.task_id == "t1" and caught.value.endpoint == "recordInfo"


async def test_retry_after_is_honoured() -> None:
    seen: list[httpx.Request] = []
    time = FakeTime()
    answers: list[Answer] = [
        httpx.Response(429, json={"code": 429, "msg": "slow down"}, headers={"Retry-After": "7"})
    ]
    async with client_for(answers, seen, time) as client:
        await client.create_task(body())
    assert time.waits == [7.0]


async def test_tries_run_out() -> None:
    seen: list[httpx.Request] = []
    time = FakeTime()
    async with client_for([envelope(500)] * 10, seen, time) as client:
        with pytest.raises(ServerError):
            await client.get_credits()
    assert len(seen) == 4 and len(time.waits) == 3


def test_backoff_is_exponential_with_full_jitter() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)]:
        waits = [backoff_delay(attempt, policy, rng) for _ in range(200)]
        assert all(0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.8  # the whole range is used


def test_retry_delay_rules() -> None:
    policy = RetryPolicy(max_attempts=3, max_retry_after=60)
    rng = random.Random(0)
    assert retry_delay(RateLimited("x", retry_after=300), 1, policy, rng) == 60
    assert retry_delay(RateLimited("x"), 3, policy, rng) is None
    assert retry_delay(GenerationFailed("x"), 1, policy, rng) is None
    assert retry_delay(CreateTaskUncertain("x"), 1, policy, rng) is None
    assert retry_delay(KieTransportError("x"), 1, policy, rng) is not None


def test_parse_retry_after() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


async def test_network_errors_are_retried_for_reads() -> None:
    seen: list[httpx.Request] = []
    errors: list[Answer] = [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("gone")]
    ok = httpx.Response(200, json={"code": 200, "msg": "success", "data": 12})
    async with client_for([*errors, ok], seen, FakeTime()) as client:
        assert await client.get_credits() == 12
    assert len(seen) == 3


async def test_create_task_is_retried_when_it_certainly_never_arrived() -> None:
    seen: list[httpx.Request] = []
    answers: list[Answer] = [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("t"),
        envelope(455),
    ]
    async with client_for(answers, seen, FakeTime()) as client:
        assert await client.create_task(body()) == "task_kling-3.0_1"
    assert len(seen) == 4


@pytest.mark.parametrize(
    "failure",
    [
        lambda: httpx.ReadTimeout("no answer"),
        lambda: httpx.RemoteProtocolError("peer closed"),
        lambda: httpx.ReadError("reset"),
        lambda: httpx.WriteTimeout("half sent"),
        lambda: httpx.Response(502, text="<html>bad gateway</html>"),
        lambda: httpx.Response(504, text="gateway timeout"),
        lambda: httpx.Response(200, text="not json"),
    ],
)
async def test_create_task_is_never_retried_blindly(failure: Callable[[], Any]) -> None:
    seen: list[httpx.Request] = []
    async with client_for([failure()], seen, FakeTime()) as client:
        with pytest.raises(CreateTaskUncertain, match="may") as caught:
            await client.create_task(body(), scene="s3")
    assert len(seen) == 1 and caught.value.scene == "s3"
    assert isinstance(caught.value, KieTransportError) and not caught.value.retryable


async def test_gateway_503_without_envelope_is_retried() -> None:
    seen: list[httpx.Request] = []
    async with client_for([httpx.Response(503, text="busy")], seen, FakeTime()) as client:
        await client.create_task(body())
    assert len(seen) == 2


async def test_dropped_create_task_against_the_emulator_is_uncertain() -> None:
    async with inprocess(EmulatorConfig(renderer=fake_render)) as (client, emulator):
        emulator.faults.force("drop_create")
        with pytest.raises(CreateTaskUncertain):
            await client.create_task(body())
        stats = emulator.stats()
    assert stats["create_task_calls"] == 1 and stats["tasks_created"] == 1


async def test_timed_out_create_task_against_the_emulator_is_uncertain() -> None:
    config = EmulatorConfig(renderer=fake_render)
    async with inprocess(config, settings_overrides={"timeout": 0.05}) as (client, emulator):
        emulator.faults.force("slow", seconds=1.0)
        with pytest.raises(CreateTaskUncertain, match="ReadTimeout"):
            await client.create_task(body())
    assert emulator.stats()["create_task_calls"] == 1


def test_poll_delays_back_off_to_a_cap() -> None:
    delays = poll_delays(PollPolicy())
    assert [round(next(delays), 4) for _ in range(9)] == [
        2.5,
        3.75,
        5.625,
        8.4375,
        10.0,
        10.0,
        10.0,
        10.0,
        10.0,
    ]


def record(state: str, **extra: Any) -> httpx.Response:
    data = {"taskId": "t1", "model": "kling-3.0/video", "state": state, **extra}
    return httpx.Response(200, json={"code": 200, "msg": "success", "data": data})


async def test_wait_for_task_polls_with_backoff() -> None:
    seen: list[httpx.Request] = []
    time = FakeTime()
    states = ["waiting", "queuing", "generating", "generating"]
    answers: list[Answer] = [record(s) for s in states]
    answers.append(record("success", resultJson='{"resultUrls": ["https://cdn/x.mp4"]}'))
    async with client_for(answers, seen, time) as client:
        done = await client.wait_for_task("t1")
    assert done.result_urls == ["https://cdn/x.mp4"]
    assert time.waits == [2.5, 3.75, 5.625, 8.4375]
    assert all(r.url.params["taskId"] == "t1" for r in seen)


async def test_wait_for_task_gives_up_at_the_timeout() -> None:
    seen: list[httpx.Request] = []
    time = FakeTime()
    async with client_for([record("generating")] * 100, seen, time) as client:
        with pytest.raises(PollTimeout, match="generating") as caught:
            await client.wait_for_task("t1", scene="s", poll=PollPolicy(timeout=60))
    assert caught.value.task_id == "t1" and sum(time.waits) <= 60


async def test_polling_survives_a_transient_outage() -> None:
    seen: list[httpx.Request] = []
    time = FakeTime()
    answers: list[Answer] = [record("generating")]
    answers += [envelope(500)] * 4  # one recordInfo call's four tries all fail
    answers += [record("success", resultJson='{"resultUrls": ["u"]}')]
    async with client_for(answers, seen, time) as client:
        assert (await client.wait_for_task("t1")).state == "success"
    assert client.retries == 3  # the failed poll's retries; the pauses between polls are not


async def test_a_wake_up_cuts_one_pause_then_the_schedule_holds() -> None:
    """A wake-up (a callback) for a task recordInfo still shows pending — or a forged
    one — ends one pause; the next pause is a real sleep, not a busy loop of polls."""
    seen: list[httpx.Request] = []
    delays: list[float] = []
    second_pause = asyncio.Event()

    async def sleep(seconds: float) -> None:  # records the pause, which never ends
        delays.append(seconds)
        second_pause.set()
        await asyncio.Event().wait()

    woken = asyncio.Event()
    woken.set()  # the callback has already arrived
    answers: list[Answer] = [record("generating")] * 5
    async with client_for(answers, seen, FakeTime()) as client:
        client._sleep = sleep
        waiting = asyncio.ensure_future(client.wait_for_task("t1", wake=woken.wait()))
        async with asyncio.timeout(10):  # a safety bound, not a measurement
            while len(delays) < 2:
                second_pause.clear()
                await second_pause.wait()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    assert delays == [2.5, 3.75] and len(seen) == 2  # the first pause was cut, once


async def test_on_state_hears_each_change_of_state_once() -> None:
    states: list[str] = []
    answers: list[Answer] = [httpx.Response(200, json={"code": 422, "msg": "recordInfo is null"})]
    answers += [record(s) for s in ("waiting", "waiting", "generating", "generating")]
    answers.append(record("success", resultJson='{"resultUrls": ["u"]}'))
    async with client_for(answers, [], FakeTime()) as client:
        await client.wait_for_task("t1", on_state=states.append)
    assert states == ["not visible yet", "waiting", "generating", "success"]


async def test_wait_for_task_raises_on_fail_state() -> None:
    answers: list[Answer] = [record("fail", failCode=501, failMsg="content policy")]
    async with client_for(answers, [], FakeTime()) as client:
        with pytest.raises(GenerationFailed, match="content policy") as caught:
            await client.wait_for_task("t1", scene="s")
    assert caught.value.fail_code == "501" and caught.value.fail_msg == "content policy"


def test_every_error_keeps_its_own_fields_and_the_shared_context() -> None:
    failed = GenerationFailed(
        "generation failed",
        fail_code="501",
        fail_msg="content policy",
        retry_after=2.0,
        endpoint="recordInfo",
        task_id="t1",
        scene="beach",
    )
    assert (failed.code, failed.fail_code, failed.fail_msg) == (501, "501", "content policy")
    assert failed.retry_after == 2.0
    assert str(failed) == (
        "kie.ai code 501: generation failed (scene=beach, task=t1, endpoint=recordInfo)"
    )
    gone = ResultExpired("HTTP 410", status=410, task_id="t1", endpoint="download")
    assert (gone.status, gone.task_id, gone.scene) == (410, "t1", None)
    assert str(gone) == "HTTP 410 (task=t1, endpoint=download)"
    assert ServerError("x", code=502).code == 502 and ServerError("x").code == 500
