"""Text on cards: wrapping, fitting a box, ``@element`` mentions. Pure: no Pillow.

Text width is measured through a callable (``measure(text) -> pixels``) so these
functions are tested with a fake measure; the card drawer passes a font's ``getlength``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Container, Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "ELLIPSIS",
    "FittedText",
    "Measure",
    "ellipsize",
    "fit_text",
    "font_safe",
    "mention_name",
    "mentioned_names",
    "wrap_text",
]

Measure = Callable[[str], float]
"""Width in pixels of a string in some font."""

ELLIPSIS = "…"

_REPLACEMENTS = {
    "–": "-",
    "—": "-",
    "‒": "-",
    "−": "-",
    "‐": "-",
    "•": "·",
    "×": "x",
    "→": "->",
    "←": "<-",
    "\u00a0": " ",
    "\t": " ",
    "ß": "ss",
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "ø": "o",
    "Ø": "O",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
}

_MENTION = re.compile(r"@([\w.\-]+)")


@dataclass(frozen=True)
class FittedText:
    """Text wrapped to a box: the font size used and the lines, in order."""

    size: int
    lines: tuple[str, ...]
    line_height: int


def font_safe(text: str, supported: Container[str]) -> str:
    """``text`` using only characters the font has: dashes become ``-``, accents are dropped
    (``é`` -> ``e``), and anything else unknown becomes ``?``. Newlines are kept."""
    return "".join(_safe_char(ch, supported) for ch in text)


def _safe_char(ch: str, supported: Container[str]) -> str:
    if ch in supported or ch == "\n":
        return ch
    if ch in _REPLACEMENTS:
        return _REPLACEMENTS[ch]
    base = "".join(
        c
        for c in unicodedata.normalize("NFKD", ch)
        if c in supported and not unicodedata.combining(c)
    )
    return base or "?"


def wrap_text(text: str, measure: Measure, max_width: float) -> list[str]:
    """Greedy word wrap of ``text`` to ``max_width``.

    Runs of spaces collapse; line breaks in ``text`` start a new line (blank lines collapse
    to one); a word longer than a line is split across lines.
    """
    lines: list[str] = []
    for paragraph in _paragraphs(text):
        lines.extend(_wrap_words(paragraph.split(), measure, max_width))
    return lines


def _paragraphs(text: str) -> list[str]:
    paragraphs = [p for p in text.splitlines() if p.strip()]
    return paragraphs or [""]


def _wrap_words(words: Iterable[str], measure: Measure, max_width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in words:
        for piece in _split_long_word(word, measure, max_width):
            candidate = f"{line} {piece}" if line else piece
            if line and measure(candidate) > max_width:
                lines.append(line)
                candidate = piece
            line = candidate
    lines.append(line)
    return lines


def _split_long_word(word: str, measure: Measure, max_width: float) -> list[str]:
    """``word`` cut into pieces that each fit ``max_width`` (at least one character each)."""
    pieces: list[str] = []
    while word and measure(word) > max_width:
        cut = _longest_fitting_prefix(word, measure, max_width)
        pieces.append(word[:cut])
        word = word[cut:]
    if word:
        pieces.append(word)
    return pieces


def _longest_fitting_prefix(word: str, measure: Measure, max_width: float) -> int:
    lo, hi = 1, len(word)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(word[:mid]) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def ellipsize(text: str, measure: Measure, max_width: float) -> str:
    """``text`` if it fits ``max_width``, else its longest prefix that fits followed by ``…``."""
    if measure(text) <= max_width:
        return text
    return _cut_with_ellipsis(text, measure, max_width)


def _cut_with_ellipsis(text: str, measure: Measure, max_width: float) -> str:
    """The longest prefix of ``text`` that fits ``max_width`` with ``…`` appended."""
    kept = text.rstrip()
    while kept and measure(kept.rstrip() + ELLIPSIS) > max_width:
        kept = kept[:-1]
    return kept.rstrip(" ,;:-") + ELLIPSIS


def fit_text(
    text: str,
    measure_at: Callable[[int], Measure],
    box: tuple[int, int],
    sizes: Sequence[int],
    line_spacing: float = 1.3,
) -> FittedText:
    """Wrap ``text`` at the largest font size in ``sizes`` (tried in order) whose lines fit
    ``box`` (width, height). If even the last size overflows, keep the lines that fit and
    end the last one with ``…``."""
    if not sizes:
        raise ValueError("fit_text needs at least one font size")
    width, height = box
    for size in sizes:
        measure, line_height = measure_at(size), max(1, round(size * line_spacing))
        lines = wrap_text(text, measure, width)
        if len(lines) * line_height <= height:
            return FittedText(size, tuple(lines), line_height)
    keep = max(1, height // line_height)
    if keep < len(lines):
        last = _cut_with_ellipsis(lines[keep - 1], measure, width)
        lines = [*lines[: keep - 1], last]
    return FittedText(sizes[-1], tuple(lines), line_height)


def mention_name(word: str, names: Collection[str]) -> str | None:
    """The known element name a word mentions (``"@dog,"`` -> ``"dog"``), or None."""
    match = _MENTION.search(word)
    return _known_name(match[1], names) if match else None


def mentioned_names(prompt: str, names: Iterable[str]) -> list[str]:
    """The element names ``prompt`` mentions as ``@name``, in order of first mention."""
    known = set(names)
    found: list[str] = []
    for match in _MENTION.finditer(prompt):
        name = _known_name(match[1], known)
        if name is not None and name not in found:
            found.append(name)
    return found


def _known_name(token: str, known: Collection[str]) -> str | None:
    """``element_dog`` for token ``element_dog.`` (trailing ``.``/``-`` is punctuation)."""
    while token:
        if token in known:
            return token
        if token[-1] not in ".-":
            return None
        token = token[:-1]
    return None
