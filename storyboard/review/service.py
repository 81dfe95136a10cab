"""What the review page can do, without HTTP: read the board, pick, reroll, render, note.

One :class:`ReviewService` per storyboard. Reads prepare the storyboard afresh (so a save
in the editor shows up); actions that generate run one at a time in a worker thread and
go through the same cost gate as the CLI (free offline; on kie.ai only within a budget).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.diagnostics import Diagnostic
from storyboard.errors import StoryboardError
from storyboard.lock import LockError, lock_path
from storyboard.media.ffmpeg import run_ffmpeg
from storyboard.media.frames import extract_last_frame
from storyboard.picking import PickError, check_take, pick_take, picked_clips, refresh_lock
from storyboard.plan import PlanError
from storyboard.review.board import Board, build_board
from storyboard.run.backend import Backend
from storyboard.run.render import Prepared, assemble_edit, generate_all, output_path, prepare
from storyboard.run.session import RenderSession
from storyboard.validate import StoryboardInvalid

__all__ = ["ActionRefused", "Quote", "ReviewService", "Unavailable"]


class ActionRefused(StoryboardError):
    """The action cannot be done (bad scene/take, over budget, busy); shown to the user."""


class Unavailable(StoryboardError):
    """The storyboard cannot be read right now (invalid while being edited)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Quote:
    """What a generating action would generate and cost (before confirming)."""

    to_generate: list[str]
    credits: int
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"to_generate": self.to_generate, "credits": self.credits, "cost": self.text}


@dataclass
class _Job:
    name: str = ""
    running: bool = False
    error: str = ""
    finished: int = 0


@dataclass
class ReviewService:
    """The review actions on one storyboard."""

    path: Path
    backend: Backend
    state_path: Path | None = None
    budget: float | None = None
    """Most credits one action may spend on a billed service (None: billed actions refused)."""
    job: _Job = field(default_factory=_Job)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cache: tuple[str, Board] | None = None
    _frames: threading.Lock = field(default_factory=threading.Lock)

    # -- reading -------------------------------------------------------------------------

    def prepare(self, **options: Any) -> Prepared:
        try:
            return prepare(self.path, self.backend, state_path=self.state_path, **options)
        except StoryboardInvalid as exc:
            raise Unavailable([_diagnostic(d) for d in exc.diagnostics]) from exc
        except (PlanError, LockError) as exc:
            raise Unavailable([str(exc)]) from exc

    def board(self) -> Board:
        """The page data, rebuilt only when :meth:`fingerprint` changed."""
        now = self.fingerprint()
        cached = self._cache
        if cached is not None and cached[0] == now:
            return cached[1]
        board = build_board(self.prepare(), self.notes())
        self._cache = (now, board)
        return board

    @property
    def state_dir(self) -> Path:
        return (self.state_path or self.path.resolve().parent / ".storyboard" / "x").parent

    @property
    def notes_path(self) -> Path:
        return self.state_dir / "notes.json"

    def notes(self) -> dict[str, str]:
        try:
            data = json.loads(self.notes_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def fingerprint(self) -> str:
        """Changes when anything the page shows may have changed."""
        files = [self.path, lock_path(self.path), self.notes_path]
        state = self.state_path or self.state_dir / "state.sqlite"
        files += [state, state.with_name(state.name + "-wal")]
        parts = [_stat(f) for f in files]
        parts.append(f"{self.job.running}:{self.job.finished}:{self.job.error}")
        return "|".join(parts)

    def frame(self, clip: Path, which: str) -> Path:
        """The first or last frame of a journaled clip, extracted once."""
        out = self.state_dir / "review-frames" / f"{clip.stem}-{which}.png"
        with self._frames:  # one extraction at a time: the page asks for many at once
            if not out.is_file():
                self._extract(clip, which, out)
        return out

    @staticmethod
    def _extract(clip: Path, which: str, out: Path) -> None:
        if which == "last":
            extract_last_frame(clip, out)
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp.png")
        run_ffmpeg(["-y", "-v", "error", "-i", str(clip), "-frames:v", "1", str(tmp)])
        tmp.replace(out)

    # -- acting --------------------------------------------------------------------------

    def pick(self, scene: str, take: int) -> dict[str, Any]:
        """Pick a take; re-assemble the edit when every picked take has its clip."""
        with self._lock:
            prepared = self.prepare()
            try:
                picked = pick_take(prepared, scene, take)
            except (PickError, LockError) as exc:
                raise ActionRefused(str(exc)) from exc
            assembled = self._assemble(picked.after)
        return {
            "scene": scene,
            "take": take,
            "stale": picked.stale,
            "cost": str(picked.cost),
            "assembled": assembled,
        }

    def note(self, scene: str, text: str) -> None:
        with self._lock:
            notes = self.notes()
            if text.strip():
                notes[scene] = text.strip()[:2000]
            else:
                notes.pop(scene, None)
            _write_json(self.notes_path, notes)

    def quote(self, scene: str | None, n: int) -> Quote:
        """What ``reroll`` (``scene``, ``n`` more takes) or ``render`` (no scene) costs."""
        prepared, only = self._planned(scene, n)
        names = [
            m
            for m, st in prepared.all_status().items()
            if st.will_pay and (only is None or m in only)
        ]
        cost = prepared.cost(only)
        text = str(cost) if prepared.backend.billed else f"free here (on kie.ai: {cost})"
        return Quote([m.removesuffix("#1") for m in names], cost.credits, text)

    def start(self, scene: str | None, n: int) -> Quote:
        """Start generating (reroll or render) in the background after the cost gate."""
        quote = self.quote(scene, n)
        if self.backend.billed and (self.budget is None or quote.credits > self.budget):
            raise ActionRefused(
                f"{quote.text} exceeds the review budget (start `storyboard review` with "
                "--budget CREDITS to allow spending)"
            )
        with self._lock:
            if self.job.running:
                raise ActionRefused(f"busy: {self.job.name} is running")
            self.job.running, self.job.name, self.job.error = True, _job_name(scene, n), ""
        threading.Thread(
            target=self._run, args=(scene, n), daemon=True, name="storyboard-review-job"
        ).start()
        return quote

    def _planned(self, scene: str | None, n: int) -> tuple[Prepared, set[str] | None]:
        if scene is None:
            return self.prepare(), None
        before = self.prepare()
        try:
            check_take(before, scene, 1)
        except PickError as exc:
            raise ActionRefused(str(exc)) from exc
        have = max(before.plan.takes[scene])
        prepared = self.prepare(more_takes={scene: n})
        new = {p.name for p in prepared.plan.takes[scene].values() if p.take > have}
        upstream = {
            prepared.plan.generations[s].name
            for s in prepared.plan.generations
            if scene in prepared.plan.downstream(s)
        }
        return prepared, new | upstream

    def _run(self, scene: str | None, n: int) -> None:
        try:
            prepared, only = self._planned(scene, n)
            options = RenderSession(prepared.backend).options()
            result = asyncio.run(generate_all(prepared, options, lambda event: None, only=only))
            if not result.ok:
                failed = [g.error or "" for g in result.all_results() if not g.ok]
                raise ActionRefused("; ".join([*failed, *result.other_failures.values()]))
            if scene is None:
                with self._lock:
                    self._assemble(self.prepare())
        except Exception as exc:  # shown on the page; the journal keeps what was done
            self.job.error = str(exc) or type(exc).__name__
        finally:
            self.job.running = False
            self.job.finished += 1

    def _assemble(self, prepared: Prepared) -> bool:
        clips = picked_clips(prepared)
        if set(clips) != set(prepared.plan.generations):
            return False
        assemble_edit(prepared, clips, output_path(prepared))
        refresh_lock(prepared, clips)
        return True


def _job_name(scene: str | None, n: int) -> str:
    return f"reroll {scene} (+{n})" if scene else "render"


def _diagnostic(item: Diagnostic) -> str:
    return str(item)


def _stat(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return "-"
    return f"{stat.st_mtime_ns}:{stat.st_size}"


def _write_json(path: Path, data: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
    Path(tmp).replace(path)
