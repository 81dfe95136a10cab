"""Helpers of the run tests: storyboards, a shared in-process emulator, an event recorder,
a tiny clip renderer and the checks every render must pass (clips decode, no temp files,
a consistent journal)."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from storyboard.compile import Generation
from storyboard.load import load_text
from storyboard.media.ffmpeg import decode_errors, run_ffmpeg
from storyboard.providers.emulator import Emulator, EmulatorConfig, inprocess_client
from storyboard.providers.emulator.inprocess import FAST_POLL
from storyboard.providers.kie import KieClient
from storyboard.run.backend import Backend
from storyboard.run.events import Event
from storyboard.run.steps import RunOptions
from storyboard.validate import validate_loaded

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BENCHMARKS = ROOT / "benchmarks"
TEMP_PATTERNS = ("*.part", "*.partial*", "*.tmp*", "*.sb-tmp*")


def copy_examples(dest: Path) -> Path:
    """A copy of examples/ (without outputs or journals); returns ``dest``."""
    shutil.copytree(EXAMPLES, dest, ignore=shutil.ignore_patterns("out", ".storyboard"))
    return dest


def chain_storyboard(chains: tuple[int, ...] = (3,), singles: int = 0, title: str = "T") -> str:
    """Storyboard text: continuity chains of these lengths, then independent scenes."""
    lines = [
        "storyboard: 1",
        f"title: {title}",
        'defaults: {mode: std, aspect_ratio: "16:9", sound: false}',
        "scenes:",
    ]
    for c, length in enumerate(chains):
        for i in range(length):
            frame = "refs/room.png" if i == 0 else f"{{from: c{c}s{i - 1}}}"
            lines += [
                f"  - id: c{c}s{i}",
                f"    first_frame: {frame}",
                f'    shots: [{{prompt: "chain {c} scene {i}", duration: 3}}]',
            ]
    for s in range(singles):
        lines += [
            f"  - id: single{s}",
            "    first_frame: refs/harbour.png",
            f'    shots: [{{prompt: "single {s}", duration: 3}}]',
        ]
    return "\n".join([*lines, "output: out/t.mp4", ""])


def compile_text(text: str, where: Path) -> list[Generation]:
    """The generations of storyboard ``text`` (as if at ``where``), without touching disk."""
    report = validate_loaded(load_text(text, where / "storyboard.yaml"), check_files=False)
    assert report.ok, [str(d) for d in report.errors]
    return report.generations


class Recorder:
    """An event sink that keeps every event."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def states(self, node: str) -> list[str]:
        return [e.state for e in self.events if e.node == node]

    def created(self) -> list[str]:
        """Scenes for which a task was created, in order."""
        return [
            e.node.split(":", 1)[1]
            for e in self.events
            if e.state == "generating" and e.message == "task created"
        ]

    def nodes(self, state: str) -> set[str]:
        return {e.node for e in self.events if e.state == state}


class TinyRenderer:
    """An emulator renderer writing small real MP4s (24 fps, the body's duration, 320x180,
    AAC audio): frames decode, last frames extract, clips assemble; one encode per shape."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(
        self,
        body: Mapping[str, Any],
        out_path: str | Path,
        *,
        fetch_asset: Any = None,
        label: str | None = None,
    ) -> Path:
        seconds = int(body["input"]["duration"])
        with self._lock:
            self.calls += 1
            source = self.folder / f"tiny-{seconds}s.mp4"
            if not source.is_file():
                run_ffmpeg(
                    [
                        "-y",
                        "-v",
                        "error",
                        "-f",
                        "lavfi",
                        "-i",
                        f"testsrc2=s=320x180:r=24:d={seconds}",
                        "-f",
                        "lavfi",
                        "-i",
                        f"sine=f=440:r=48000:d={seconds}",
                        "-ac",
                        "2",
                        "-c:v",
                        "libx264",
                        "-preset",
                        "ultrafast",
                        "-pix_fmt",
                        "yuv420p",
                        "-c:a",
                        "aac",
                        "-shortest",
                        str(source),
                    ]
                )
        tmp = Path(f"{out_path}.tmp")
        shutil.copyfile(source, tmp)
        tmp.replace(out_path)
        return Path(out_path)


@asynccontextmanager
async def shared_emulator(config: EmulatorConfig) -> AsyncIterator[tuple[Backend, Emulator]]:
    """An in-process emulator kept across runs (its counters and tasks survive them), and
    a backend whose runs all talk to it."""
    client, emulator = inprocess_client(config)

    @asynccontextmanager
    async def factory() -> AsyncIterator[KieClient]:
        yield client

    try:
        yield Backend("offline", "offline", billed=False, factory=factory), emulator
    finally:
        await client.aclose()
        await emulator.aclose()


def fast_options(**changes: Any) -> RunOptions:
    """Run options for tests: fast polling, no request pacing to speak of."""
    values: dict[str, Any] = {"poll": FAST_POLL, "requests_per_second": 1000.0}
    return RunOptions(**{**values, **changes})


def temp_files(project: Path) -> list[Path]:
    """Temporary files left in the clips, frames and output folders."""
    folders = [
        project / ".storyboard" / "clips",
        project / ".storyboard" / "frames",
        project / "out",
    ]
    return sorted(p for f in folders for pattern in TEMP_PATTERNS for p in f.glob(pattern))


def undecodable(paths: list[Path]) -> dict[str, list[str]]:
    """Files among ``paths`` that ffmpeg cannot decode cleanly, with its errors."""
    return {p.name: errors for p in paths if (errors := decode_errors(p))}


def journal_rows(state: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of a query on the journal (a plain connection, as after a crash)."""
    db = sqlite3.connect(state)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()
