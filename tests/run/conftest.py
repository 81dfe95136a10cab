"""Fixtures of the run tests: the asyncio backend, a tiny clip renderer for the emulator."""

from __future__ import annotations

import pytest

from .run_helpers import TinyRenderer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def tiny_renderer(tmp_path_factory: pytest.TempPathFactory) -> TinyRenderer:
    """A renderer for the emulator: small real MP4s (one encode per clip shape)."""
    return TinyRenderer(tmp_path_factory.mktemp("tiny-clips"))
