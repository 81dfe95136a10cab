"""Hostile inputs: every case in inputs/ ends as expected, bounded, and touches nothing.

Each case is a folder: the project's files plus ``case.yaml`` (first line: what it
tries) listing CLI commands, each with its exit code, lines that must appear in its
output (``FILE:LINE:COL: field: message`` — exact) and text that must appear nowhere
(not in the output, not in any file written). A few cases need something git can't
hold (a symlink, a FIFO, a 100 MB file): ``setup`` names a function below.

For every case the CLI runs as a subprocess in a copy of the folder, beside an
``outside/`` folder holding a canary; the test checks that the project's files are
byte-identical afterwards, that nothing appeared or changed outside the project,
that no output holds a traceback or "internal error", and that each command used
under 10 s of CPU (``os.wait4``'s rusage) and 300 MB of memory (its ``VmHWM``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from .bounds import HANG_SECONDS, MAX_CPU_SECONDS, MAX_RSS_MB

CASES = sorted(p for p in (Path(__file__).parent / "inputs").iterdir() if p.is_dir())
CANARY = "CANARY-OUTSIDE-THE-PROJECT"
MAX_RSS_BYTES = MAX_RSS_MB * 1024 * 1024


# -- setups: what git can't hold -------------------------------------------------------------


def _link_evil_template(project: Path) -> None:
    (project / "tpl" / "evil.j2").symlink_to(project.parent / "outside" / "secret.j2")


def _link_template_folder(project: Path) -> None:
    (project / "tpl").symlink_to(project.parent / "outside", target_is_directory=True)


def _prompt_file(project: Path, characters: int) -> None:
    with (project / "storyboard.yaml").open("w") as handle:
        handle.write("storyboard: 1\ntitle: Long\nscenes:\n  - id: a\n    shots:\n      - prompt: ")
        for _ in range(characters // 1_000_000):
            handle.write("x" * 1_000_000)
        handle.write("x" * (characters % 1_000_000))
        handle.write("\n        duration: 4\n")


def _storyboard_3mb(project: Path) -> None:
    body = "".join(f"# {'padding ' * 12}\n" for _ in range(40_000))
    text = "storyboard: 1\ntitle: Big\nscenes: []\n" + body
    (project / "storyboard.yaml").write_text(text[: 3 * 1024 * 1024 - 1] + "\n")  # 3 MiB


def _rows_17mb(project: Path) -> None:
    with (project / "rows.csv").open("w") as handle:
        handle.write("product,tagline\n")
        line = "Bottle,Cold for 24 hours\n"
        for _ in range(17 * 1024 * 1024 // len(line) + 1):
            handle.write(line)


SETUPS: dict[str, Callable[[Path], None]] = {
    "link-evil-template": _link_evil_template,
    "link-template-folder": _link_template_folder,
    "prompt-200k": lambda project: _prompt_file(project, 200_000),
    "prompt-1e8": lambda project: _prompt_file(project, 100_000_000),
    "storyboard-3mb": _storyboard_3mb,
    "fifo-storyboard": lambda project: os.mkfifo(project / "storyboard.yaml"),
    "fifo-rows": lambda project: os.mkfifo(project / "rows.csv"),
    "rows-17mb": _rows_17mb,
}


# -- running ---------------------------------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 (or what it is) of everything under ``folder``."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = f"link:{os.readlink(path)}"
        elif path.is_fifo():
            found[key] = "fifo"
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[key] = "dir"
    return found


_CHILD = """
import atexit, sys
def _peak():  # this process image's own peak (ru_maxrss would include pytest's, via vfork)
    with open("/proc/self/status") as status:
        peak = [line.split()[1] for line in status if line.startswith("VmHWM:")]
    sys.__stderr__.write("\\nPEAK-RSS-KB " + peak[0] + "\\n")
atexit.register(_peak)
from storyboard.cli.app import main
main()
"""


def _run(args: list[str], cwd: Path) -> tuple[int, str, float, int]:
    """Exit code, stdout+stderr, CPU seconds and peak RSS (bytes) of one CLI run."""
    env = {**os.environ, "COLUMNS": "300", "NO_COLOR": "1"}
    env.pop("KIE_API_KEY", None)
    env.pop("STORYBOARD_DEBUG", None)
    with tempfile.TemporaryFile("w+") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", _CHILD, *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
        timer = threading.Timer(HANG_SECONDS, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        sink.seek(0)
        output, _, peak = sink.read().rpartition("PEAK-RSS-KB ")
    assert peak.strip().isdigit(), f"no peak memory reported:\n{output}"
    return process.returncode, output, usage.ru_utime + usage.ru_stime, int(peak) * 1024


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.j2").write_text(f"{CANARY}\n")
    return tmp_path


def _load_case(case: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((case / "case.yaml").read_text())
    return data


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input(case: Path, workspace: Path) -> None:
    spec = _load_case(case)
    project = workspace / "project"
    shutil.copytree(case, project, ignore=shutil.ignore_patterns("case.yaml"))
    if "setup" in spec:
        SETUPS[spec["setup"]](project)
    inputs, around = _snapshot(project), _snapshot(workspace)
    for command in spec["commands"]:
        exit_code, output, cpu, rss = _run([str(a) for a in command["args"]], project)
        shown = f"{command['args']} -> {exit_code}, {cpu:.1f} s CPU, {rss >> 20} MB:\n{output}"
        assert exit_code == command["exit"], shown
        assert "Traceback" not in output and "internal error" not in output, shown
        for wanted in command.get("expect", []):
            assert any(wanted in line for line in output.splitlines()), f"{wanted!r}\n{shown}"
        for unwanted in [CANARY, *command.get("absent", [])]:
            assert unwanted not in output, shown
            _assert_not_written(project, inputs, unwanted)
        print(f"{case.name} {command['args'][0]}: {cpu:.2f} s CPU, {rss >> 20} MB")
        assert cpu < MAX_CPU_SECONDS, shown
        assert rss < MAX_RSS_BYTES, shown
    after = _snapshot(project)
    assert {k: after.get(k) for k in inputs} == inputs, "an input changed"
    outside_now = {k: v for k, v in _snapshot(workspace).items() if not k.startswith("project")}
    assert outside_now == {k: v for k, v in around.items() if not k.startswith("project")}


def _assert_not_written(project: Path, inputs: dict[str, str], text: str) -> None:
    """``text`` is in no file the commands wrote inside the project."""
    for path in project.rglob("*"):
        relative = str(path.relative_to(project))
        if relative in inputs or not path.is_file() or path.is_symlink():
            continue
        assert text.encode() not in path.read_bytes(), f"{text!r} written to {relative}"


def test_corpus_covers_the_issue() -> None:
    """The corpus keeps its cases: at least one per kind of hostile input."""
    names = {c.name for c in CASES}
    for prefix in ("template-", "prompt-", "yaml-", "json-", "storyboard-", "recipe-", "init-"):
        assert any(n.startswith(prefix) for n in names), prefix
    assert len(CASES) >= 45
