"""Fonts for titles and subtitles: one that has every glyph of the text, or a warning.

Order of choice: the ``font:`` file the storyboard names; else Pillow's bundled font when
it has every glyph (Latin, Greek, Cyrillic); else the installed font fontconfig ranks
first among those covering every character (``fc-list :charset=...``, ordered by
``fc-match -s``), e.g. Noto Sans CJK for Japanese. When no font has the glyphs, the text
is drawn with the best font found and :class:`FontChoice` says which characters are
missing, so the caller can warn instead of silently drawing boxes.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from .errors import AssemblyError

__all__ = ["Font", "FontChoice", "choose_font", "fontconfig_fonts", "missing_glyphs"]

Font = ImageFont.FreeTypeFont

_PROBE_PX = 32


@dataclass(frozen=True)
class FontChoice:
    """The font file to draw a text with (None: Pillow's bundled font) and what it lacks."""

    path: Path | None
    missing: str = ""
    """Characters of the text the font has no glyph for (empty: all drawn)."""

    def load(self, px: int) -> Font:
        if self.path is None:
            font = ImageFont.load_default(size=px)
            assert isinstance(font, ImageFont.FreeTypeFont)  # FreeType is always bundled
            return font
        return _truetype(self.path, px)


def _truetype(path: Path, px: int) -> Font:
    try:
        return ImageFont.truetype(str(path), px)
    except OSError as exc:
        raise AssemblyError("titles", f"cannot load font {path}: {exc}") from exc


def _glyph_key(font: Font, char: str) -> tuple[tuple[int, int, int, int] | None, bytes]:
    mask = font.getmask(char)
    return mask.getbbox(), bytes(mask)


@functools.lru_cache(maxsize=64)
def _notdef(path: Path | None) -> tuple[tuple[int, int, int, int] | None, bytes]:
    """How the font draws a character it does not have (from a private-use code point)."""
    return _glyph_key(FontChoice(path).load(_PROBE_PX), "\ue000")


def missing_glyphs(path: Path | None, text: str) -> str:
    """Characters of ``text`` (whitespace aside) the font draws as its missing-glyph box."""
    font = FontChoice(path).load(_PROBE_PX)
    notdef = _notdef(path)
    seen = dict.fromkeys(c for c in text if not c.isspace() and c.isprintable())
    return "".join(c for c in seen if _glyph_key(font, c) == notdef)


def _charset(text: str) -> str:
    return " ".join(f"{ord(c):x}" for c in sorted(set(text)) if not c.isspace())


@functools.lru_cache(maxsize=64)
def fontconfig_fonts(text: str, family: str = "sans-serif") -> tuple[Path, ...]:
    """Installed font files that cover every character of ``text``, best match first.

    Empty when fontconfig is not installed or no font covers the text.
    """
    if shutil.which("fc-list") is None or shutil.which("fc-match") is None:
        return ()
    charset = _charset(text)
    covering = _fc(["fc-list", f":charset={charset}", "-f", "%{file}\n"])
    covered = {line.strip() for line in covering.splitlines() if line.strip()}
    ranked = _fc(["fc-match", "-s", f"{family}:charset={charset}", "-f", "%{file}\n"])
    ordered = [p for p in dict.fromkeys(ranked.splitlines()) if p in covered]
    ordered += sorted(covered - set(ordered))
    return tuple(Path(p) for p in ordered if p and Path(p).is_file())


def _fc(args: list[str]) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


def choose_font(text: str, font: str | None, base_dir: Path) -> FontChoice:
    """The font to draw ``text`` with, and the characters it will miss (see module doc)."""
    if font is not None:
        path = Path(font)
        path = path if path.is_absolute() else base_dir / path
        _truetype(path, _PROBE_PX)  # a clear error for a missing or broken file
        return FontChoice(path, missing_glyphs(path, text))
    missing = missing_glyphs(None, text)
    if not missing:
        return FontChoice(None)
    for candidate in fontconfig_fonts(text):
        try:
            lacking = missing_glyphs(candidate, text)
        except AssemblyError:
            continue
        if not lacking:
            return FontChoice(candidate)
    return FontChoice(None, missing)
