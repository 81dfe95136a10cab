"""What the review page shows, read from a prepared storyboard and its journal.

:func:`build_board` turns a :class:`~storyboard.run.render.Prepared` into plain data
(scenes in edit order, their shots, status, cost and takes) and a :class:`MediaIndex`:
the only files the page can ask for, each under an opaque id derived from a content key.
No path from a request ever reaches the file system.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from storyboard.run.render import Prepared, output_path
from storyboard.store import StateStore

__all__ = ["Board", "MediaIndex", "SceneView", "TakeView", "build_board"]


@dataclass
class MediaIndex:
    """Media id → file. Clips come from the journal (or the lock file, via the journal);
    frames are extracted from those clips; ``edit`` is the assembled output."""

    clips: dict[str, Path] = field(default_factory=dict)
    """``clip-<key>`` → clip file."""
    edit: Path | None = None

    def clip_for_frame(self, media_id: str) -> tuple[Path, str] | None:
        """``first-<key>``/``last-<key>`` → (the clip, which end), if the clip is known."""
        which, _, key = media_id.partition("-")
        clip = self.clips.get(f"clip-{key}")
        return (clip, which) if which in {"first", "last"} and clip is not None else None


@dataclass(frozen=True)
class TakeView:
    """One take of a scene."""

    take: int
    key: str
    status: str
    picked: bool
    task_id: str | None
    credits_spent: float
    has_clip: bool

    @property
    def clip_id(self) -> str:
        return f"clip-{self.key}"


@dataclass(frozen=True)
class SceneView:
    """One scene as the page shows it."""

    id: str
    number: int
    shots: list[dict[str, Any]]
    duration: int
    depends_on: list[str]
    status: str
    reasons: list[str]
    estimate_credits: int
    estimate_usd: float
    spent_credits: float
    lock: dict[str, Any]
    note: str
    takes: list[TakeView]

    @property
    def version(self) -> str:
        """Changes whenever anything shown for the scene changes (the page swaps it then)."""
        text = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Board:
    """The whole page: title, cost to pay, scenes in edit order, the edit."""

    title: str
    backend: str
    billed: bool
    cost: str
    to_generate: list[str]
    scenes: list[SceneView]
    edit_version: str | None
    media: MediaIndex
    edit_poster: str | None = None
    """Media id of the edit's first picture (the first scene's picked take, first frame)."""

    @property
    def header_version(self) -> str:
        text = json.dumps([self.cost, self.to_generate, self.edit_version])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_board(prepared: Prepared, notes: dict[str, str]) -> Board:
    """The page data and media index of ``prepared`` (reads the journal)."""
    media = MediaIndex()
    every = prepared.all_status()
    scenes = []
    with StateStore(prepared.state_path) as store:
        for number, scene_id in enumerate(_edit_order(prepared), start=1):
            takes = []
            for planned in prepared.plan.takes[scene_id].values():
                record = store.generation(planned.key)
                spent = sum(t["credits"] for t in store.tasks(planned.key))
                clip = record.clip if record else None
                if clip is not None:
                    media.clips[f"clip-{planned.key}"] = clip
                status = every[planned.name]
                takes.append(
                    TakeView(
                        planned.take,
                        planned.key,
                        status.kind,
                        planned.take == prepared.plan.generations[scene_id].take,
                        record.task_id if record else None,
                        spent,
                        clip is not None,
                    )
                )
            scenes.append(_scene(prepared, scene_id, number, takes, notes.get(scene_id, "")))
    edit = output_path(prepared)
    media.edit = edit if edit.is_file() else None
    cost = prepared.cost()
    paying = [n.removesuffix("#1") for n, st in every.items() if st.will_pay]
    first = next((t for t in scenes[0].takes if t.picked and t.has_clip), None) if scenes else None
    return Board(
        prepared.storyboard.title,
        prepared.backend.description,
        prepared.backend.billed,
        str(cost),
        paying,
        scenes,
        _file_version(media.edit),
        media,
        f"first-{first.key}" if first else None,
    )


def _scene(
    prepared: Prepared, scene_id: str, number: int, takes: list[TakeView], note: str
) -> SceneView:
    picked = prepared.plan.generations[scene_id]
    scene = prepared.storyboard.scene(scene_id)
    status = prepared.status[scene_id]
    shots = [
        {"number": i, "prompt": s.prompt, "duration": s.duration, "camera": s.camera or ""}
        for i, s in enumerate(scene.shots, start=1)
    ]
    return SceneView(
        scene_id,
        number,
        shots,
        picked.generation.duration,
        list(picked.generation.depends_on),
        status.kind,
        status.reasons,
        picked.estimate.credits,
        picked.estimate.usd,
        sum(t.credits_spent for t in takes),
        prepared.lock_states[scene_id].to_json(),
        note,
        takes,
    )


def _edit_order(prepared: Prepared) -> list[str]:
    board = prepared.storyboard
    order = [s for s in board.edit.order or [] if s in prepared.plan.generations]
    return [*order, *(s.id for s in board.scenes if s.id not in order)]


def _file_version(path: Path | None) -> str | None:
    if path is None:
        return None
    stat = path.stat()
    return f"{stat.st_mtime_ns:x}-{stat.st_size:x}"
