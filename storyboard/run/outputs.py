"""Where a render writes the edit, checked before anything is generated or paid for.

Two rules, both exit 2 with the field's FILE:LINE (or the option) when broken:

* **outputs never overwrite inputs** — the edit and its hand-offs (``.otio``, contact
  sheet, report) may not be, or resolve to, any file the run reads: the storyboard,
  its template folders, asset files (element references, first/last frames), music,
  fonts, extra inputs such as recipe rows, the journal and its clips and frames;
* **outputs stay in the storyboard's folder** (:func:`storyboard.workspace.confine`) —
  ``output.path`` in the file must resolve inside it unless ``--allow-outside``; an
  ``-o`` typed on the command line may point anywhere, with a printed note.

``-o`` naming an existing folder writes the storyboard's output file name inside it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.edit.exports import EXPORTS, export_path
from storyboard.edit.handoff import handoff_paths
from storyboard.errors import InputError
from storyboard.slug import slug
from storyboard.spec import Storyboard
from storyboard.validate import Report, StoryboardInvalid
from storyboard.workspace import OutsideFolder, confine, is_inside

__all__ = [
    "OutputChoice",
    "OutputRefused",
    "PathResolver",
    "choose_output",
    "overwritten_input",
    "run_inputs",
]

_FIELD = ("output", "path")


class OutputRefused(InputError):
    """``-o`` names a place the edit may not be written to."""


@dataclass(frozen=True)
class OutputChoice:
    """The edit's resolved path, and notes to show the user (e.g. outside the folder)."""

    path: Path
    notes: list[str] = field(default_factory=list)


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


class PathResolver:
    """``os.path.realpath`` of many paths, each folder resolved once: a path whose last
    part is not a symbolic link resolves to its resolved folder plus its name. A batch
    checks every row's output against every input with one (folders are assumed not to
    change meanwhile; the render checks again with a fresh one)."""

    def __init__(self) -> None:
        self.folders: dict[str, str] = {}

    def __call__(self, path: Path) -> Path:
        text = os.fspath(path)
        folder, name = os.path.split(text)
        if name in {"", ".", ".."}:
            return _real(path)
        try:
            link = stat.S_ISLNK(os.lstat(text).st_mode)
        except (OSError, ValueError):
            link = False  # missing: resolves like its folder
        if link:
            return _real(path)
        real = self.folders.get(folder)
        if real is None:
            real = self.folders[folder] = os.path.realpath(folder or os.curdir)
        return Path(real, name)


def default_name(board: Storyboard) -> str:
    """``output.path`` with ``{title}`` filled with the slugified title."""
    return board.output.path.replace("{title}", slug(board.title))


def run_inputs(
    report: Report,
    journal: Path,
    extra: Iterable[Path] = (),
    *,
    resolve: Callable[[Path], Path] = _real,
) -> dict[Path, str]:
    """Every file (or folder) the run reads, resolved → what it is."""
    _real = resolve
    base, board = report.loaded.base_dir, report.storyboard
    found: dict[Path, str] = {_real(report.loaded.path): "the storyboard itself"}
    for folder in board.templates:
        found[_real(base / folder)] = f"the template folder {folder!r}"
    for generation in report.generations:
        for asset in generation.assets:
            if asset.kind == "file":
                found[_real(base / asset.source)] = f"the asset {asset.source!r}"
    if board.edit.music is not None:
        found[_real(base / board.edit.music.path)] = f"the music {board.edit.music.path!r}"
    for title in board.edit.titles:
        if title.font:
            found[_real(base / title.font)] = f"the font {title.font!r}"
    for path in extra:
        found[_real(path)] = f"the input {path}"
    for suffix in ("", "-wal", "-shm", ".lock"):
        found[_real(journal.with_name(journal.name + suffix))] = f"the journal {journal}"
    for work in ("clips", "frames"):
        found[_real(journal.parent / work)] = f"the journal's {work} folder"  # maybe not yet
    return found


_WRITTEN_SUFFIXES = {
    ".mp4",
    ".mov",
    ".m4v",
    ".otio",
    ".png",
    ".json",
    ".srt",
    ".vtt",
    ".xml",
    ".fcpxml",
    ".edl",
    ".aaf",
}
"""What the edit and its hand-offs are; anything else in a template folder may be a
template the run reads."""


def _identity(path: Path) -> tuple[int, int] | None:
    """The file ``path`` names (device, inode), following links; None when missing."""
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return None
    return stat.st_dev, stat.st_ino


def _inside(path: str, folder: str) -> bool:
    """``path`` is under ``folder`` (both resolved)."""
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def _overwrites(
    path: Path,
    identity: tuple[int, int] | None,
    source: Path,
    label: str,
    known: dict[Path, tuple[int, int] | None],
) -> bool:
    """Writing ``path`` (the file ``identity``) overwrites ``source``: the same path, a
    path inside it (a folder), or the same file by another name (``known`` caches the
    sources' identities)."""
    text, source_text = str(path), str(source)
    if text == source_text:
        return True
    if _inside(text, source_text) and (label.endswith("folder") or source.is_dir()):
        templates = label.startswith("the template folder")
        return not templates or path.suffix.lower() not in _WRITTEN_SUFFIXES
    if identity is None:
        return False
    if source not in known:
        known[source] = _identity(source)
    return identity == known[source]


def written_beside(out: Path) -> list[Path]:
    """The edit and every file written beside it: hand-offs, subtitles, editor exports."""
    extra = [out.with_suffix(".srt"), out.with_suffix(".vtt")]
    return [out, *handoff_paths(out).values(), *extra, *(export_path(out, f) for f in EXPORTS)]


def _collision(
    out: Path, inputs: dict[Path, str], resolve: Callable[[Path], Path] = _real
) -> str | None:
    """What ``out`` (or one of its hand-offs) would overwrite, if anything (each file is
    looked at once: a batch checks every row's output)."""
    known: dict[Path, tuple[int, int] | None] = {}
    for path in written_beside(out):
        real = resolve(path)
        identity = _identity(real)
        for source, label in inputs.items():
            if _overwrites(real, identity, source, label, known):
                return label + ("" if path == out else f" (with its hand-off {path.name})")
    return None


def overwritten_input(
    out: Path,
    report: Report,
    journal: Path,
    extra_inputs: Iterable[Path] = (),
    *,
    resolve: PathResolver | None = None,
) -> str | None:
    """The input of the run that writing the edit to ``out`` (or a hand-off beside it)
    would overwrite, described (``"the input rows.csv"``); None when there is none."""
    resolve = resolve or PathResolver()
    inputs = run_inputs(report, journal, extra_inputs, resolve=resolve)
    return _collision(resolve(out), inputs, resolve)


def choose_output(
    report: Report,
    journal: Path,
    override: Path | None = None,
    *,
    allow_outside: bool = False,
    extra_inputs: Iterable[Path] = (),
) -> OutputChoice:
    """The edit's path, checked; raises :class:`StoryboardInvalid` (the storyboard's
    ``output.path``) or :class:`OutputRefused` (``-o``) before anything is written."""
    base, board = report.loaded.base_dir, report.storyboard
    inputs = run_inputs(report, journal, extra_inputs)
    if override is None:
        return OutputChoice(_from_field(report, default_name(board), inputs, allow_outside))
    out = _real(override.expanduser())
    if out.is_dir():
        out = out / Path(default_name(board)).name
    notes = []
    if not is_inside(base, out):
        notes.append(
            f"note: writing the edit to {out}, outside the storyboard's folder {base} (as -o asked)"
        )
    if (what := _collision(out, inputs)) is not None:
        raise OutputRefused(
            f"-o {override}: the edit would overwrite {what}, an input of "
            "this run; choose another output file"
        )
    return OutputChoice(out, notes)


def _from_field(report: Report, name: str, inputs: dict[Path, str], allow_outside: bool) -> Path:
    source, base = report.loaded.source, report.loaded.base_dir
    try:
        out = confine(base, name, allow_outside=allow_outside)
    except OutsideFolder as exc:
        raise StoryboardInvalid(
            [
                source.diagnostic(
                    _FIELD,
                    f"{name!r} resolves to {exc.path}, outside the storyboard's folder",
                    hint="write the edit inside the folder, or pass --allow-outside",
                )
            ]
        ) from None
    problem = None
    if out.is_dir():
        problem = f"{name!r} is an existing folder, not a file"
    elif (what := _collision(out, inputs)) is not None:
        problem = f"{name!r} would overwrite {what}, an input of this run"
    if problem is not None:
        raise StoryboardInvalid(
            [source.diagnostic(_FIELD, problem, hint="choose another output file")]
        )
    return out
