"""Completion callbacks: HMAC signing and verification, the receiver, and the emulator's
signed callbacks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json

import httpx
import pytest

from storyboard.providers.emulator import EmulatorConfig, InProcessTransport, inprocess
from storyboard.providers.kie import (
    CallbackReceiver,
    GenerationFailed,
    PollPolicy,
    sign,
    signature_headers,
    verify_signature,
    wait_with_callback,
)

from .kie_helpers import Clock, body, fake_render

pytestmark = pytest.mark.anyio

KEY = "whk_test_key"
NOW = 1_795_000_000
CALLBACK_URL = "http://runner.invalid/kie/callback"


def test_sign_is_base64_hmac_sha256_of_task_dot_timestamp() -> None:
    digest = hmac.new(KEY.encode(), b"task_1.1795000000", hashlib.sha256).digest()
    assert sign(KEY, "task_1", NOW) == base64.b64encode(digest).decode()


@pytest.mark.parametrize(
    ("task_id", "timestamp", "signature", "now", "valid"),
    [
        ("task_1", str(NOW), sign(KEY, "task_1", NOW), NOW + 10, True),
        ("task_1", str(NOW), sign(KEY, "task_1", NOW), NOW + 299, True),
        ("task_1", str(NOW), sign(KEY, "task_1", NOW), NOW + 301, False),  # stale: replay
        ("task_1", str(NOW), sign(KEY, "task_1", NOW), NOW - 301, False),  # from the future
        ("task_2", str(NOW), sign(KEY, "task_1", NOW), NOW, False),  # another task's signature
        ("task_1", str(NOW), sign("other key", "task_1", NOW), NOW, False),  # forged
        ("task_1", str(NOW + 1), sign(KEY, "task_1", NOW), NOW, False),  # timestamp altered
        ("task_1", None, sign(KEY, "task_1", NOW), NOW, False),
        ("task_1", str(NOW), None, NOW, False),
        ("task_1", "yesterday", sign(KEY, "task_1", "yesterday"), NOW, False),
        ("task_1", str(NOW), "not base64!", NOW, False),
    ],
)
def test_verify_signature(
    task_id: str, timestamp: str | None, signature: str | None, now: int, valid: bool
) -> None:
    assert verify_signature(KEY, task_id, timestamp, signature, now=now) is valid


def callback_body(task_id: str = "task_1", state: str = "success") -> dict[str, object]:
    result = json.dumps({"resultUrls": ["https://cdn.example/x.mp4"]})
    data = {"taskId": task_id, "model": "kling-3.0/video", "state": state, "resultJson": result}
    return {"code": 200, "msg": "success", "data": data}


async def post(receiver: CallbackReceiver, headers: dict[str, str], payload: object) -> int:
    transport = httpx.ASGITransport(app=receiver)
    async with httpx.AsyncClient(transport=transport) as http:
        response = await http.post(CALLBACK_URL, json=payload, headers=headers)
    return response.status_code


async def test_receiver_rejects_forged_stale_and_unsigned_callbacks() -> None:
    receiver = CallbackReceiver(KEY, clock=lambda: NOW + 5)
    forged = signature_headers("guess", "task_1", NOW)
    stale = signature_headers(KEY, "task_1", NOW - 3600)
    for headers in (forged, stale, {}):
        assert await post(receiver, headers, callback_body()) == 401
    assert await post(receiver, signature_headers(KEY, "task_1", NOW), {"no": "record"}) == 422
    assert receiver.received("task_1") is None and receiver.rejected == 3


async def test_receiver_accepts_a_valid_callback_and_wakes_the_waiter() -> None:
    seen: list[str] = []
    receiver = CallbackReceiver(
        KEY, clock=lambda: NOW + 5, on_record=lambda r: seen.append(r.state)
    )
    waiter = asyncio.ensure_future(receiver.wait("task_1"))
    await asyncio.sleep(0)
    assert await post(receiver, signature_headers(KEY, "task_1", NOW), callback_body()) == 200
    record = await asyncio.wait_for(waiter, 1)
    assert record.result_urls == ["https://cdn.example/x.mp4"] and seen == ["success"]
    assert (await receiver.wait("task_1")) is record  # already there: returns at once


async def test_the_emulator_posts_signed_callbacks() -> None:
    receiver = CallbackReceiver(KEY)
    captured: list[httpx.Request] = []

    class Capture(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await request.aread()
            captured.append(request)
            return await InProcessTransport(receiver).handle_async_request(request)

    config = EmulatorConfig(renderer=fake_render, hmac_key=KEY, callback_transport=Capture())
    async with inprocess(config) as (client, emulator):
        emulator.faults.force("generation_fail")
        failed = await client.create_task({**body(), "callBackUrl": CALLBACK_URL})
        done = await client.create_task({**body(), "callBackUrl": CALLBACK_URL})
        record = await asyncio.wait_for(receiver.wait(done), 5)
        failure = await asyncio.wait_for(receiver.wait(failed), 5)
        stats = emulator.stats()
    assert record.state == "success" and record.result_urls
    assert failure.state == "fail" and failure.fail_code == "501"
    assert stats["callbacks_sent"] == 2 and receiver.rejected == 0
    for request in captured:
        payload = json.loads(request.content)
        task_id = payload["data"]["taskId"]
        assert payload["code"] == (200 if task_id == done else 501)
        assert verify_signature(
            KEY,
            task_id,
            request.headers["X-Webhook-Timestamp"],
            request.headers["X-Webhook-Signature"],
        )
        assert "authorization" not in request.headers


async def never(seconds: float) -> None:
    """A poll interval that never ends: only a wake-up can end a pause."""
    await asyncio.Event().wait()


def callback_config(receiver: CallbackReceiver, clock: Clock) -> EmulatorConfig:
    """Tasks that finish only when the test moves ``clock``, then call ``receiver`` back."""
    return EmulatorConfig(
        renderer=fake_render,
        latency=60,
        clock=clock,
        hmac_key=KEY,
        callback_transport=InProcessTransport(receiver),
    )


async def test_a_callback_wakes_the_wait_before_the_next_poll() -> None:
    """The pause between polls never ends by itself (``never``), so the wait can finish
    only through the callback's wake-up: one poll sees the task pending, the callback
    ends the pause, one more poll reads the result from recordInfo."""
    clock = Clock()
    receiver = CallbackReceiver(KEY, clock=clock)  # checks signatures at the emulator's time
    states: list[str] = []
    pending = asyncio.Event()

    def on_state(state: str) -> None:
        states.append(state)
        pending.set()

    async with inprocess(callback_config(receiver, clock), sleep=never) as (client, emulator):
        task_id = await client.create_task({**body(), "callBackUrl": CALLBACK_URL})
        waiting = asyncio.ensure_future(
            client.wait_for_task(task_id, on_state=on_state, wake=receiver.wait(task_id))
        )
        async with asyncio.timeout(10):  # a safety bound, not a measurement
            await pending.wait()
            assert emulator.stats()["polls"] == 1
            clock.advance(60)  # the task finishes; the emulator calls back
            record = await waiting
        stats = emulator.stats()
    assert record.state == "success" and record.result_urls
    assert stats["polls"] == 2 and stats["callbacks_sent"] == 1
    assert states == ["generating", "success"]


async def test_wait_with_callback_is_the_client_wait_woken_by_the_receiver() -> None:
    clock = Clock()
    receiver = CallbackReceiver(KEY, clock=clock)  # checks signatures at the emulator's time
    async with inprocess(callback_config(receiver, clock), sleep=never) as (client, emulator):
        emulator.faults.force("generation_fail")
        failing = await client.create_task({**body(), "callBackUrl": CALLBACK_URL})
        done = await client.create_task({**body(), "callBackUrl": CALLBACK_URL})
        clock.advance(60)
        async with asyncio.timeout(10):  # a safety bound, not a measurement
            record = await wait_with_callback(client, receiver, done, poll=PollPolicy())
            with pytest.raises(GenerationFailed):
                await wait_with_callback(client, receiver, failing, scene="s")
        polls = emulator.stats()["polls"]
    assert record.state == "success" and polls <= 4  # at most one poll each before the wake


async def test_receiver_without_a_key_accepts_unsigned_callbacks() -> None:
    receiver = CallbackReceiver(None)
    assert await post(receiver, {}, callback_body("task_9")) == 200
    assert receiver.received("task_9") is not None
