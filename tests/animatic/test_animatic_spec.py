"""Reading createTask bodies: defaults, shots, elements, and collected errors."""

from __future__ import annotations

import pytest

from storyboard.providers.animatic.spec import ElementSpec, ShotSpec, parse_body

from .animatic_helpers import kling_body


def test_single_shot_body() -> None:
    spec = parse_body(kling_body(duration="7", sound=True))
    assert spec.seconds == 7
    assert spec.mode == "std"
    assert spec.aspect_ratio == "16:9"
    assert spec.sound is True
    assert spec.shots == (ShotSpec("A paper boat drifts down a rain-soaked street", 7),)


def test_defaults_are_pro_and_square() -> None:
    spec = parse_body({"input": {"prompt": "x", "duration": 5}})
    assert (spec.mode, spec.aspect_ratio, spec.multi_shots, spec.sound) == (
        "pro",
        "1:1",
        False,
        False,
    )


def test_multi_shot_body_keeps_shot_durations() -> None:
    shots = [{"prompt": "a", "duration": 2}, {"prompt": "b", "duration": "4"}]
    spec = parse_body(kling_body(multi_shots=True, duration="6", multi_prompt=shots))
    assert spec.shots == (ShotSpec("a", 2), ShotSpec("b", 4))


def test_image_urls_give_first_and_last_frame_but_multi_shot_has_no_last() -> None:
    urls = ["first.png", "last.png"]
    assert parse_body(kling_body(image_urls=urls)).last_frame_url == "last.png"
    multi = kling_body(
        image_urls=urls, multi_shots=True, multi_prompt=[{"prompt": "a", "duration": 3}]
    )
    spec = parse_body(multi)
    assert (spec.first_frame_url, spec.last_frame_url) == ("first.png", None)


def test_elements() -> None:
    elements = [
        {"name": "dog", "description": "a dog", "element_input_urls": ["d1.png", "d2.png"]},
        {"name": "cat", "description": "a cat", "element_input_video_urls": ["cat.mp4"]},
    ]
    spec = parse_body(kling_body(kling_elements=elements))
    assert spec.elements == (
        ElementSpec("dog", "a dog", ("d1.png", "d2.png"), ()),
        ElementSpec("cat", "a cat", (), ("cat.mp4",)),
    )
    assert [e.is_video for e in spec.elements] == [False, True]


@pytest.mark.parametrize("body", [{}, {"model": "kling-3.0/video"}, {"input": "x"}, [], None])
def test_missing_input_is_a_clear_error(body: object) -> None:
    with pytest.raises(ValueError, match=r"input: missing"):
        parse_body(body)  # type: ignore[arg-type]


def test_every_problem_is_reported_at_once() -> None:
    body = kling_body(duration="20", mode="ultra", aspect_ratio="4:3", sound="yes")
    with pytest.raises(ValueError) as info:
        parse_body(body)
    message = str(info.value)
    for path in ("input.duration", "input.mode", "input.aspect_ratio", "input.sound"):
        assert path in message


@pytest.mark.parametrize("duration", ["2", "16", "five", 4.5, True, None])
def test_bad_duration(duration: object) -> None:
    with pytest.raises(ValueError, match=r"input\.duration"):
        parse_body(kling_body(duration=duration))


def test_bad_multi_prompt_names_the_item() -> None:
    shots = [{"prompt": "ok", "duration": 3}, {"prompt": 5, "duration": 0}]
    with pytest.raises(ValueError) as info:
        parse_body(kling_body(multi_shots=True, multi_prompt=shots))
    assert "input.multi_prompt[1].prompt" in str(info.value)
    assert "input.multi_prompt[1].duration" in str(info.value)


def test_multi_shot_needs_shots() -> None:
    with pytest.raises(ValueError, match=r"input\.multi_prompt"):
        parse_body(kling_body(multi_shots=True))
