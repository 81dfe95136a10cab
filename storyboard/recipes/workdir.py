"""The batch's work folder: instantiated storyboards and the files they use.

``<out>/.storyboards/`` holds ``row-0007.yaml`` (written atomically: temp name, then
rename) and ``assets/<content hash>-<name>`` copies of every file a parameter names.
Naming copies by content keeps the storyboards' text, and so their generations' content
keys, the same from one run to the next; the state store (``.storyboard/state.sqlite``
in the same folder) is then shared by every row, so a re-run pays for nothing.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path

from storyboard.filehash import file_sha256
from storyboard.recipes.instantiate import Instance

__all__ = ["WORK_FOLDER", "atomic_write_text", "staged_names", "write_instance"]

WORK_FOLDER = ".storyboards"


def staged_names(files: Iterable[Path], known: dict[Path, str] | None = None) -> dict[Path, str]:
    """``assets/<first 12 hex of sha256>-<file name>`` for each file (``known`` is a cache
    the caller keeps across rows, so shared files are hashed once)."""
    names = known if known is not None else {}
    for file in files:
        if file not in names:
            names[file] = f"assets/{file_sha256(file)[:12]}-{file.name}"
    return names


def write_instance(instance: Instance, work_dir: Path, copied: set[str] | None = None) -> Path:
    """Copy the instance's files into ``work_dir`` and write its storyboard; its path.
    ``copied``: names already copied in this run (the caller keeps it across rows)."""
    for name, source in instance.assets.items():
        if copied is not None and name in copied:
            continue
        target = work_dir / name
        if not target.is_file() or target.stat().st_size != source.stat().st_size:
            _atomic_copy(source, target)
        if copied is not None:
            copied.add(name)
    path = work_dir / instance.file_name
    atomic_write_text(path, instance.text)
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to a temp name beside ``path`` and rename it into place (unless the
    file already holds exactly this text)."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        try:
            temp.write_text(text, encoding="utf-8")
        except FileNotFoundError:  # the folder is made once, not checked for each file
            path.parent.mkdir(parents=True, exist_ok=True)
            temp.write_text(text, encoding="utf-8")
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _atomic_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        shutil.copyfile(source, temp)
        temp.replace(target)
    finally:
        temp.unlink(missing_ok=True)
