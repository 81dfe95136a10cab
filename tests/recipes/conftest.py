"""Fixtures of the recipe tests: the test recipe, a clean offline environment, and one
kie.ai emulator served on loopback (the ``kie`` backend) whose counters a batch shares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storyboard.providers.emulator import EmulatorConfig, ServedEmulator
from tests.emulator_server import point_at

from .recipe_helpers import MINI

KIE_VARS = ("KIE_API_KEY", "KIE_BASE_URL", "KIE_UPLOAD_BASE_URL")


@pytest.fixture
def mini() -> Path:
    """The one-scene test recipe (tests/recipes/fixtures/mini)."""
    return MINI


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No KIE_* variables: the auto backend is the free offline one."""
    for var in KIE_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[ServedEmulator]:
    """A served emulator, with KIE_* pointing at it (so the backend is ``kie``, not billed);
    Dask workers started afterwards inherit the environment."""
    with ServedEmulator(EmulatorConfig(credits=10**9)) as emulator:
        point_at(monkeypatch, emulator.base_url, emulator.config.api_key, POLL_MAX_INTERVAL="0.5")
        yield emulator
