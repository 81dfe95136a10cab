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

from .kie_helpers import body, fake_render

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


async def test_wait_with_callback_beats_slow_polling() -> None:
    receiver = CallbackReceiver(KEY)
    config = EmulatorConfig(
        renderer=fake_render,
        latency=0.1,
        hmac_key=KEY,
        callback_transport=InProcessTransport(receiver),
    )
    slow = PollPolicy(initial=30, timeout=900)
    async with inprocess(config) as (client, emulator):
        task_id = await client.create_task({**body(), "callBackUrl": CALLBACK_URL})
        async with asyncio.timeout(5):
            record = await wait_with_callback(client, receiver, task_id, poll=slow)
        emulator.faults.force("generation_fail")
        failing = await client.create_task({**body(), "callBackUrl": CALLBACK_URL})
        with pytest.raises(GenerationFailed):
            async with asyncio.timeout(5):
                await wait_with_callback(client, receiver, failing, scene="s", poll=slow)
        polls = emulator.stats()["polls"]
    assert record.state == "success" and polls == 2  # one poll each, then the callbacks


async def test_receiver_without_a_key_accepts_unsigned_callbacks() -> None:
    receiver = CallbackReceiver(None)
    assert await post(receiver, {}, callback_body("task_9")) == 200
    assert receiver.received("task_9") is not None
