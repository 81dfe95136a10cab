"""The emulator and a real :class:`KieClient` wired together in one event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from pydantic import SecretStr

from storyboard.providers.emulator.app import create_app, emulator_of
from storyboard.providers.emulator.config import EmulatorConfig
from storyboard.providers.emulator.engine import Emulator
from storyboard.providers.emulator.transport import InProcessTransport
from storyboard.providers.kie import KieClient, KieSettings, PollPolicy, RetryPolicy

__all__ = ["FAST_POLL", "FAST_RETRY", "emulator_settings", "inprocess", "inprocess_client"]

FAST_POLL = PollPolicy(initial=0.05, factor=1.5, max_interval=1.0, timeout=900.0)
"""In-process polling: nothing is billed and nothing is far away, so poll often."""

FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.02, max_delay=0.5, max_retry_after=1.0)
"""In-process retries: short waits (the emulator's Retry-After is cut to 1 s)."""


def emulator_settings(emulator: Emulator, **overrides: Any) -> KieSettings:
    """Client settings pointing at ``emulator`` (both hosts), with its key."""
    values: dict[str, Any] = {
        "api_key": SecretStr(emulator.config.api_key),
        "base_url": emulator.base_url,
        "upload_base_url": emulator.base_url,
        "poll": FAST_POLL,
        "retry": FAST_RETRY,
    }
    return KieSettings.model_validate({**values, **overrides})


def inprocess_client(
    config: EmulatorConfig | None = None,
    *,
    settings: KieSettings | None = None,
    settings_overrides: Mapping[str, Any] | None = None,
    **client_options: Any,
) -> tuple[KieClient, Emulator]:
    """A real client whose transport is an in-process emulator.

    ``settings`` replaces, and ``settings_overrides`` adjusts, :func:`emulator_settings`;
    ``client_options`` go to :class:`KieClient` (``sleep``, ``clock``, ``rng``). Close
    both: ``await client.aclose(); await emulator.aclose()`` (or use :func:`inprocess`).
    """
    app = create_app(config)
    emulator = emulator_of(app)
    client = KieClient(
        settings or emulator_settings(emulator, **(settings_overrides or {})),
        transport=InProcessTransport(app),
        **client_options,
    )
    return client, emulator


@asynccontextmanager
async def inprocess(
    config: EmulatorConfig | None = None,
    *,
    settings: KieSettings | None = None,
    settings_overrides: Mapping[str, Any] | None = None,
    **client_options: Any,
) -> AsyncIterator[tuple[KieClient, Emulator]]:
    """``async with inprocess(config) as (client, emulator):`` — closes both after."""
    client, emulator = inprocess_client(
        config, settings=settings, settings_overrides=settings_overrides, **client_options
    )
    try:
        yield client, emulator
    finally:
        await client.aclose()
        await emulator.aclose()
