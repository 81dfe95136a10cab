"""Completion callbacks: HMAC signatures and a small ASGI receiver.

kie.ai POSTs the recordInfo-shaped body to ``callBackUrl`` when a task ends. With a
``webhookHmacKey`` on the account it adds ``X-Webhook-Timestamp`` (unix seconds) and
``X-Webhook-Signature`` = base64(HMAC-SHA256(key, ``taskId + "." + timestamp``)).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import SecretStr, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from storyboard.providers.kie.client import KieClient
from storyboard.providers.kie.models import Envelope, TaskRecord
from storyboard.providers.kie.polling import PollPolicy

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "CallbackReceiver",
    "sign",
    "signature_headers",
    "verify_signature",
    "wait_with_callback",
]

logger = logging.getLogger("storyboard.kie")

TIMESTAMP_HEADER = "X-Webhook-Timestamp"
SIGNATURE_HEADER = "X-Webhook-Signature"

Key = str | bytes | SecretStr
OnRecord = Callable[[TaskRecord], Awaitable[None] | None]


def _key_bytes(key: Key) -> bytes:
    if isinstance(key, SecretStr):
        key = key.get_secret_value()
    return key.encode() if isinstance(key, str) else key


def sign(key: Key, task_id: str, timestamp: int | str) -> str:
    """base64(HMAC-SHA256(key, ``f"{task_id}.{timestamp}"``))."""
    message = f"{task_id}.{timestamp}".encode()
    digest = hmac.new(_key_bytes(key), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_headers(key: Key, task_id: str, now: float | None = None) -> dict[str, str]:
    """The two headers that sign a callback for ``task_id`` at ``now``."""
    timestamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(key, task_id, timestamp)}


def verify_signature(
    key: Key,
    task_id: str,
    timestamp_header: str | None,
    signature_header: str | None,
    now: float | None = None,
    max_age: float = 300,
) -> bool:
    """True when the signature matches and the timestamp is within ``max_age`` seconds."""
    if not timestamp_header or not signature_header or not timestamp_header.strip().isdigit():
        return False
    age = (time.time() if now is None else now) - int(timestamp_header)
    if abs(age) > max_age:
        return False
    expected = sign(key, task_id, timestamp_header.strip())
    return hmac.compare_digest(expected.encode(), signature_header.strip().encode())


class CallbackReceiver:
    """An ASGI app that accepts signed completion callbacks.

    Forged, stale or unsigned callbacks get 401 when ``hmac_key`` is set. With
    ``hmac_key=None`` every well-formed callback is accepted: use that only where no
    one else can reach the receiver. ``await receiver.wait(task_id)`` returns the record.
    """

    def __init__(
        self,
        hmac_key: Key | None,
        *,
        path: str = "/kie/callback",
        max_age: float = 300,
        on_record: OnRecord | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = hmac_key
        self._max_age = max_age
        self._on_record = on_record
        self._clock = clock
        self._records: dict[str, TaskRecord] = {}
        self._events: dict[str, asyncio.Event] = {}
        self.rejected = 0
        self.path = path
        self.app = Starlette(routes=[Route(path, self._receive, methods=["POST"])])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def received(self, task_id: str) -> TaskRecord | None:
        """The record a callback delivered for ``task_id``, if any yet."""
        return self._records.get(task_id)

    async def wait(self, task_id: str) -> TaskRecord:
        """Wait for ``task_id``'s callback (bound it with ``asyncio.timeout``)."""
        if task_id not in self._records:
            await self._events.setdefault(task_id, asyncio.Event()).wait()
        return self._records[task_id]

    async def _receive(self, request: Request) -> JSONResponse:
        record = _parse_record(await request.body())
        if record is None:
            return _answer(422, "callback body is not a kie.ai task record")
        if self._key is not None and not verify_signature(
            self._key,
            record.task_id,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            now=self._clock(),
            max_age=self._max_age,
        ):
            self.rejected += 1
            logger.warning("kie.ai: rejected a callback for %s (bad signature)", record.task_id)
            return _answer(401, "missing, forged or stale webhook signature")
        await self._accept(record)
        return _answer(200, "success")

    async def _accept(self, record: TaskRecord) -> None:
        self._records[record.task_id] = record
        self._events.setdefault(record.task_id, asyncio.Event()).set()
        logger.info("kie.ai: callback for %s (%s)", record.task_id, record.state)
        if self._on_record is not None:
            outcome = self._on_record(record)
            if outcome is not None:
                await outcome


def _parse_record(body: bytes) -> TaskRecord | None:
    try:
        envelope = Envelope.model_validate(json.loads(body))
        return TaskRecord.model_validate(envelope.data)
    except (ValueError, ValidationError):
        return None


def _answer(code: int, msg: str) -> JSONResponse:
    content: dict[str, Any] = {"code": code, "msg": msg}
    return JSONResponse(content, status_code=code)


async def wait_with_callback(
    client: KieClient,
    receiver: CallbackReceiver,
    task_id: str,
    *,
    scene: str | None = None,
    poll: PollPolicy | None = None,
) -> TaskRecord:
    """:meth:`KieClient.wait_for_task` woken by the task's callback: polling is the
    safety net, the callback ends the current pause, and the result comes from
    recordInfo (a callback alone cannot inject one).

    Returns the successful record; raises GenerationFailed / PollTimeout.
    """
    return await client.wait_for_task(task_id, scene=scene, poll=poll, wake=receiver.wait(task_id))
