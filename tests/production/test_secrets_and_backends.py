"""A render against a kie.ai-compatible service never writes or prints the API key;
the backend is chosen from the environment as documented."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyboard.cli import app
from storyboard.providers.emulator import EmulatorConfig, ServedEmulator
from storyboard.run.backend import BackendUnavailable, choose_backend
from tests.emulator_server import point_at

SECRET = "sk-live-THIS-MUST-NEVER-LEAK-7f3a9c"
ROOT = Path(__file__).resolve().parents[2]


def test_default_backend_is_offline_without_a_key() -> None:
    backend = choose_backend(None, env={})
    assert backend.name == "offline" and not backend.billed


def test_a_key_selects_kie_and_the_real_host_is_billed() -> None:
    backend = choose_backend(None, env={"KIE_API_KEY": SECRET})
    assert backend.name == "kie" and backend.billed
    assert SECRET not in repr(backend) and SECRET not in backend.description


def test_a_served_emulator_is_not_billed() -> None:
    env = {
        "KIE_API_KEY": SECRET,
        "KIE_BASE_URL": "http://127.0.0.1:9",
        "KIE_UPLOAD_BASE_URL": "http://127.0.0.1:9",
    }
    backend = choose_backend(None, env=env)
    assert backend.name == "kie" and not backend.billed
    assert backend.namespace == "kie:http://127.0.0.1:9"


def test_kie_backend_without_a_key_is_refused_clearly() -> None:
    with pytest.raises(BackendUnavailable, match="KIE_API_KEY"):
        choose_backend("kie", env={})


def test_render_never_leaks_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "examples", project, ignore=shutil.ignore_patterns("out", ".storyboard"))
    with ServedEmulator(EmulatorConfig(api_key=SECRET)) as served:
        point_at(monkeypatch, served.base_url, SECRET)
        result = CliRunner().invoke(app, ["render", str(project / "single-shot.yaml"), "--json"])
        assert result.exit_code == 0, result.output
        stats = served.emulator.stats()
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[-1]["event"] == "summary" and events[-1]["ok"] is True
    assert stats["create_task_calls"] == 1
    assert SECRET not in result.output
    written = [p for p in project.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite" for p in written)
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path
