"""The Kling rules report typed violations (a code and the element, not only a message),
read the typed request, and check raw bodies' shape against the same models."""

from __future__ import annotations

import ast
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from storyboard.kling import CreateTaskRequest, KlingLimits, Rule, check_model, check_request
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


def test_a_body_of_the_wrong_shape_reports_its_shape_only() -> None:
    shot = {"prompt": 5, "duration": True, "camera": "pan"}
    found = check_request(_body(multi_shots=True, sound=True, multi_prompt=[shot], duration="99"))
    assert [(v.code, v.path) for v in found] == [
        (Rule.EMPTY_PROMPT, "input.multi_prompt[0].prompt"),
        (Rule.SHOT_DURATION, "input.multi_prompt[0].duration"),
        (Rule.UNKNOWN_FIELD, "input.multi_prompt[0].camera"),
    ]  # the duration and the undefined @dog are checked once the body has its shape


def test_unknown_element_fields_are_refused_and_unknown_top_level_fields_ignored() -> None:
    element = {
        "name": "dog",
        "description": "a dog",
        "element_input_urls": ["https://example.com/1.png", "https://example.com/2.png"],
    }
    assert check_request({**_body(kling_elements=[element]), "trace": "x"}) == []
    [violation] = check_request(_body(kling_elements=[{**element, "weight": 1}]))
    assert (violation.code, violation.path) == (
        Rule.UNKNOWN_FIELD,
        "input.kling_elements[0].weight",
    )


def test_a_mode_outside_the_models_type_is_a_mode_violation() -> None:
    [violation] = check_request(_body(mode="8K"))
    assert (violation.code, str(violation)) == (
        Rule.MODE,
        "input.mode: mode must be one of std, pro, 4K",
    )


def test_rules_read_the_typed_request_with_the_limits_given() -> None:
    body = _body(prompt="a kite", aspect_ratio="9:16", mode="4K")
    request = CreateTaskRequest.model_validate(body)
    narrow = KlingLimits(aspect_ratios=("16:9",))
    assert [(v.code, v.severity) for v in check_model(request, narrow)] == [
        (Rule.LIVE_MODE, "warning"),
        (Rule.ASPECT_RATIO, "error"),
    ]
    assert check_model(request, narrow) == check_request(body, narrow)


def test_aspect_ratios_are_tabled_once() -> None:
    """No module but kling/limits.py holds a collection of two or more aspect ratios."""
    package = Path(__file__).resolve().parents[2] / "storyboard"
    tables = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Tuple | ast.List | ast.Set | ast.Dict):
                items = node.keys if isinstance(node, ast.Dict) else node.elts
                ratios = [
                    i for i in items if isinstance(i, ast.Constant) and i.value in ASPECT_RATIOS
                ]
                if len(ratios) >= 2:
                    tables.append((path.relative_to(package).as_posix(), node.lineno))
    assert [module for module, _ in tables] == ["kling/limits.py"], tables
