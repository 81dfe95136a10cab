"""With --callback-url, a render learns of finished tasks from signed callbacks, not from
slow polling: the safety-net poll waits 15 s, so finishing fast proves the callbacks."""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyboard.cli import app
from storyboard.providers.emulator import EmulatorConfig, ServedEmulator

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("signed", [True, False])
def test_render_uses_callbacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signed: bool
) -> None:
    project = tmp_path / "p"
    shutil.copytree(ROOT / "examples", project, ignore=shutil.ignore_patterns("out", ".storyboard"))
    hmac_key = "whsec-test-key" if signed else None
    port = free_port()
    config = EmulatorConfig(api_key="k", latency=0.5, hmac_key=hmac_key)
    with ServedEmulator(config) as served:
        for name, value in {"KIE_API_KEY": "k", "KIE_BASE_URL": served.base_url,
                            "KIE_UPLOAD_BASE_URL": served.base_url}.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        if hmac_key:
            monkeypatch.setenv("KIE_WEBHOOK_HMAC_KEY", hmac_key)
        started = time.monotonic()
        result = CliRunner().invoke(app, [
            "render", str(project / "continuity-chain.yaml"), "--json", "--no-assemble",
            "--callback-url", f"http://127.0.0.1:{port}/kie/callback",
            "--callback-listen", f"127.0.0.1:{port}",
        ])  # fmt: skip
        elapsed = time.monotonic() - started
        stats = served.emulator.stats()
    assert result.exit_code == 0, result.output
    assert elapsed < 15, f"took {elapsed:.1f} s: callbacks were not used"
    assert stats["create_task_calls"] == 3
    assert stats["callbacks_sent"] == 3 and stats["callbacks_failed"] == 0
