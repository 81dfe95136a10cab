"""The kie.ai emulator for tests: ``storyboard emulator serve`` in its own process (as a
user starts it), and the ``KIE_*`` variables that point a render at an emulator.

``served_cli`` starts the CLI's server on a free loopback port, waits until it answers,
yields its base URL and stops it by its pid (SIGTERM, then SIGKILL if it does not go).
Import it as ``from tests.emulator_server import served_cli`` (pytest registers ``tests``
as a package: the root conftest is ``tests.conftest``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import httpx
import pytest

__all__ = ["CLI", "CliEmulator", "kie_env", "point_at", "served_cli", "start_cli", "stats"]

CLI = [sys.executable, "-c", "from storyboard.cli import main; main()"]
"""The ``storyboard`` command, run by this interpreter."""

DEFAULT_KEY = "emulator-key"
UP_SECONDS = 60.0
"""How long a starting server may take to answer (a hang guard, not a speed check)."""


@dataclass
class CliEmulator:
    """A running ``storyboard emulator serve``: its process, its base URL and the lines it
    printed after the first (the ``export`` hints are still unread in ``process.stdout``)."""

    process: subprocess.Popen[str]
    base_url: str
    errors: IO[str]

    def stop(self) -> None:
        """Stop the server by its pid: SIGTERM, then SIGKILL after 10 s."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        finally:
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.errors.close()


def start_cli(*options: str, env: Mapping[str, str] | None = None) -> CliEmulator:
    """``storyboard emulator serve --port 0 OPTIONS`` started and answering."""
    command = [*CLI, "emulator", "serve", "--port", "0", "--log-level", "warning", *options]
    errors = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by stop); a pipe could fill
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        env=None if env is None else dict(env),
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    if " at " not in first:
        process.wait(timeout=10)
        errors.seek(0)
        raise AssertionError(f"the emulator did not start: {first}{errors.read()}")
    server = CliEmulator(process, first.split(" at ", 1)[1].split(" ", 1)[0], errors)
    try:
        wait_until_up(server.base_url)
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def served_cli(*options: str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """``storyboard emulator serve OPTIONS`` for the ``with`` block; yields its base URL."""
    server = start_cli(*options, env=env)
    try:
        yield server.base_url
    finally:
        server.stop()


def wait_until_up(base_url: str) -> None:
    """Return once ``base_url`` answers ``/emulator/stats``."""
    deadline = time.monotonic() + UP_SECONDS
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base_url}/emulator/stats", timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"{base_url} never answered")


def stats(base_url: str) -> dict[str, Any]:
    """``GET /emulator/stats``: the emulator's counters."""
    answer: dict[str, Any] = httpx.get(f"{base_url}/emulator/stats", timeout=30).json()
    return answer


def kie_env(base_url: str, api_key: str = DEFAULT_KEY, **settings: str) -> dict[str, str]:
    """The variables pointing the kie backend at an emulator (API and uploads), with
    fast polling; ``settings`` add or override ``KIE_*`` ones (``POLL_INITIAL="0.1"``)."""
    env = {
        "KIE_API_KEY": api_key,
        "KIE_BASE_URL": base_url,
        "KIE_UPLOAD_BASE_URL": base_url,
        "KIE_POLL_INITIAL": "0.05",
    }
    return env | {f"KIE_{name}": value for name, value in settings.items()}


def point_at(
    monkeypatch: pytest.MonkeyPatch, base_url: str, api_key: str = DEFAULT_KEY, **settings: str
) -> None:
    """Set :func:`kie_env`'s variables for the test (undone by ``monkeypatch``)."""
    for name, value in kie_env(base_url, api_key, **settings).items():
        monkeypatch.setenv(name, value)
