"""A batch under the rules a render follows (issue 9): no row output may overwrite the
rows file or the recipe, and one batch at a time writes a folder's journal (a second one
exits 2 at once, or waits with --wait) — so two batches on one folder never both pay."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyboard.cli import app
from storyboard.providers.emulator import EmulatorConfig, ServedEmulator
from storyboard.recipes import load_recipe, plan_batch
from storyboard.run.lock import lock_path

from .recipe_helpers import stats, write_rows

runner = CliRunner()
CLI = [sys.executable, "-c", "from storyboard.cli import main; main()"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def videos(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.mp4"))


def test_a_row_output_that_would_overwrite_the_rows_file_is_invalid(
    offline: None, mini: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    rows = out / "1-kite.report.json"  # row 1's output 1-kite.mp4 writes this report
    rows.write_text(json.dumps({"name": "kite"}) + "\n", encoding="utf-8")
    before = digest(rows)
    result = runner.invoke(
        app, ["recipe", "run", str(mini), "--rows", str(rows), "--out", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert f"would overwrite the input {rows}" in result.stderr
    assert "recipe.yaml:" in result.stderr  # at run.output, with its line
    assert digest(rows) == before and videos(out) == []
    assert not list(out.rglob("*.sqlite"))  # nothing ran: no journal


def test_a_row_output_that_links_to_the_recipe_is_invalid(
    offline: None, mini: Path, tmp_path: Path
) -> None:
    recipe = tmp_path / "mini"
    shutil.copytree(mini, recipe)
    out = tmp_path / "out"
    out.mkdir()
    (out / "1-kite.mp4").symlink_to(recipe / "recipe.yaml")
    before = digest(recipe / "recipe.yaml")
    plan = plan_batch(load_recipe(recipe), out, params={"name": "kite"})
    (invalid,) = plan.invalid
    assert not plan.jobs and "would overwrite the input" in (invalid.error or "")
    result = runner.invoke(
        app, ["recipe", "run", str(recipe), "--param", "name=kite", "--out", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert digest(recipe / "recipe.yaml") == before


@pytest.fixture
def slow_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[ServedEmulator]:
    """A served emulator whose tasks take 2 s, with KIE_* pointing at it (subprocesses
    started by the test inherit the environment)."""
    with ServedEmulator(EmulatorConfig(credits=10**9, latency=2.0)) as emulator:
        monkeypatch.setenv("KIE_API_KEY", emulator.config.api_key)
        monkeypatch.setenv("KIE_BASE_URL", emulator.base_url)
        monkeypatch.setenv("KIE_UPLOAD_BASE_URL", emulator.base_url)
        monkeypatch.setenv("KIE_POLL_INITIAL", "0.05")
        monkeypatch.setenv("KIE_POLL_MAX_INTERVAL", "0.3")
        yield emulator


def _holder(lock: Path) -> int | None:
    try:
        return int(json.loads(lock.read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError):
        return None


def _frozen_after_paying(
    batch: subprocess.Popen[bytes], lock: Path, service: ServedEmulator, tasks: int
) -> None:
    """Stop ``batch`` (SIGSTOP) once it holds the journal and created its ``tasks``."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert batch.poll() is None, "the first batch ended before it was caught"
        if _holder(lock) == batch.pid and stats(service)["create_task_calls"] == tasks:
            os.kill(batch.pid, signal.SIGSTOP)
            return
        time.sleep(0.02)
    raise AssertionError("the first batch never took the journal and created its tasks")


def test_two_batches_on_one_folder_pay_once(
    slow_service: ServedEmulator, mini: Path, tmp_path: Path
) -> None:
    rows = write_rows(tmp_path / "rows.csv", ["sun", "moon"])
    out = tmp_path / "out"
    command = ["recipe", "run", str(mini), "--rows", str(rows), "--out", str(out)]
    lock = lock_path(out / ".storyboards" / "mini" / ".storyboard" / "state.sqlite")
    logs = {name: (tmp_path / f"{name}.out", tmp_path / f"{name}.err") for name in ("a", "c")}

    def start(name: str, *extra: str) -> subprocess.Popen[bytes]:
        stdout, stderr = (path.open("wb") for path in logs[name])
        return subprocess.Popen([*CLI, *command, *extra], stdout=stdout, stderr=stderr)

    first = start("a")
    waiting: subprocess.Popen[bytes] | None = None
    try:
        _frozen_after_paying(first, lock, slow_service, tasks=2)
        second = runner.invoke(app, command)  # the same batch again, at once
        assert second.exit_code == 2, second.output
        assert f"in use by pid {first.pid}" in second.stderr
        waiting = start("c", "--wait")
        deadline = time.monotonic() + 60
        while b"waiting for" not in logs["c"][1].read_bytes():
            assert waiting.poll() is None and time.monotonic() < deadline, "it did not wait"
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGCONT)
        assert first.wait(timeout=120) == 0, logs["a"][1].read_text()
        assert waiting.wait(timeout=120) == 0, logs["c"][1].read_text()
    finally:
        for process in (first, waiting):
            if process is not None and process.returncode is None:
                os.kill(process.pid, signal.SIGKILL)
                os.kill(process.pid, signal.SIGCONT)
                process.wait(timeout=10)
    assert f"waiting for pid {first.pid}" in logs["c"][1].read_text()
    assert logs["c"][0].read_text().startswith("0 done, 2 cached, 0 failed")
    counters = stats(slow_service)
    assert counters["create_task_calls"] == counters["tasks_created"] == 2
