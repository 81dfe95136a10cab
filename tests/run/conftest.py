"""Fixtures of the run tests: the asyncio backend, a tiny clip renderer for the emulator,
the offline backend's emulators with their counters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

import storyboard.providers.emulator as emulator_package
from storyboard.providers.emulator import Emulator

from .run_helpers import TinyRenderer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def tiny_renderer(tmp_path_factory: pytest.TempPathFactory) -> TinyRenderer:
    """A renderer for the emulator: small real MP4s (one encode per clip shape)."""
    return TinyRenderer(tmp_path_factory.mktemp("tiny-clips"))


@pytest.fixture
def offline_emulators(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Emulator]]:
    """The offline backend's in-process emulators (one per run), kept for their counters."""
    monkeypatch.delenv("KIE_API_KEY", raising=False)
    seen: list[Emulator] = []
    real = emulator_package.inprocess

    @asynccontextmanager
    async def spy(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async with real(*args, **kwargs) as (client, emulator):
            seen.append(emulator)
            yield client, emulator

    monkeypatch.setattr(emulator_package, "inprocess", spy)
    yield seen
