"""Done-when of watch mode: saving an edit to one prompt re-renders that scene and its
continuity dependants only (counted by the emulator's createTask calls); an invalid save
is reported and nothing runs; files the render does not use are ignored."""

from __future__ import annotations

import queue
import shutil
import threading
import time
from pathlib import Path

from storyboard.providers.emulator import EmulatorConfig
from storyboard.providers.emulator.inprocess import emulator_settings
from storyboard.providers.emulator.server import ServedEmulator
from storyboard.run.backend import Backend
from storyboard.run.watch import WatchPass, watch_render

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BOARD = """\
storyboard: 1
title: Watch
defaults: {mode: std, aspect_ratio: "16:9", sound: false}
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
  - id: d
    first_frame: refs/harbour.png
    shots: [{prompt: "the harbour", duration: 3}]
output: out/watch.mp4
"""


def generated(done: WatchPass) -> list[str]:
    assert done.outcome is not None, (done.diagnostics, done.error, done.refused)
    return sorted(
        g.scene_id for g in done.outcome.result.all_results() if g.status_before != "cached"
    )


def test_watch_renders_again_only_what_an_edit_changed(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "refs", tmp_path / "refs")
    path = tmp_path / "film.yaml"
    path.write_text(BOARD, encoding="utf-8")
    passes: queue.Queue[WatchPass] = queue.Queue()
    stop = threading.Event()
    with ServedEmulator(EmulatorConfig(latency=0.05)) as served:
        settings = emulator_settings(served.emulator)
        backend = Backend("kie", f"kie:{served.base_url}", billed=False, settings=settings)
        counters = served.emulator.counters
        watcher = threading.Thread(
            target=watch_render,
            args=(path, backend),
            kwargs={"on_pass": passes.put, "stop": stop, "debounce_ms": 100},
            daemon=True,
        )
        watcher.start()
        try:
            first = passes.get(timeout=120)
            assert first.ok and generated(first) == ["a", "b", "c", "d"]
            assert counters.create_task_calls == 4

            (tmp_path / "unrelated.txt").write_text("not part of the storyboard")
            (tmp_path / "out" / "watch.mp4").touch()  # an output the pass wrote itself
            time.sleep(1.0)
            assert passes.empty()

            path.write_text(BOARD.replace("the cat jumps", "the cat leaps"), encoding="utf-8")
            second = passes.get(timeout=120)
            assert second.ok and generated(second) == ["b", "c"]
            assert counters.create_task_calls == 6
            assert second.outcome is not None and second.outcome.edit is not None

            path.write_text(BOARD.replace("duration: 3", "duration: 30", 1), encoding="utf-8")
            third = passes.get(timeout=60)
            assert third.outcome is None and any("duration" in d for d in third.diagnostics)
            assert str(path) in third.diagnostics[0]
            assert counters.create_task_calls == 6
        finally:
            stop.set()
            watcher.join(timeout=30)
    assert not watcher.is_alive()
