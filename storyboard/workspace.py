"""Where storyboard may read and write: inside the storyboard's folder.

One rule for every path the program touches on a user's behalf — templates, assets,
outputs, the journal, work files: the path is resolved (symlinks followed) and must lie
inside the storyboard's folder, unless the user explicitly allowed paths outside it
(``--allow-outside``, or an absolute ``-o`` typed on the command line). Every reader and
writer asks :func:`confine` rather than checking paths its own way.
"""

from __future__ import annotations

import os
from pathlib import Path

from storyboard.errors import InputError

__all__ = ["OutsideFolder", "confine", "is_inside"]


class OutsideFolder(ValueError, InputError):
    """A path resolves outside the storyboard's folder and that was not allowed."""

    def __init__(self, path: Path, base_dir: Path) -> None:
        super().__init__(f"{path} is outside the storyboard's folder {base_dir}")
        self.path = path
        self.base_dir = base_dir


def is_inside(base_dir: Path, path: Path) -> bool:
    """True when ``path`` (resolved, symlinks followed) lies inside ``base_dir``."""
    return Path(os.path.realpath(path)).is_relative_to(Path(os.path.realpath(base_dir)))


def confine(base_dir: Path, path: str | Path, *, allow_outside: bool = False) -> Path:
    """``path`` (relative to ``base_dir`` unless absolute) resolved; refused outside it.

    Raises :class:`OutsideFolder` when the resolved path — after following every
    symlink — is not inside ``base_dir`` and ``allow_outside`` is false.
    """
    resolved = Path(os.path.realpath(Path(base_dir) / path))
    if not allow_outside and not is_inside(base_dir, resolved):
        raise OutsideFolder(resolved, Path(os.path.realpath(base_dir)))
    return resolved
