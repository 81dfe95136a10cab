"""A small JSON file beside each downloaded clip: what the journal knows about it.

``<clip>.json`` carries the generation's content key, namespace, task id and result URL
(and the clip's size). A lost or emptied journal is rebuilt from these for every clip
whose content key the plan still needs (:func:`adopt_clips`), so losing the journal
never pays again for a clip that is on disk.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from storyboard.atomic import write_text_atomic
from storyboard.store import StateStore

__all__ = [
    "ClipSidecar",
    "adopt_clips",
    "clip_name",
    "read_sidecar",
    "read_sidecars",
    "sidecar_path",
    "write_sidecar",
]

_FORMAT = 1


@dataclass(frozen=True)
class ClipSidecar:
    """What a clip's sidecar says."""

    key: str
    namespace: str
    scene_id: str
    storyboard: str
    task_id: str
    result_url: str
    credits: float
    size: int
    canonical: dict[str, Any]


def clip_name(scene_id: str, key: str) -> str:
    """The file name of a generation's clip: ``<scene>-<key[:12]>.mp4``."""
    return f"{scene_id}-{key[:12]}.mp4"


def sidecar_path(clip: Path) -> Path:
    """``<clip>.json``."""
    return clip.with_name(clip.name + ".json")


def write_sidecar(clip: Path, sidecar: ClipSidecar) -> None:
    """Write ``clip``'s sidecar (atomically)."""
    data = {"format": _FORMAT, **asdict(sidecar)}
    write_text_atomic(sidecar_path(clip), json.dumps(data, indent=1) + "\n")


def read_sidecars(folder: Path) -> dict[str, tuple[Path, ClipSidecar]]:
    """Content key → (clip, sidecar) for every intact clip in ``folder`` (a clip whose size
    differs from what its sidecar says, or a sidecar that does not parse, is skipped)."""
    found: dict[str, tuple[Path, ClipSidecar]] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.mp4.json")):
        clip = path.with_name(path.name.removesuffix(".json"))
        if (sidecar := read_sidecar(clip)) is not None:
            found[sidecar.key] = (clip, sidecar)
    return found


def read_sidecar(clip: Path) -> ClipSidecar | None:
    """``clip``'s sidecar when both are there and the clip has the size it says."""
    sidecar = _parse(sidecar_path(clip))
    if sidecar is None or not clip.is_file() or clip.stat().st_size != sidecar.size:
        return None
    return sidecar


def _parse(path: Path) -> ClipSidecar | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data.pop("format", None)
        return ClipSidecar(**data)
    except (OSError, ValueError, TypeError):
        return None


def adopt_clips(
    store: StateStore,
    folder: Path,
    scenes: dict[str, str] | None = None,
    namespace: str | None = None,
) -> list[str]:
    """Journal, as done, the clips in ``folder`` that the journal lacks (no record, or no
    clip on disk): those of ``scenes`` (content key → scene id; each looked up by its file
    name, no folder scan) in ``namespace``, or when None every clip there; the keys adopted."""
    if scenes is None:
        found = read_sidecars(folder)
    else:
        lost = [(k, folder / clip_name(s, k)) for k, s in scenes.items() if not _has_clip(store, k)]
        found = {k: (c, sc) for k, c in lost if (sc := read_sidecar(c)) is not None}
    adopted = []
    for key, (clip, sidecar) in found.items():
        if sidecar.key != key or _has_clip(store, key):
            continue
        if namespace is not None and sidecar.namespace != namespace:
            continue
        store.adopt_clip(
            key,
            namespace=sidecar.namespace,
            storyboard=sidecar.storyboard,
            scene_id=sidecar.scene_id,
            canonical=sidecar.canonical,
            task_id=sidecar.task_id,
            result_url=sidecar.result_url,
            credits=sidecar.credits,
            clip_path=clip,
        )
        adopted.append(key)
    return adopted


def _has_clip(store: StateStore, key: str) -> bool:
    record = store.generation(key)
    return record is not None and record.clip is not None
