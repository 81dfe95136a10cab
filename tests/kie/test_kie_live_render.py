"""``storyboard render`` against ``storyboard emulator serve --profile live`` with tasks
not visible right after createTask and the live timing profile (scaled down): it
completes with exactly one createTask per generation, journals each task's recordId and
creditsConsumed, and reports the actual credits next to the estimate."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyboard.cli import app
from storyboard.providers.emulator import EmulatorConfig, ServedEmulator
from tests.emulator_server import point_at, served_cli, stats

from .kie_helpers import fake_render

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STORYBOARD = """\
storyboard: 1
title: Live Profile
defaults: {mode: std, aspect_ratio: "1:1", sound: false}
elements:
  dog:
    description: golden retriever
    images: [refs/dog-1.png, refs/dog-2.png]
scenes:
  - id: room
    first_frame: refs/room.png
    shots: [{prompt: "@dog wakes up in the room", duration: 3}]
  - id: after
    first_frame: {from: room}
    shots: [{prompt: "the room is empty again", duration: 3}]
  - id: harbour
    first_frame: refs/harbour.png
    shots: [{prompt: "boats in the harbour", duration: 3}]
output: out/live.mp4
"""


def test_render_against_the_live_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(EXAMPLES / "refs", tmp_path / "refs")
    path = tmp_path / "storyboard.yaml"
    path.write_text(STORYBOARD, encoding="utf-8")
    options = ("--profile", "live", "--record-null-polls", "3", "--time-scale", "0.01")
    with served_cli(*options) as base_url:
        point_at(monkeypatch, base_url, POLL_MAX_INTERVAL="0.2")
        result = CliRunner().invoke(app, ["render", str(path)])
        counters = stats(base_url)
    assert result.exit_code == 0, result.output[-3000:]
    assert (tmp_path / "out" / "live.mp4").stat().st_size > 0
    assert counters["create_task_calls"] == counters["tasks_created"] == 3  # one per generation
    assert counters["tasks_by_state"] == {"success": 3}
    assert counters["rejected_requests"] == {"422": 6}  # 2 of the 3 null polls, per task
    assert counters["key_sent_to_files"] == 0
    with sqlite3.connect(tmp_path / ".storyboard" / "state.sqlite") as db:
        rows = db.execute(
            "SELECT task_id, record_id, credits, credits_consumed FROM tasks"
        ).fetchall()
    assert len(rows) == 3 and all(task == record for task, record, _, _ in rows)
    actual = sum(consumed for *_, consumed in rows)
    estimated = sum(credits for _, _, credits, _ in rows)
    assert actual == estimated == 3 * 3 * 36  # the emulator charges the table's price
    assert f"{estimated:g} emulated credits estimated, {actual:g} actual (creditsConsumed)" in (
        result.output
    )


def test_a_task_never_visible_stays_journaled_and_the_next_run_resumes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLES / "refs", tmp_path / "refs")
    path = tmp_path / "storyboard.yaml"
    path.write_text(STORYBOARD.split("  - id: after")[0] + "output: out/one.mp4\n", "utf-8")
    config = EmulatorConfig(record_null_polls=10**6, renderer=fake_render)
    with ServedEmulator(config) as served:
        point_at(
            monkeypatch, served.base_url, POLL_MAX_INTERVAL="0.1", POLL_NOT_VISIBLE_TIMEOUT="0.5"
        )
        first = CliRunner().invoke(app, ["render", str(path), "--no-assemble"])
        with sqlite3.connect(tmp_path / ".storyboard" / "state.sqlite") as db:
            journaled = db.execute("SELECT state, task_id FROM generations").fetchall()
        served.emulator.config = replace(config, record_null_polls=0)  # now it shows up
        second = CliRunner().invoke(app, ["render", str(path), "--no-assemble"])
        counters = served.emulator.stats()
    assert first.exit_code != 0 and "recordInfo is null" in first.output
    assert "next run resumes polling it" in first.output
    assert "Traceback" not in first.output and "internal error" not in first.output
    task_id = next(iter(served.emulator.tasks))
    assert journaled == [("submitted", task_id)]
    assert second.exit_code == 0, second.output[-3000:]
    assert counters["create_task_calls"] == 1  # the second run polled the journaled task
