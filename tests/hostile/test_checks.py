"""Every mistake is caught before paying: the hostile check corpus, run through the CLI.

Each folder in checks/ holds a storyboard whose first line says what must be reported:
``# expect: LINE FIELD | MESSAGE``. The files it names (a PNG decompression bomb, a
truncated PNG, text posing as video or music, a PNG posing as a font, ...) are made by
:mod:`hostile_media`. ``storyboard validate`` and ``storyboard render`` (offline) each run
as a subprocess and must exit 2 with that diagnostic, print no traceback, leave the folder
exactly as it was (no journal, no clips, no output), and stay within 10 s of CPU and
300 MB of memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from .bounds import HANG_SECONDS, MAX_CPU_SECONDS, MAX_RSS_MB
from .hostile_media import build_assets

CASES = sorted(p.parent for p in (Path(__file__).parent / "checks").glob("*/storyboard.yaml"))
EXPECT = re.compile(r"^# expect: (\d+) (.+?) \| (.+)$")
CLI = str(Path(sys.executable).with_name("storyboard"))


@dataclass(frozen=True)
class Ran:
    """One finished CLI run: exit code, output, and its resources (children included)."""

    code: int
    output: str
    cpu_seconds: float
    peak_rss_mb: float


# A small launcher runs the CLI and reports its rusage: measured from pytest directly,
# the child's peak RSS would include the pytest process it was forked from.
LAUNCHER = """
import json, resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
use = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as out:
    json.dump([code, use.ru_utime + use.ru_stime, use.ru_maxrss], out)
"""


def run_cli(args: list[str], cwd: Path) -> Ran:
    """Run the ``storyboard`` CLI offline; measure it (children included) from a launcher."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIE_", "STORYBOARD_"))}
    usage = cwd.parent / f"{cwd.name}.usage.json"
    launcher = [sys.executable, "-c", LAUNCHER, str(usage), CLI, *args]
    proc = subprocess.run(launcher, cwd=cwd, env=env, capture_output=True, timeout=HANG_SECONDS)
    code, cpu, peak_kb = json.loads(usage.read_text())
    output = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    return Ran(code, output, cpu, peak_kb / 1024)


def snapshot(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` with the SHA-256 of its bytes ("dir" for folders)."""
    return {
        str(p.relative_to(folder)): "dir"
        if p.is_dir()
        else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
    }


@dataclass(frozen=True)
class Outcome:
    """A case run by one command: where, what it printed, and the folder before/after."""

    board: Path
    ran: Ran
    before: dict[str, str]
    after: dict[str, str]


def run_case(case: Path, command: str, assets: Path, root: Path) -> Outcome:
    """Copy the case and its assets to a fresh folder and run ``command`` on it."""
    folder = root / f"{case.name}-{command}"
    shutil.copytree(assets, folder)
    board = folder / "storyboard.yaml"
    shutil.copy(case / "storyboard.yaml", board)
    before = snapshot(folder)
    args = [command, str(board)] + (["--backend", "offline"] if command == "render" else [])
    ran = run_cli(args, folder)
    return Outcome(board, ran, before, snapshot(folder))


COMMANDS = ("validate", "render")
_OUTCOMES: dict[tuple[str, str], Outcome] = {}


@pytest.fixture(scope="session")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile-assets")
    build_assets(folder)
    return folder


@pytest.fixture
def outcome(
    case: Path, command: str, assets: Path, tmp_path_factory: pytest.TempPathFactory
) -> Outcome:
    """The case run by ``command``; both commands of a case run at once (each measured
    on its own), the second test of the case reads the stored outcome."""
    if (case.name, command) not in _OUTCOMES:
        root = tmp_path_factory.mktemp(case.name)
        with ThreadPoolExecutor(max_workers=len(COMMANDS)) as pool:
            runs = pool.map(lambda name: run_case(case, name, assets, root), COMMANDS)
            _OUTCOMES.update({(case.name, name): o for name, o in zip(COMMANDS, runs, strict=True)})
    return _OUTCOMES.pop((case.name, command))


def test_corpus_covers_the_issue() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_mistake_is_reported_before_paying(case: Path, command: str, outcome: Outcome) -> None:
    line, field, message = EXPECT.match(  # type: ignore[union-attr]
        (case / "storyboard.yaml").read_text().splitlines()[0]
    ).groups()
    ran = outcome.ran
    assert ran.code == 2, ran.output
    wanted = f"{outcome.board}:{line}:"
    matching = [
        row
        for row in ran.output.splitlines()
        if row.startswith(wanted) and f": {field}: " in row and message in row
    ]
    assert matching, f"expected {wanted} {field}: ... {message!r} in:\n{ran.output}"
    assert "Traceback" not in ran.output and "internal error" not in ran.output
    assert outcome.after == outcome.before  # no journal, no clips, no output; inputs intact
    assert ran.cpu_seconds < MAX_CPU_SECONDS, ran
    assert ran.peak_rss_mb < MAX_RSS_MB, ran
