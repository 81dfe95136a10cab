"""Text wrapping, fitting and mentions, with a fake measure (pure, no Pillow)."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from storyboard.providers.animatic.text import (
    ELLIPSIS,
    ellipsize,
    fit_text,
    font_safe,
    mention_name,
    mentioned_names,
    wrap_text,
)


def chars(text: str) -> float:
    """One pixel per character."""
    return float(len(text))


def scaled(size: int) -> Callable[[str], float]:
    """``size`` pixels per character, like a font of that size."""
    return lambda text: float(len(text) * size)


def test_wrap_breaks_between_words() -> None:
    assert wrap_text("the quick brown fox jumps", chars, 10) == ["the quick", "brown fox", "jumps"]


def test_wrap_splits_words_longer_than_a_line() -> None:
    assert wrap_text("abcdefghijkl xy", chars, 5) == ["abcde", "fghij", "kl xy"]


def test_wrap_keeps_paragraphs_and_drops_blank_lines() -> None:
    assert wrap_text("one two\n\n\nthree", chars, 20) == ["one two", "three"]


def test_wrap_empty_text_is_one_empty_line() -> None:
    assert wrap_text("   ", chars, 10) == [""]


@given(st.text(alphabet="ab @\n", max_size=200), st.integers(min_value=1, max_value=40))
def test_wrapped_lines_fit_and_keep_every_word(text: str, width: int) -> None:
    lines = wrap_text(text, chars, width)
    assert all(len(line) <= width for line in lines)
    assert "".join("".join(lines).split()) == "".join(text.split())


def test_fit_uses_the_largest_size_that_fits() -> None:
    fitted = fit_text("aaaa bbbb cccc", scaled, (100, 40), sizes=[20, 10, 5], line_spacing=1.0)
    assert fitted.size == 10
    assert fitted.lines == ("aaaa bbbb", "cccc")
    assert fitted.line_height == 10


def test_fit_ellipsizes_what_does_not_fit() -> None:
    text = " ".join(["word"] * 50)
    fitted = fit_text(text, scaled, (100, 30), sizes=[10], line_spacing=1.0)
    assert len(fitted.lines) == 3
    assert fitted.lines[-1].endswith(ELLIPSIS)
    assert all(len(line) * 10 <= 100 for line in fitted.lines)


def test_ellipsize() -> None:
    assert ellipsize("short", chars, 10) == "short"
    assert ellipsize("a much longer caption", chars, 10) == "a much lo" + ELLIPSIS


def test_mentions_in_order_once_and_without_punctuation() -> None:
    prompt = "A @cat, then @element_dog. And @cat again; @unknown and @element_dog2"
    names = ["element_dog", "cat", "element_dog2", "bird"]
    assert mentioned_names(prompt, names) == ["cat", "element_dog", "element_dog2"]


def test_mention_name_of_a_word() -> None:
    names = {"dog", "dog-2"}
    assert mention_name("@dog,", names) == "dog"
    assert mention_name("@dog-2.", names) == "dog-2"
    assert mention_name("@dogs", names) is None
    assert mention_name("dog", names) is None


def test_font_safe_replaces_what_the_font_lacks() -> None:
    supported = {chr(c) for c in range(32, 127)}
    assert font_safe("café – naïve 日本\nok", supported) == "cafe - naive ??\nok"
