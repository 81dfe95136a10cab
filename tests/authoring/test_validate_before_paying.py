"""The checks validate adds so every mistake is caught before paying (pure parts).

The CLI-level corpus is tests/hostile/test_checks.py; these test the pieces directly: the
edit rules on nominal clips, strict numbers, the media classifiers and default names.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from storyboard.edit.errors import EditError, EditProblem
from storyboard.edit.model import Edit, Output, Title
from storyboard.edit.timeline import resolve_timeline
from storyboard.edit_checks import check_edit, nominal_clip
from storyboard.load import load_text
from storyboard.media.ffmpeg import MediaInfo, parse_probe
from storyboard.media.inspect import audio_problem, is_still_image, video_problem
from storyboard.run.backend import choose_backend
from storyboard.run.render import output_path, prepare
from storyboard.slug import MAX_SLUG_BYTES, slug
from storyboard.validate import validate

BOARD = """storyboard: 1
title: T
defaults: {mode: std}
scenes:
  - id: a
    shots: [{prompt: x, duration: 4}, {prompt: y, duration: 2}]
  - id: b
    aspect_ratio: "9:16"
    mode: pro
    shots: [{prompt: z, duration: 3}]
"""


def test_nominal_clip_is_what_the_scene_will_make() -> None:
    board = load_text(BOARD, "sb.yaml").storyboard
    assert board is not None
    first, second = (nominal_clip(board, scene) for scene in board.scenes)
    assert (first.duration, first.size, first.fps) == (6.0, (1280, 720), 24.0)
    assert (second.duration, second.size) == (3.0, (1080, 1920))


def test_edit_rules_report_every_problem_at_its_field() -> None:
    text = BOARD + (
        "edit:\n"
        "  trims:\n    b: {in: 2.5}\n"
        "  transitions:\n    - {between: [a, b], type: crossfade, duration: 1}\n"
        "  titles:\n    - {text: late, start: 8.5}\n"
    )
    loaded = load_text(text, "sb.yaml")
    assert loaded.storyboard is not None
    found = {(d.field, d.line): d.message for d in check_edit(loaded.storyboard, loaded.source)}
    assert list(found) == [("edit.transitions[0].duration", 15), ("edit.titles[0].start", 17)]
    assert found[("edit.titles[0].start", 17)] == "8.5 s is after the end of the edit (5.5 s)"
    assert "(0.5 s after its trim)" in found[("edit.transitions[0].duration", 15)]


def test_a_title_after_the_end_is_found_once_transitions_fit() -> None:
    loaded = load_text(BOARD + "edit:\n  titles:\n    - {text: late, start: 9}\n", "sb.yaml")
    assert loaded.storyboard is not None
    (problem,) = check_edit(loaded.storyboard, loaded.source)
    assert (problem.field, problem.line) == ("edit.titles[0].start", 13)
    assert "9 s is after the end of the edit (9 s)" in problem.message


def test_edit_problems_name_their_field_and_read_as_before() -> None:
    board = load_text(BOARD, "sb.yaml").storyboard
    assert board is not None
    clips = [nominal_clip(board, s) for s in board.scenes]
    with pytest.raises(EditError) as exc:
        resolve_timeline(["a", "b"], clips, Edit(titles=[Title(text="x", scene="c")]), Output())
    (problem,) = exc.value.problems
    assert isinstance(problem, EditProblem)
    assert problem.path == ("edit", "titles", 0, "scene")
    assert (
        str(problem) == "edit.titles[0].scene: no scene 'c'" and problem.hint == "scene ids: a, b"
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("fps", "true", "expected a whole number, got true"),
        ("crf", "false", "expected a whole number, got false"),
        ("fps", "24.0", "expected a whole number, got 24.0"),
        ("crf", "'20'", "expected a whole number, got the text '20'"),
        ("fast_path", "1", "expected true or false, got 1"),
        ("preset", "turbo", "Input should be 'ultrafast'"),
        ("audio_bitrate", "192", "32k-512k"),
        ("audio_bitrate", "8k", "32k-512k"),
        ("size", "[1920, 1081]", "must be even"),
        ("size", "[8, 8]", "16-7680"),
        ("size", "[true, 720]", "expected a whole number, got true"),
    ],
)
def test_output_numbers_and_names_are_strict(
    write_storyboard: Callable[[str], Path], field: str, value: str, message: str
) -> None:
    report = validate(write_storyboard(f"{BOARD}output:\n  {field}: {value}\n"))
    assert not report.ok
    assert any(message in d.message and d.line == 12 for d in report.errors), report.errors


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "true", "1.0e+400", "1.0e+308", "-0.5"])
def test_times_are_finite_numbers(write_storyboard: Callable[[str], Path], value: str) -> None:
    report = validate(
        write_storyboard(f"{BOARD}edit:\n  titles:\n    - {{text: x, start: {value}}}\n")
    )
    (error,) = report.errors
    assert (error.field, error.line) == ("edit.titles[0].start", 13)


def test_valid_edit_and_output_still_pass(write_storyboard: Callable[[str], Path]) -> None:
    text = BOARD + (
        "edit:\n  trims:\n    a: {in: 0.5, out: 5}\n"
        "  transitions:\n    - {between: [a, b], type: fade, duration: 1}\n"
        "  titles:\n    - {text: Hi, start: 1, color: tomato}\n"
        "  music: {path: audio/theme.mp3, fade_in: 0, volume: 1}\n"
        "output: {size: [1280, 720], fps: 30, crf: 18, preset: slow, audio_bitrate: 128k}\n"
    )
    report = validate(write_storyboard(text))
    assert report.ok, report.errors


def test_scene_ids_are_short_enough_to_name_files() -> None:
    long_id = "a" * 65
    loaded = load_text(BOARD.replace("id: a", f"id: {long_id}"), "sb.yaml")
    (error,) = loaded.errors
    assert (error.field, error.line, error.hint) == (
        "scenes[0].id",
        5,
        "shorten it to at most 64 characters",
    )
    assert load_text(BOARD.replace("id: a", "id: " + "a" * 64), "sb.yaml").storyboard is not None


def test_still_images_and_silent_files_are_told_apart() -> None:
    png = parse_probe(
        "Input #0, png_pipe, from 'a.png':\n  Duration: N/A, bitrate: N/A\n"
        "  Stream #0:0: Video: png, rgb24(pc), 400x400, 25 fps, 25 tbr, 25 tbn\n"
    )
    assert png.container == "png_pipe" and is_still_image(png)
    assert audio_problem(png) == "is an image, not audio"
    assert video_problem(png) == "is an image, not a video"
    song = MediaInfo(
        duration=2.0, audio_codec="mp3", sample_rate=44100, channels=1, container="mp3"
    )
    assert audio_problem(song) is None and video_problem(song) == "has no video stream"
    assert audio_problem(None) == "is not an audio file ffmpeg can read"
    clip = MediaInfo(duration=None, width=320, height=240, video_codec="h264", container="mov,mp4")
    assert video_problem(clip) == "has no duration (a video of unknown length)"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Good Boy!", "good-boy"),
        ("夏の終わり", "夏の終わり"),
        ("Ελληνικό καλοκαίρι", "ελληνικό-καλοκαίρι"),
        ("नमस्ते दुनिया", "नमस्ते-दुनिया"),
        ("Café Crème", "café-crème"),
        ("../../etc/passwd", "etc-passwd"),
    ],
)
def test_slug_keeps_letters_of_every_script(title: str, expected: str) -> None:
    assert slug(title) == expected


def test_slug_adds_a_hash_when_nothing_readable_is_left_or_it_is_cut() -> None:
    names = {slug(t) for t in ("!!!", "???", "🎬", "🎥")}
    assert len(names) == 4 and all(n.startswith("edit-") and len(n) == 13 for n in names)
    long_a, long_b = slug("長" * 200 + "a"), slug("長" * 200 + "b")
    assert long_a != long_b and len(long_a.encode()) <= MAX_SLUG_BYTES


def test_non_latin_titles_get_their_own_default_output(
    write_storyboard: Callable[..., Path],
) -> None:
    paths = set()
    for n, title in enumerate(["夏の終わり", "秋の空", "Καλοκαίρι", "🎬"]):
        board = write_storyboard(BOARD.replace("title: T", f"title: {title}"), f"sb{n}.yaml")
        paths.add(output_path(prepare(board, choose_backend("offline"))))
    assert len(paths) == 4 and not any(p.name == "edit.mp4" for p in paths)


def test_yaml_exponent_without_dot_is_text_and_the_hint_says_so() -> None:
    loaded = load_text(BOARD + "edit:\n  titles:\n    - {text: x, start: 1e3}\n", "sb.yaml")
    (error,) = loaded.errors
    assert error.message == "expected a number, got the text '1e3'"
    assert error.hint == "YAML reads 1e3 as text: write 1.0e+03"
