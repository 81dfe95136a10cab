"""The lock file: which take of each scene the edit uses (``film.yaml`` → ``film.lock``).

Small, sorted YAML meant to be committed. Per picked scene: the take, the content key of
that take's request, the task that made it, the clip (path relative to the storyboard's
folder) and its SHA-256, and when it was picked. With the lock file and the journal (or
just the clips) another machine assembles the same edit without generating anything.
An entry whose key no longer matches the scene's request is *stale*: it is reported,
never used for a different request.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from storyboard.errors import InputError

__all__ = [
    "LOCK_VERSION",
    "LockEntry",
    "LockError",
    "LockFile",
    "LockState",
    "lock_path",
    "lock_state",
    "now_iso",
    "read_lock",
    "write_lock",
]

LOCK_VERSION = 1
_HEADER = (
    "# storyboard lock file: the picked take of each scene (`storyboard pick`). Commit it;\n"
    "# with it and the clips, `storyboard assemble` rebuilds the same edit.\n"
)


class LockError(InputError):
    """The lock file cannot be read; the message names the file and how to fix it."""


class LockEntry(BaseModel):
    """The pick of one scene."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    take: int = Field(ge=1, description="The picked take.")
    key: str = Field(min_length=64, max_length=64, description="Content key of that take.")
    task_id: str | None = Field(None, description="The task that generated the clip.")
    clip: str | None = Field(None, description="The clip, relative to the storyboard folder.")
    sha256: str | None = Field(None, description="SHA-256 of the clip file.")
    picked_at: str = Field(description="When it was picked (UTC, ISO 8601).")


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lock: int = Field(LOCK_VERSION, ge=LOCK_VERSION, le=LOCK_VERSION)
    scenes: dict[str, LockEntry] = Field(default_factory=dict)


@dataclass
class LockFile:
    """The picks of a storyboard (empty when there is no lock file)."""

    path: Path
    scenes: dict[str, LockEntry]

    def picks(self) -> dict[str, int]:
        """Scene id → picked take."""
        return {scene: entry.take for scene, entry in self.scenes.items()}

    def to_text(self) -> str:
        data = _Document(scenes=self.scenes).model_dump(mode="json", exclude_none=True)
        return _HEADER + yaml.safe_dump(data, sort_keys=True, default_flow_style=False)


def lock_path(storyboard: Path) -> Path:
    """``film.yaml`` → ``film.lock`` (beside it)."""
    return storyboard.with_suffix(".lock")


def read_lock(storyboard: Path) -> LockFile:
    """The lock file beside ``storyboard`` (empty if there is none)."""
    path = lock_path(storyboard)
    if not path.is_file():
        return LockFile(path, {})
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        document = _Document.model_validate(data)
    except (yaml.YAMLError, ValidationError, UnicodeDecodeError) as exc:
        raise LockError(
            f"{path}: not a valid lock file ({_first_line(exc)}); fix it, or delete it and "
            "pick the takes again with `storyboard pick`"
        ) from exc
    return LockFile(path, dict(document.scenes))


def write_lock(lock: LockFile) -> None:
    """Write atomically: a temporary file beside it, flushed, then renamed over it."""
    lock.path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{lock.path.name}.", suffix=".tmp", dir=lock.path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(lock.to_text())
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(lock.path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def now_iso() -> str:
    """The current UTC time, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class LockState:
    """How a scene's lock entry relates to its current request."""

    scene: str
    state: str
    """``none`` (nothing picked: take 1), ``ok``, or ``stale`` (the request changed)."""
    take: int
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "take": self.take, "message": self.message}


def lock_state(lock: LockFile, scene: str, current_key: str) -> LockState:
    """Compare ``scene``'s entry with the key its picked take has now."""
    entry = lock.scenes.get(scene)
    if entry is None:
        return LockState(scene, "none", 1)
    if entry.key == current_key:
        return LockState(scene, "ok", entry.take)
    return LockState(
        scene,
        "stale",
        entry.take,
        f"picked take {entry.take} was generated for an earlier request (key "
        f"{entry.key[:12]}…); it is not reused — render, look, and pick again",
    )


def _first_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        return f"{where}: {first['msg']}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
