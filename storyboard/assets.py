"""Check the local files a storyboard names: present, inside its folder, right format.

The only module of validation that reads the disk. Images are opened with Pillow to
check their real format and pixel size against the Kling limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from storyboard.compile import AssetSlot, Generation, normalise_path
from storyboard.diagnostics import Diagnostic, FieldPath
from storyboard.kling import DEFAULT_LIMITS, KlingLimits
from storyboard.source import SourceMap
from storyboard.spec import Storyboard, is_url

__all__ = ["ImageInfo", "check_assets", "resolve_asset"]

_PIL_FORMATS = {"JPEG": "jpg", "PNG": "png", "MPO": "jpg"}
_RATIOS = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0}


@dataclass(frozen=True)
class ImageInfo:
    """What Pillow reads from an image file."""

    format: str | None
    width: int
    height: int


def resolve_asset(base_dir: Path, relative: str) -> Path:
    """The absolute path of an asset named relative to the storyboard."""
    return (base_dir / relative).resolve()


def check_assets(
    board: Storyboard,
    generations: list[Generation],
    base_dir: Path,
    source: SourceMap,
    *,
    allow_outside: bool = False,
    limits: KlingLimits = DEFAULT_LIMITS,
) -> list[Diagnostic]:
    """Every problem with the local files of the generations, the music and title fonts."""
    checker = _AssetChecker(base_dir, source, allow_outside, limits)
    slots = {slot.field: slot for g in generations for slot in g.assets if slot.kind == "file"}
    for slot in slots.values():
        checker.check_slot(slot, board)
    for gen in generations:
        checker.check_frame_ratio(gen, board)
    if board.edit.music and not is_url(board.edit.music.path):
        checker.existing(normalise_path(board.edit.music.path), ("edit", "music", "path"))
    for index, title in enumerate(board.edit.titles):
        if title.font:
            checker.existing(normalise_path(title.font), ("edit", "titles", index, "font"))
    if board.edit.subtitles.font:
        checker.existing(normalise_path(board.edit.subtitles.font), ("edit", "subtitles", "font"))
    return checker.problems


class _AssetChecker:
    def __init__(
        self, base_dir: Path, source: SourceMap, allow_outside: bool, limits: KlingLimits
    ) -> None:
        self.base_dir, self.source = base_dir.resolve(), source
        self.allow_outside, self.limits = allow_outside, limits
        self.problems: list[Diagnostic] = []

    def error(self, path: FieldPath, message: str, hint: str | None = None) -> None:
        self.problems.append(self.source.diagnostic(path, message, hint=hint))

    def existing(self, relative: str, path: FieldPath) -> Path | None:
        file = resolve_asset(self.base_dir, relative)
        if not self.allow_outside and not file.is_relative_to(self.base_dir):
            self.error(
                path,
                f"{relative} is outside the storyboard's folder",
                "move the file next to the storyboard, or pass --allow-outside",
            )
            return None
        if not file.is_file():
            self.error(
                path,
                f"file not found: {relative} (looked in {file.parent})",
                "check the path; it is relative to the storyboard file",
            )
            return None
        return file

    def check_slot(self, slot: AssetSlot, board: Storyboard) -> None:
        file = self.existing(slot.source, slot.field)
        if file is None:
            return
        if slot.field[0] == "elements" and slot.field[2] == "video":
            self._video(file, slot.field)
        else:
            self._image(file, slot.field, element=slot.field[0] == "elements")

    def _video(self, file: Path, path: FieldPath) -> None:
        if file.suffix.lower().lstrip(".") not in self.limits.element_video_formats:
            self.error(path, f"{file.name}: reference videos must be MP4 or MOV")
        if file.stat().st_size > self.limits.element_video_max_bytes:
            self.error(path, f"{file.name} is {_mb(file)} MB; reference videos are at most 50 MB")

    def _image(self, file: Path, path: FieldPath, *, element: bool) -> None:
        info = _read_image(file)
        if info is None or info.format is None:
            self.error(path, f"{file.name} is not a JPG or PNG image", "convert it to PNG or JPG")
            return
        if element:
            low = self.limits.element_image_min_px
            if min(info.width, info.height) < low:
                self.error(
                    path,
                    f"{file.name} is {info.width}x{info.height} px; element images "
                    f"must be at least {low}x{low}",
                    "use a larger reference image",
                )
            if file.stat().st_size > self.limits.element_image_max_bytes:
                self.error(path, f"{file.name} is {_mb(file)} MB; element images are at most 10 MB")

    def check_frame_ratio(self, gen: Generation, board: Storyboard) -> None:
        first = next((a for a in gen.assets if a.field[-1] == "first_frame"), None)
        ratio = gen.request.input.aspect_ratio
        if first is None or first.kind != "file" or ratio is None:
            return
        info = _read_image(resolve_asset(self.base_dir, first.source))
        if info and abs(info.width / info.height - _RATIOS[ratio]) > 0.02:
            self.problems.append(self.source.diagnostic(
                first.field, f"the first frame is {info.width}x{info.height}, not {ratio}; "
                "Kling follows the frame's own aspect ratio", severity="warning",
            ))  # fmt: skip


def _read_image(file: Path) -> ImageInfo | None:
    try:
        with Image.open(file) as image:
            return ImageInfo(_PIL_FORMATS.get(image.format or ""), image.width, image.height)
    except (UnidentifiedImageError, OSError):
        return None


def _mb(file: Path) -> str:
    return f"{file.stat().st_size / 1024 / 1024:.1f}"
