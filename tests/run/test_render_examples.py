"""Done-when 1: each example renders offline to its video; a second run submits nothing
(the in-process emulator's counters stay at zero) and rewrites no file (clips and edit keep
their modification times)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.media.ffmpeg import probe
from storyboard.providers.emulator import Emulator
from storyboard.run.render import render

from .run_helpers import copy_examples, journal_rows, temp_files, undecodable

EXAMPLES = [
    "single-shot.yaml",
    pytest.param("multi-shot.yaml", marks=pytest.mark.slow),
    pytest.param("rehearsal-room.yaml", marks=pytest.mark.slow),
    pytest.param("continuity-chain.yaml", marks=pytest.mark.slow),
]


def modified(paths: list[Path]) -> dict[Path, tuple[int, int]]:
    """Each file's inode and modification time (ns): unchanged means nothing rewrote or
    replaced it."""
    return {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in paths}


@pytest.mark.parametrize("name", EXAMPLES)
def test_an_example_renders_offline_and_a_second_run_submits_nothing(
    name: str, tmp_path: Path, offline_emulators: list[Emulator]
) -> None:
    project = copy_examples(tmp_path / "project")
    path = project / name
    first = render(path)
    assert first.ok, first.result.to_json()
    assert first.prepared.backend.name == "offline"
    generations = len(first.prepared.plan.generations)
    created = offline_emulators[0].stats()
    assert created["create_task_calls"] == created["tasks_created"] == generations
    assert first.edit is not None and first.edit.path.is_file() and not first.edit.reused
    clips = list(first.result.clips().values())
    assert undecodable([*clips, first.edit.path]) == {}
    info = probe(first.edit.path)
    assert info.has_video and info.duration == pytest.approx(first.edit.report["duration"], abs=0.1)
    assert temp_files(project) == []
    written = modified([*clips, first.edit.path])

    second = render(path)
    assert second.ok and second.edit is not None and second.edit.reused
    again = offline_emulators[1].stats()
    assert again["create_task_calls"] == 0 and again["requests"] == 0, again
    assert second.result.submitted == [] and second.result.credits == 0
    assert {g.status_before for g in second.result.generations.values()} == {"cached"}
    assert second.result.clips() == first.result.clips()
    assert modified([*clips, first.edit.path]) == written  # nothing rendered or copied again
    state = first.prepared.state_path
    assert journal_rows(state, "PRAGMA integrity_check") == [("ok",)]
    assert journal_rows(state, "SELECT DISTINCT state FROM generations") == [("done",)]
