"""With --callback-url, a render learns of finished tasks from signed callbacks, not from
slow polling: here the safety-net poll is pushed an hour away, so the render can only
finish if each task's callback wakes its wait (the emulator then counts two polls a task:
one right after createTask, one after the callback)."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyboard.cli import app
from storyboard.providers.emulator import EmulatorConfig, ServedEmulator
from storyboard.providers.kie import PollPolicy
from storyboard.run import steps
from tests.emulator_server import point_at

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


NEVER = PollPolicy(initial=3600.0, factor=1.0, max_interval=3600.0, timeout=7200.0)
"""A safety-net poll that never comes within the test."""


@pytest.mark.timeout(120)  # a hang guard only: without callbacks the render waits an hour
@pytest.mark.parametrize("signed", [True, False])
def test_render_uses_callbacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signed: bool
) -> None:
    project = tmp_path / "p"
    shutil.copytree(ROOT / "examples", project, ignore=shutil.ignore_patterns("out", ".storyboard"))
    monkeypatch.setattr(steps, "CALLBACK_SAFETY_POLL", NEVER)
    hmac_key = "whsec-test-key" if signed else None
    port = free_port()
    config = EmulatorConfig(api_key="k", latency=0.5, hmac_key=hmac_key)
    with ServedEmulator(config) as served:
        point_at(monkeypatch, served.base_url, "k", POLL_TIMEOUT="7200")  # > NEVER
        if hmac_key:
            monkeypatch.setenv("KIE_WEBHOOK_HMAC_KEY", hmac_key)
        result = CliRunner().invoke(
            app,
            [
                "render",
                str(project / "continuity-chain.yaml"),
                "--json",
                "--no-assemble",
                "--callback-url",
                f"http://127.0.0.1:{port}/kie/callback",
                "--callback-listen",
                f"127.0.0.1:{port}",
            ],
        )
        stats = served.emulator.stats()
    assert result.exit_code == 0, result.output
    assert stats["create_task_calls"] == 3
    assert stats["polls"] <= 2 * 3, stats  # no polling beyond the wake-ups
    assert stats["callbacks_sent"] == 3 and stats["callbacks_failed"] == 0
