"""Check the local files a storyboard names: present, inside its folder, what they claim.

The only module of validation that reads the disk. Images are decoded in full with
Pillow (so truncated or damaged files are caught, and decompression bombs are refused
before decoding); reference videos and music are opened with ffmpeg; title fonts are
loaded as the assembly loads them.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from storyboard.compile import AssetSlot, Generation, normalise_path
from storyboard.diagnostics import Diagnostic, FieldPath
from storyboard.kling import DEFAULT_LIMITS, KlingLimits
from storyboard.kling.limits import aspect_shape
from storyboard.media.ffmpeg import MediaInfo
from storyboard.media.inspect import audio_problem, read_media, video_problem
from storyboard.source import SourceMap
from storyboard.spec import Storyboard, is_url

__all__ = [
    "MAX_IMAGE_PIXELS",
    "FileChecks",
    "ImageInfo",
    "check_assets",
    "inspect_image",
    "resolve_asset",
]

MAX_IMAGE_PIXELS = 40_000_000
"""Largest image decoded (40 MP, e.g. 8000x5000): a bigger one is refused from its header,
so a small file claiming a huge picture never fills the memory."""

_PIXELS = re.compile(r"\((\d+) pixels\)")
_PIL_FORMATS = {"JPEG": "jpg", "PNG": "png", "MPO": "jpg"}


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
    memo: FileChecks | None = None,
) -> list[Diagnostic]:
    """Every problem with the local files of the generations, the music and title fonts.

    ``memo`` keeps what each file's check found, for storyboards checked one after
    another that name the same files (a recipe batch's rows)."""
    found = memo.found(base_dir, allow_outside, limits) if memo is not None else {}
    checker = _AssetChecker(base_dir, source, allow_outside, limits, found)
    slots = {slot.field: slot for g in generations for slot in g.assets if slot.kind == "file"}
    for slot in slots.values():
        checker.check_slot(slot)
    for gen in generations:
        checker.check_frame_ratio(gen)
    if board.edit.music:
        checker.check_music(board.edit.music.path, ("edit", "music", "path"))
    for index, title in enumerate(board.edit.titles):
        if title.font:
            checker.check_font(title.font, ("edit", "titles", index, "font"))
    if board.edit.subtitles.font:
        checker.check_font(board.edit.subtitles.font, ("edit", "subtitles", "font"))
    return checker.problems


_Problem = tuple[str, str | None]
"""A file's problem, wherever the storyboard names it: message and hint."""
_Found = dict[tuple[str, str], "list[_Problem] | ImageInfo | str"]


class FileChecks:
    """What checking each file found, kept across storyboards checked one after another
    that name the same files (the rows of a recipe batch name the same staged copies):
    each file is then resolved, looked at and decoded once, not once per storyboard.

    Only for a run in which the files do not change (a batch's work folder, which the
    batch itself fills before checking)."""

    def __init__(self) -> None:
        self._found: dict[tuple[Path, bool, int], tuple[KlingLimits, _Found]] = {}

    def found(self, base_dir: Path, allow_outside: bool, limits: KlingLimits) -> _Found:
        """The findings for files of ``base_dir`` checked with these settings."""
        key = (base_dir, allow_outside, id(limits))  # the limits are kept: their id stays theirs
        return self._found.setdefault(key, (limits, {}))[1]


class _AssetChecker:
    def __init__(
        self,
        base_dir: Path,
        source: SourceMap,
        allow_outside: bool,
        limits: KlingLimits,
        found: _Found,
    ) -> None:
        self.folder, self.source = base_dir, source
        self.allow_outside, self.limits = allow_outside, limits
        self.problems: list[Diagnostic] = []
        self.found = found
        """(check, file name) -> its problems (or, for ``image``, what the image is)."""

    @functools.cached_property
    def base_dir(self) -> Path:
        """The storyboard's folder, resolved (only when a file is looked at)."""
        return self.folder.resolve()

    def report(
        self, path: FieldPath, check: str, name: str, run: Callable[[str], list[_Problem]]
    ) -> None:
        key = (check, name)
        problems = self.found.get(key)
        if problems is None:
            problems = self.found[key] = run(name)
        assert isinstance(problems, list)
        for message, hint in problems:
            self.problems.append(self.source.diagnostic(path, message, hint=hint))

    def existing(self, relative: str) -> Path | _Problem:
        file = resolve_asset(self.base_dir, relative)
        if not self.allow_outside and not file.is_relative_to(self.base_dir):
            return (
                f"{relative} is outside the storyboard's folder",
                "move the file next to the storyboard, or pass --allow-outside",
            )
        if not file.is_file():
            return (
                f"file not found: {relative} (looked in {file.parent})",
                "check the path; it is relative to the storyboard file",
            )
        return file

    def check_slot(self, slot: AssetSlot) -> None:
        if slot.field[0] == "elements" and slot.field[2] == "video":
            self.report(slot.field, "video", slot.source, self._video)
        elif slot.field[0] == "elements":
            self.report(slot.field, "element image", slot.source, self._element_image)
        else:
            self.report(slot.field, "image", slot.source, self._frame_image)

    def check_music(self, name: str, path: FieldPath) -> None:
        self.report(path, "music", name, self._music)

    def _music(self, name: str) -> list[_Problem]:
        if is_url(name):
            return [("music must be a local audio file, not a URL", "download it first")]
        file = self.existing(normalise_path(name))
        if not isinstance(file, Path):
            return [file]
        if problem := audio_problem(_media(_FileKey.of(file))):
            return [(f"{file.name} {problem}", "use an audio file (mp3, wav, m4a, ...)")]
        return []

    def check_font(self, name: str, path: FieldPath) -> None:
        self.report(path, "font", name, self._font)

    def _font(self, name: str) -> list[_Problem]:
        file = self.existing(normalise_path(name))
        if not isinstance(file, Path):
            return [file]
        if not _is_font(_FileKey.of(file)):
            return [(f"{file.name} is not a font Pillow can load", "use a .ttf or .otf file")]
        return []

    def _video(self, relative: str) -> list[_Problem]:
        file = self.existing(relative)
        if not isinstance(file, Path):
            return [file]
        if file.suffix.lower().lstrip(".") not in self.limits.element_video_formats:
            return [(f"{file.name}: reference videos must be MP4 or MOV", None)]
        if file.stat().st_size > self.limits.element_video_max_bytes:
            return [(f"{file.name} is {_mb(file)} MB; reference videos are at most 50 MB", None)]
        if problem := video_problem(_media(_FileKey.of(file))):
            return [(f"{file.name} {problem}", "use an MP4 or MOV video")]
        return []

    def image(self, relative: str) -> ImageInfo | str:
        """What the image ``relative`` names is, or why it is not a usable JPG/PNG."""
        key = ("image info", relative)
        info = self.found.get(key)
        if info is None:
            try:
                info = _image(_FileKey.of(resolve_asset(self.base_dir, relative)))
            except OSError:
                info = "cannot be read"
            self.found[key] = info
        assert not isinstance(info, list)
        return info

    def _frame_image(self, relative: str) -> list[_Problem]:
        return self._image(relative, element=False)

    def _element_image(self, relative: str) -> list[_Problem]:
        return self._image(relative, element=True)

    def _image(self, relative: str, *, element: bool) -> list[_Problem]:
        file = self.existing(relative)
        if not isinstance(file, Path):
            return [file]
        info = self.image(relative)
        if isinstance(info, str):
            hint = "scale it down" if "MP" in info else "use an undamaged PNG or JPG"
            return [(f"{file.name} {info}", hint)]
        problems: list[_Problem] = []
        if element:
            low = self.limits.element_image_min_px
            if min(info.width, info.height) < low:
                problems.append(
                    (
                        f"{file.name} is {info.width}x{info.height} px; element "
                        f"images must be at least {low}x{low}",
                        "use a larger reference image",
                    )
                )
            if file.stat().st_size > self.limits.element_image_max_bytes:
                problems.append(
                    (f"{file.name} is {_mb(file)} MB; element images are at most 10 MB", None)
                )
        return problems

    def check_frame_ratio(self, gen: Generation) -> None:
        first = next((a for a in gen.assets if a.field[-1] == "first_frame"), None)
        ratio = gen.request.input.aspect_ratio
        if first is None or first.kind != "file" or ratio is None:
            return
        info = self.image(first.source)
        if (
            isinstance(info, ImageInfo)
            and abs(info.width / info.height - _aspect_value(ratio)) > 0.02
        ):
            self.problems.append(
                self.source.diagnostic(
                    first.field,
                    f"the first frame is {info.width}x{info.height}, not {ratio}; "
                    "Kling follows the frame's own aspect ratio",
                    severity="warning",
                )
            )


@dataclass(frozen=True)
class _FileKey:
    """A file as it is now: a changed file is a new key, so it is inspected again."""

    path: Path
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> _FileKey:
        stat = path.stat()
        return cls(path, stat.st_size, stat.st_mtime_ns)


# Each file is decoded or probed once per process, however many storyboards (recipe rows)
# name it.
@functools.lru_cache(maxsize=512)
def _image(key: _FileKey) -> ImageInfo | str:
    return inspect_image(key.path)


@functools.lru_cache(maxsize=256)
def _media(key: _FileKey) -> MediaInfo | None:
    return read_media(key.path)


@functools.lru_cache(maxsize=64)
def _is_font(key: _FileKey) -> bool:
    from PIL import ImageFont  # its FreeType module costs start-up: only when a font is named

    try:
        ImageFont.truetype(str(key.path), 24)  # as storyboard.edit.fonts loads it
    except (OSError, ValueError):
        return False
    return True


def inspect_image(file: Path) -> ImageInfo | str:
    """The image's format and size, decoded in full; or why it is not a usable JPG/PNG.

    The pixel count is checked from the header before decoding (and Pillow's own
    decompression-bomb guard is an error here, not a warning).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                return _decoded(image)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        return _too_large(pixels=int(found[1]) if (found := _PIXELS.search(str(exc))) else None)
    except UnidentifiedImageError:
        return "is not a JPG or PNG image"
    except Exception:  # Pillow's decoders raise many types on damaged files
        return "is damaged or truncated: it cannot be decoded"


def _decoded(image: Image.Image) -> ImageInfo | str:
    kind = _PIL_FORMATS.get(image.format or "")
    if kind is None:
        return f"is a {image.format or 'non-image'} file, not a JPG or PNG image"
    if image.width * image.height > MAX_IMAGE_PIXELS:
        return _too_large(pixels=image.width * image.height, size=image.size)
    image.load()
    return ImageInfo(kind, image.width, image.height)


def _too_large(pixels: int | None, size: tuple[int, int] | None = None) -> str:
    claimed = f"{size[0]}x{size[1]} px, " if size else ""
    megapixels = f"{pixels / 1e6:.0f} MP" if pixels else "a huge picture"
    return (
        f"claims to be {claimed}{megapixels} (a decompression bomb?); images are "
        f"limited to {MAX_IMAGE_PIXELS // 1_000_000} MP"
    )


def _mb(file: Path) -> str:
    return f"{file.stat().st_size / 1024 / 1024:.1f}"


def _aspect_value(ratio: str) -> float:
    width, height = aspect_shape(ratio)
    return width / height
