"""Parameter values: every type parsed from text or JSON, checked, with a fix in the message."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storyboard.recipes.model import Recipe
from storyboard.recipes.params import Layer, ParamError, coerce, parse_assignment, resolve_values

ROOT = Path(__file__).resolve().parents[2]


def param(**spec: object):  # type: ignore[no-untyped-def]
    recipe = Recipe.model_validate(
        {"recipe": 1, "name": "t", "description": "d", "storyboard": "x", "parameters": {"p": spec}}
    )
    return recipe.parameters["p"]


@given(st.integers(-1000, 1000))
def test_integer_ranges_accept_exactly_the_range(value: int) -> None:
    p = param(type="integer", min=3, max=10)
    for raw in (value, str(value), f" {value} ", float(value)):
        if 3 <= value <= 10:
            assert coerce(p, raw, Path()) == value
        else:
            with pytest.raises(ParamError) as caught:
                coerce(p, raw, Path())
            assert "use a whole number from 3 to 10" in caught.value.hint


@pytest.mark.parametrize("raw", ["3.5", "three", True, [3], None, 3.5])
def test_integer_rejects_non_whole_numbers(raw: object) -> None:
    with pytest.raises(ParamError, match="not a whole number"):
        coerce(param(type="integer"), raw, Path())


def test_number_parses_text_and_checks_range() -> None:
    p = param(type="number", min=0, max=1)
    assert coerce(p, "0.25", Path()) == 0.25
    with pytest.raises(ParamError, match="above the maximum 1"):
        coerce(p, 1.5, Path())
    with pytest.raises(ParamError, match="finite"):
        coerce(p, "nan", Path())


def test_string_lengths_and_pattern() -> None:
    p = param(type="string", min_length=2, max_length=5, pattern="[a-z]+")
    assert coerce(p, "abc", Path()) == "abc"
    with pytest.raises(ParamError) as long:
        coerce(p, "abcdefg", Path())
    assert "7 characters; at most 5" in long.value.message
    assert "shorten it to 5 characters" in long.value.hint
    with pytest.raises(ParamError, match="does not match"):
        coerce(p, "ABC", Path())
    assert coerce(param(type="string"), 42, Path()) == "42"  # a JSON number for a text field


def test_choice_keeps_the_declared_type_and_suggests() -> None:
    p = param(type="choice", choices=["std", "pro", 5])
    assert coerce(p, "5", Path()) == 5
    with pytest.raises(ParamError) as caught:
        coerce(p, "prp", Path())
    assert caught.value.hint.startswith("did you mean pro?")


@pytest.mark.parametrize(
    ("raw", "want"), [("yes", True), ("OFF", False), (True, True), ("0", False)]
)
def test_boolean_words(raw: object, want: bool) -> None:
    assert coerce(param(type="boolean"), raw, Path()) is want


def test_files_resolve_against_the_layer_and_must_exist(tmp_path: Path) -> None:
    (tmp_path / "song.mp3").write_bytes(b"x")
    p = param(type="file", extensions=[".mp3"])
    assert coerce(p, "song.mp3", tmp_path) == tmp_path / "song.mp3"
    with pytest.raises(ParamError) as missing:
        coerce(p, "nope.mp3", tmp_path)
    assert "file not found: nope.mp3" in missing.value.message
    assert str(tmp_path) in missing.value.hint
    (tmp_path / "song.ogg").write_bytes(b"x")
    with pytest.raises(ParamError, match=r"\.ogg file, not \.mp3"):
        coerce(p, "song.ogg", tmp_path)


def test_images_from_text_or_json_with_counts(tmp_path: Path) -> None:
    for name in ("a.png", "b.jpg", "c.gif"):
        (tmp_path / name).write_bytes(b"x")
    p = param(type="images", min_items=2, max_items=3)
    want = [tmp_path / "a.png", tmp_path / "b.jpg"]
    assert coerce(p, "a.png, b.jpg", tmp_path) == want
    assert coerce(p, "a.png;b.jpg", tmp_path) == want
    assert coerce(p, '["a.png", "b.jpg"]', tmp_path) == want
    assert coerce(p, ["a.png", "b.jpg"], tmp_path) == want
    with pytest.raises(ParamError, match="1 image"):
        coerce(p, "a.png", tmp_path)
    with pytest.raises(ParamError, match="not a PNG or JPG"):
        coerce(p, "a.png|c.gif", tmp_path)


def test_strings_split_on_bars_not_commas() -> None:
    p = param(type="strings", max_length=40)
    assert coerce(p, "a boat, at dusk | a wave", Path()) == ["a boat, at dusk", "a wave"]
    assert coerce(p, ["x", "y"], Path()) == ["x", "y"]


def test_parse_assignment() -> None:
    assert parse_assignment("tagline=a=b") == ("tagline", "a=b")
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_assignment("tagline")


def test_layers_later_wins_and_problems_point_at_their_source(tmp_path: Path) -> None:
    recipe = Recipe.model_validate(
        {
            "recipe": 1,
            "name": "t",
            "description": "d",
            "storyboard": "x",
            "parameters": {
                "title": {"type": "string", "default": "A"},
                "seconds": {"type": "integer", "min": 3, "max": 5},
                "tagline": {"type": "string", "max_length": 5, "default": "ok"},
            },
        }
    )
    defaults = Layer(
        {"title": "A", "tagline": "ok"},
        tmp_path,
        "default",
        "recipe.yaml",
        lines={"title": 4, "seconds": 6},
        prefix=("parameters",),
    )
    row = Layer(
        {"title": "B", "seconds": "", "tagline": "far too long", "tagl": "x"},
        tmp_path,
        "row 6",
        "rows.csv",
        line=7,
    )
    values, problems = resolve_values(recipe, [defaults, row])
    assert values == {"title": "B"}
    shown = sorted(str(p) for p in problems)
    assert shown == [
        "rows.csv:7:1: seconds: required parameter 'seconds' is missing (fix: give it with "
        "--param seconds=VALUE or a `seconds` column in the rows file)",
        "rows.csv:7:1: tagl: row 6: recipe 't' has no parameter 'tagl' (fix: did you mean 'tagline'?)",
        "rows.csv:7:1: tagline: row 6: 'far too long' is 12 characters; at most 5 are allowed "
        "(fix: shorten it to 5 characters or fewer)",
    ]
