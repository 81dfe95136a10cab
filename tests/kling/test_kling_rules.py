"""The Kling rules report typed violations: a code and the element, not only a message."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from storyboard.kling import Rule, check_request
from storyboard.kling.limits import ASPECT_RATIOS, LIVE_MODES, MODES, aspect_shape
from storyboard.kling.rules import REQUIRED_INPUT_FIELDS


def _body(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "prompt": "@dog runs",
        "sound": False,
        "duration": "5",
        "mode": "std",
        "multi_shots": False,
        "multi_prompt": [],
        "image_urls": ["https://example.com/a.png"],
    }
    return {"model": "kling-3.0/video", "input": {**data, **changes}}


def test_a_valid_body_has_no_violation_once_its_element_is_defined() -> None:
    element = {
        "name": "dog",
        "description": "a dog",
        "element_input_urls": ["https://example.com/1.png", "https://example.com/2.png"],
    }
    assert check_request(_body(kling_elements=[element])) == []


def test_an_undefined_reference_names_its_element() -> None:
    [violation] = check_request(_body())
    assert violation.code is Rule.ELEMENT_UNDEFINED
    assert violation.element == "dog"
    assert violation.path == "input.kling_elements"
    assert (
        str(violation)
        == "input.kling_elements: @dog is referenced but not defined in kling_elements"
    )


def test_codes_tell_apart_rules_on_the_same_field() -> None:
    element = {"name": "dog", "description": "x" * 101, "element_input_video_urls": ["a.mp4"]}
    codes = {
        (v.code, v.path) for v in check_request(_body(duration="20", kling_elements=[element]))
    }
    assert codes == {
        (Rule.DURATION, "input.duration"),
        (Rule.DESCRIPTION_LENGTH, "input.kling_elements[0].description"),
    }


def test_a_too_long_prompt_is_a_prompt_length_violation() -> None:
    [violation] = check_request(_body(prompt="x" * 2501))
    assert (violation.code, violation.severity) == (Rule.PROMPT_LENGTH, "error")


def test_required_fields_and_enums_match_the_seed_schema() -> None:
    schema = json.loads((files("storyboard.kling") / "createtask.schema.json").read_text())
    data = schema["properties"]["input"]
    assert set(REQUIRED_INPUT_FIELDS) == set(data["required"])
    assert set(ASPECT_RATIOS) == set(data["properties"]["aspect_ratio"]["enum"])
    assert set(data["properties"]["mode"]["enum"]) == set(MODES) - set(LIVE_MODES)


def test_a_field_of_the_wrong_type_is_named_with_its_json_type() -> None:
    messages = [str(v) for v in check_request(_body(sound="yes", multi_prompt={}))]
    assert messages[:2] == [
        "input.sound: sound must be a boolean",
        "input.multi_prompt: multi_prompt must be a list",
    ]


def test_aspect_shapes_are_read_from_the_ratio() -> None:
    assert [aspect_shape(r) for r in ASPECT_RATIOS] == [(16, 9), (9, 16), (1, 1)]
