"""Picking a take: record it in the lock file and say what it makes stale, and what that costs.

Used by ``storyboard pick`` and the review page. A pick changes the plan: the scenes whose
first frame comes from the picked scene (and the scenes after them) now start on another
frame, so their requests change and they are generated again on the next render.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import InputError
from storyboard.filehash import file_sha256
from storyboard.lock import LockEntry, LockFile, lock_path, now_iso, read_lock, write_lock
from storyboard.run.render import CostEstimate, Prepared, prepare
from storyboard.store import StateStore

__all__ = ["PickError", "Picked", "check_take", "pick_take", "picked_clips", "refresh_lock"]


class PickError(InputError):
    """The take cannot be picked; the message says why and what to do."""


@dataclass(frozen=True)
class Picked:
    """A recorded pick and the plan after it."""

    scene: str
    entry: LockEntry
    after: Prepared
    stale: list[str]
    """Takes (``scene#take``) the next render pays for now."""

    @property
    def cost(self) -> CostEstimate:
        return self.after.cost()

    @property
    def lock_path(self) -> Path:
        return lock_path(self.after.path)


def check_take(prepared: Prepared, scene: str, take: int) -> None:
    """Raise :class:`PickError` unless ``scene`` has a take ``take`` in the plan."""
    takes = prepared.plan.takes.get(scene)
    if takes is None:
        known = ", ".join(prepared.plan.takes)
        raise PickError(f"there is no scene {scene!r} (scenes: {known})")
    if take not in takes:
        raise PickError(
            f"scene {scene!r} has take(s) 1-{max(takes)}; add more with "
            f"`storyboard reroll FILE {scene}` or `takes:` in the storyboard"
        )


def pick_take(prepared: Prepared, scene: str, take: int) -> Picked:
    """Pick take ``take`` of ``scene`` (it must have its clip); write the lock file."""
    check_take(prepared, scene, take)
    planned = prepared.plan.takes[scene][take]
    with StateStore(prepared.state_path) as store:
        record = store.generation(planned.key)
    if record is None or record.clip is None:
        raise PickError(
            f"take {take} of {scene!r} has no clip for its current request yet; run "
            "`storyboard render` first"
        )
    entry = LockEntry(
        take=take,
        key=planned.key,
        task_id=record.task_id,
        clip=_relative(record.clip, prepared.base_dir),
        sha256=file_sha256(record.clip),
        picked_at=now_iso(),
    )
    lock = read_lock(prepared.path)
    write_lock(LockFile(lock.path, {**lock.scenes, scene: entry}))
    after = prepare(prepared.path, prepared.backend, state_path=prepared.state_path)
    stale = [_label(name) for name, status in after.all_status().items() if status.will_pay]
    return Picked(scene, entry, after, stale)


def refresh_lock(prepared: Prepared, clips: dict[str, Path]) -> list[str]:
    """After an assembly: make the lock file (when there is one) name the clips the edit
    used, scene by scene. Returns the scenes whose entry was added or replaced (a
    replaced entry was stale: ``plan`` reported it before anything was generated)."""
    lock = read_lock(prepared.path)
    if not lock.path.is_file():
        return []
    entries, changed = dict(lock.scenes), []
    with StateStore(prepared.state_path) as store:
        for scene, clip in clips.items():
            planned = prepared.plan.generations[scene]
            old = entries.get(scene)
            if old is not None and old.key == planned.key:
                continue
            record = store.generation(planned.key)
            entries[scene] = LockEntry(
                take=planned.take,
                key=planned.key,
                task_id=record.task_id if record else None,
                clip=_relative(clip, prepared.base_dir),
                sha256=file_sha256(clip),
                picked_at=now_iso(),
            )
            changed.append(scene)
    if changed:
        write_lock(LockFile(lock.path, entries))
    return changed


def picked_clips(prepared: Prepared) -> dict[str, Path]:
    """Scene → the clip of its picked take, for the scenes that have one."""
    clips = {}
    with StateStore(prepared.state_path) as store:
        for scene, planned in prepared.plan.generations.items():
            record = store.generation(planned.key)
            if record is not None and record.clip is not None:
                clips[scene] = record.clip
    return clips


def _label(name: str) -> str:
    """``wake-up`` for take 1, ``wake-up#2`` for the others."""
    return name.removesuffix("#1")


def _relative(path: Path, base: Path) -> str:
    """``path`` relative to the storyboard folder, with forward slashes."""
    return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
