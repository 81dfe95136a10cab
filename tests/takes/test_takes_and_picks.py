"""Done-when of takes and picks: a three-scene chain with ``takes: 2`` renders offline with 6
generations; picking take 2 of the first scene makes ``plan`` show the other two scenes
stale (continuity follows picks) and a render regenerates exactly those; the lock file
round-trips; a fresh copy with the lock file and the clips assembles the identical edit
(same video frame hashes) without generating anything."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from storyboard.cli import app
from storyboard.lock import lock_path, read_lock, write_lock
from storyboard.media.ffmpeg import run_ffmpeg_capture

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

CHAIN = """\
storyboard: 1
title: Chain
defaults: {mode: std, aspect_ratio: "16:9", sound: false, takes: 2}
scenes:
  - id: a
    first_frame: refs/room.png
    shots: [{prompt: "a cat wakes up", duration: 3}]
  - id: b
    first_frame: {from: a}
    shots: [{prompt: "the cat jumps", duration: 3}]
  - id: c
    first_frame: {from: b}
    shots: [{prompt: "the cat lands", duration: 3}]
output: out/chain.mp4
"""


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIE_API_KEY", raising=False)


@pytest.fixture
def film(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    shutil.copytree(EXAMPLES / "refs", folder / "refs")
    path = folder / "film.yaml"
    path.write_text(CHAIN, encoding="utf-8")
    return path


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def plan(path: Path) -> dict[str, dict[str, Any]]:
    return {g["scene"]: g for g in json.loads(cli("plan", str(path), "--json"))["generations"]}


def render(path: Path, *extra: str) -> tuple[list[str], dict[str, Any]]:
    """The takes that got a new task, and the summary."""
    lines = [json.loads(x) for x in cli("render", str(path), "--json", *extra).splitlines()]
    created = sorted(
        e["node"].split(":", 1)[1]
        for e in lines
        if e.get("state") == "generating" and e.get("message") == "task created"
    )
    return created, lines[-1]


def frame_hashes(video: Path) -> list[str]:
    out, _ = run_ffmpeg_capture(
        ["-v", "error", "-i", str(video), "-map", "0:v", "-f", "framemd5", "-"]
    )
    return [
        line.rsplit(",", 1)[1].strip()
        for line in out.decode().splitlines()
        if line and not line.startswith("#")
    ]


def test_takes_picks_lock_and_a_fresh_copy(film: Path, tmp_path: Path) -> None:
    created, summary = render(film)
    assert created == ["a", "a#2", "b", "b#2", "c", "c#2"]
    assert summary["tasks_created"] == 6 and summary["ok"]
    before = plan(film)
    assert all(t["status"] == "cached" for g in before.values() for t in g["takes"])
    assert {t["key"] for g in before.values() for t in g["takes"]}.__len__() == 6
    assert not lock_path(film).exists()  # no pick yet: no lock file

    cli("pick", str(film), "a", "2")
    after = plan(film)
    assert after["a"]["take"] == 2 and after["a"]["status"] == "cached"
    assert after["a"]["lock"]["state"] == "ok"
    for scene in ("b", "c"):
        assert [t["status"] for t in after[scene]["takes"]] == ["stale", "stale"]
        assert after[scene]["reasons"] == [
            f"image_urls[0]: the last frame of {'a' if scene == 'b' else 'b'!r} changed"
        ]
    totals = json.loads(cli("plan", str(film), "--json"))["totals"]
    assert totals["generations"] == 4 and totals["credits"] == 4 * after["b"]["credits"]

    created, summary = render(film)
    assert created == ["b", "b#2", "c", "c#2"] and summary["tasks_created"] == 4
    edit = film.parent / "out" / "chain.mp4"
    assert summary["assembly"] is not None and edit.is_file()

    lock = read_lock(film)
    assert sorted(lock.scenes) == ["a", "b", "c"] and lock.picks() == {"a": 2, "b": 1, "c": 1}
    text = lock_path(film).read_text(encoding="utf-8")
    assert lock.to_text() == text
    write_lock(read_lock(film))
    assert lock_path(film).read_text(encoding="utf-8") == text  # round-trips byte for byte
    final = plan(film)
    assert {s: g["lock"]["state"] for s, g in final.items()} == dict.fromkeys("abc", "ok")

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for name in ("film.yaml", "film.lock"):
        shutil.copy2(film.parent / name, fresh / name)
    shutil.copytree(film.parent / "refs", fresh / "refs")
    shutil.copytree(film.parent / ".storyboard" / "clips", fresh / ".storyboard" / "clips")
    cli("assemble", str(fresh / "film.yaml"))
    assert frame_hashes(fresh / "out" / "chain.mp4") == frame_hashes(edit)
    with sqlite3.connect(film.parent / ".storyboard" / "state.sqlite") as db:
        made = {row[0] for row in db.execute("SELECT task_id FROM tasks")}
    with sqlite3.connect(fresh / ".storyboard" / "state.sqlite") as db:
        adopted = {row[0] for row in db.execute("SELECT task_id FROM tasks")}
        assert db.execute("SELECT COUNT(*) FROM generations WHERE state != 'done'").fetchone() == (
            0,
        )
    assert adopted <= made  # clips journaled from the copy: no task was created
    fresh_plan = plan(fresh / "film.yaml")
    assert {s: (g["take"], g["status"]) for s, g in fresh_plan.items()} == {
        "a": (2, "cached"),
        "b": (1, "cached"),
        "c": (1, "cached"),
    }


def test_an_edited_scene_reports_its_lock_entry_stale(film: Path) -> None:
    render(film, "--takes", "1", "--no-assemble")
    cli("pick", str(film), "b", "1")
    film.write_text(CHAIN.replace("the cat jumps", "the cat leaps"), encoding="utf-8")
    rows = plan(film)
    assert rows["b"]["lock"]["state"] == "stale" and rows["b"]["status"] == "stale"
    assert "earlier request" in rows["b"]["lock"]["message"]
    assert rows["a"]["lock"]["state"] == "none"
    table = cli("plan", str(film), "--takes", "1")
    assert "lock stale" in table


def test_reroll_adds_takes_through_the_cost_gate(film: Path) -> None:
    film.write_text(CHAIN.replace("takes: 2", "takes: 1"), encoding="utf-8")
    created, _ = render(film, "--no-assemble")
    assert created == ["a", "b", "c"]
    result = runner.invoke(app, ["reroll", str(film), "b", "--n", "2", "--json"])
    assert result.exit_code == 0, result.output
    events = [json.loads(x) for x in result.stdout.splitlines()]
    gate = next(e for e in events if e.get("event") == "plan")
    assert gate["to_generate"] == ["b#2", "b#3"]
    assert events[-1]["tasks_created"] == 2 and events[-1]["new_takes"] == ["b#2", "b#3"]
    assert plan(film)["b"]["takes"][-1]["take"] == 3
    assert [t["status"] for t in plan(film)["b"]["takes"]] == ["cached"] * 3
    cli("pick", str(film), "b", "3")
    assert [t["status"] for t in plan(film)["c"]["takes"]] == ["stale"]
    refused = runner.invoke(app, ["reroll", str(film), "nope"])
    assert refused.exit_code == 2 and "no scene 'nope'" in refused.output
    too_far = runner.invoke(app, ["pick", str(film), "a", "5"])
    assert too_far.exit_code == 2 and "reroll" in too_far.output
