"""Receiving kie.ai completion callbacks during a run (polling stays as a safety net)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

from storyboard.providers.kie import CallbackReceiver, KieSettings

__all__ = ["callback_receiver", "parse_listen"]


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``PORT``) -> (host, port); loopback by default."""
    host, _, port = value.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return host or "127.0.0.1", int(port)


@asynccontextmanager
async def callback_receiver(
    settings: KieSettings | None, listen: tuple[str, int]
) -> AsyncIterator[CallbackReceiver]:
    """Serve a :class:`CallbackReceiver` on ``listen`` for the duration of a run.

    Callbacks are verified with ``KIE_WEBHOOK_HMAC_KEY`` when set; either way a callback
    only triggers an immediate status query, so a forged one cannot inject a result.
    """
    key = settings.webhook_hmac_key if settings is not None else None
    receiver = CallbackReceiver(key.get_secret_value() if key else None)
    host, port = listen
    config = uvicorn.Config(receiver, host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn exposes a flag
        await asyncio.sleep(0.01)
    if task.done():
        await task  # raises why it could not start (e.g. the port is taken)
        raise OSError(f"the callback receiver could not listen on {host}:{port}")
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
