"""Offline takes are legible in review: a take holds the exact first-frame image, then
shows its own prompt, scene and take large over it, with a camera move seeded by the
take (takes of one scene differ; one take always renders the same bytes); edit burn-ins
show scene, shot, take and timecode."""

from __future__ import annotations

import io
import math
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from storyboard.edit.burnin import BurnInSpan, burn_in, burn_in_spans
from storyboard.edit.report import ScenePlacement
from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.media.geometry import REVIEW_BAND
from storyboard.providers.animatic import render_animatic
from storyboard.providers.animatic.review import camera_move

RED, BLUE = (220, 40, 40), (40, 60, 220)


def png(size: tuple[int, int]) -> bytes:
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def body(prompt: str) -> dict[str, object]:
    return {
        "model": "kling-3.0/video",
        "input": {
            "prompt": prompt,
            "duration": "3",
            "mode": "std",
            "aspect_ratio": "16:9",
            "sound": False,
            "multi_shots": False,
            "image_urls": ["https://cdn.test/first.png"],
        },
    }


def frame(video: Path, index: int) -> Image.Image:
    cmd = [
        ffmpeg_exe(),
        "-v",
        "error",
        "-i",
        str(video),
        "-vf",
        f"select=eq(n\\,{index})",
        "-frames:v",
        "1",
        "-f",
        "image2pipe",
        "-c:v",
        "png",
        "-",
    ]
    data = subprocess.run(cmd, capture_output=True, check=True).stdout
    return Image.open(io.BytesIO(data)).convert("RGB")


def diff(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def render(tmp_path: Path, name: str, prompt: str, take: int) -> Path:
    assets = {"https://cdn.test/first.png": png((640, 360))}
    return render_animatic(
        body(prompt), tmp_path / name, fetch_asset=assets.get, label=f"b · take {take}", take=take
    )


def near(pixel: object, colour: tuple[int, int, int]) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= 16 for a, b in zip(pixel, colour, strict=False))


def test_a_take_opens_on_the_exact_first_frame_then_shows_its_prompt(tmp_path: Path) -> None:
    one = render(tmp_path, "one.mp4", "the cat stretches", take=1)
    start = frame(one, 0)
    assert start.size == (1280, 720)
    # the whole picture, nothing drawn over it: continuity starts on this frame
    for x, y in ((100, 100), (100, 650), (600, 400)):
        assert near(start.getpixel((x, y)), RED)
    for x, y in ((700, 100), (1200, 650), (900, 400)):
        assert near(start.getpixel((x, y)), BLUE)
    middle = frame(one, 36)
    panel = middle.crop((200, 360, 1080, 600))
    assert max(ImageStat.Stat(panel).mean) < 90  # the dark caption panel covers it
    assert diff(frame(one, 30), frame(one, 60)) > 0.5  # the camera moves


def test_takes_differ_and_each_take_is_reproducible(tmp_path: Path) -> None:
    one = render(tmp_path, "one.mp4", "the harbour at dawn", take=1)
    two = render(tmp_path, "two.mp4", "the harbour at dawn", take=2)
    again = render(tmp_path, "again.mp4", "the harbour at dawn", take=2)
    assert two.read_bytes() == again.read_bytes()
    assert diff(frame(one, 0), frame(two, 0)) < 2  # the same first frame
    assert diff(frame(one, 60), frame(two, 60)) > 3  # visibly another take


def test_camera_words_choose_the_move_and_the_take_frames_it() -> None:
    assert camera_move("slow push in on the cat", 1).kind == "push-in"
    assert camera_move("Pull back to reveal the room", 3).kind == "pull-out"
    assert camera_move("the cat", 1).kind != camera_move("the cat", 2).kind
    a, b = camera_move("push in", 1), camera_move("push in", 2)
    assert a.kind == b.kind and a.a1 != b.a1
    for take in range(1, 13):  # every take's move glides, whatever its kind
        for words in ("push in", "pull out", "pan left", "tilt up", "the cat"):
            move = camera_move(words, take)
            assert move.a0 != move.a1, (words, take)


def test_burn_ins_show_scene_shot_take_and_timecode(tmp_path: Path) -> None:
    clip = render(tmp_path, "clip.mp4", "the cat stretches", take=1)
    burned = tmp_path / "burned.mp4"
    burned.write_bytes(clip.read_bytes())
    place = ScenePlacement("b", 0.0, 3.0, 0.0, 3.0, clip)
    spans = burn_in_spans([place], {"b": [1, 2]}, {"b": 2})
    assert [(s.start, s.end, s.text) for s in spans] == [
        (0.0, 1.0, "b · shot 1/2 · take 2"),
        (1.0, 3.0, "b · shot 2/2 · take 2"),
    ]
    burn_in(burned, spans, fps=24, crf=20, preset="veryfast")
    before, after = frame(clip, 0), frame(burned, 0)
    label, timecode = (0, 0, 420, 80), (1000, 0, 1280, 80)
    assert diff(before.crop(label), after.crop(label)) > 10
    assert diff(before.crop(timecode), after.crop(timecode)) > 10
    assert diff(frame(burned, 10).crop(timecode), frame(burned, 60).crop(timecode)) > 1
    middle = (300, 200, 900, 330)
    assert diff(before.crop(middle), after.crop(middle)) < 3  # nothing else changes


def text_body(prompt: str, aspect_ratio: str) -> dict[str, object]:
    """A body with no first frame: the clip is one moving card."""
    spec = body(prompt)
    data = dict(spec["input"])  # type: ignore[call-overload]
    del data["image_urls"]
    data["aspect_ratio"] = aspect_ratio
    return {**spec, "input": data}


def busy(strip: Image.Image) -> int:
    """The largest spread of grey levels along any row of ``strip`` (text makes it large;
    the card's smooth gradient does not)."""
    grey = strip.convert("L")
    return max(
        max(row) - min(row)
        for row in (
            [grey.getpixel((x, y)) for x in range(0, grey.width, 2)] for y in range(grey.height)
        )
    )  # type: ignore[type-var]


@pytest.mark.parametrize("aspect_ratio", ["16:9", "9:16"])
@pytest.mark.parametrize("words", ["pan left", "pan right", "tilt up", "push in"])
def test_a_moving_card_keeps_its_text_in_frame_and_clear_of_the_burn_ins(
    tmp_path: Path, aspect_ratio: str, words: str
) -> None:
    prompt = f"A long prompt for the card: the cat leaps down and bolts, {words}, to the door"
    clip = render_animatic(
        text_body(prompt, aspect_ratio), tmp_path / "card.mp4", label="spotted · take 2", take=2
    )
    for index in (0, 36, 71):  # the move's start, middle and end
        image = frame(clip, index)
        w, h = image.size
        band = math.ceil(REVIEW_BAND * h)
        assert busy(image.crop((0, 0, w, band))) < 40  # nothing drawn where burn-ins go
        edge = max(4, w // 100)
        for strip in ((0, band, edge, h), (w - edge, band, w, h), (0, h - edge, w, h)):
            assert busy(image.crop(strip).rotate(90, expand=True)) < 40  # nothing cut off
        assert busy(image.crop((0, band, w, h))) > 120  # the card's text is there


def test_burn_ins_stay_inside_the_review_band(tmp_path: Path) -> None:
    for w, h in ((1280, 720), (720, 1280)):
        video = tmp_path / f"grey-{w}x{h}.mp4"
        colour = f"color=gray:s={w}x{h}:r=24:d=0.5"
        make = [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", colour, "-pix_fmt", "yuv420p"]
        subprocess.run([*make, str(video)], check=True)
        text = "A long scene name, jumpy · shot 1/2 · take 12 (gjpqy)"
        burn_in(video, [BurnInSpan(0.0, 0.5, text)], fps=24, crf=18, preset="veryfast")
        grey = frame(video, 0).convert("L")
        band = math.ceil(REVIEW_BAND * h)
        assert busy(grey.crop((0, 0, w, band))) > 100  # the burn-ins are drawn
        assert busy(grey.crop((0, band, w, h))) < 8  # and nothing below the band
