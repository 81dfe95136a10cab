"""End-to-end renders: probe the MP4s, grab frames, check bytes and failure behaviour."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

from storyboard.media.encoding import ANIMATIC_ENCODING
from storyboard.media.ffmpeg import FFmpegError, decode_errors, keyframe_times, probe
from storyboard.providers.animatic import render, render_animatic

from .animatic_helpers import close, fetch_asset, grab_frame, kling_body, mean_volume_db

FRAME = 1 / 24
RED, BLUE, GREEN = (220, 40, 40), (40, 60, 220), (30, 200, 60)

DOG = {"name": "dog", "description": "a dog", "element_input_urls": ["https://cdn.test/dog.png"]}
CAT = {
    "name": "cat",
    "description": "a cat",
    "element_input_video_urls": ["https://cdn.test/cat.mp4"],
}
MULTI_SHOTS = [
    {"prompt": "Opening on the first frame", "duration": 2},
    {"prompt": "A dog @dog runs along the beach at sunset", "duration": 2},
    {"prompt": "Wide shot: the cat @cat watches from a wall", "duration": 1},
]


def _render(folder: Path, name: str, body: dict[str, Any]) -> Path:
    return render_animatic(body, folder / name, fetch_asset=fetch_asset, label="scene-7")


def _differ(a: Image.Image, b: Image.Image, threshold: float = 4.0) -> bool:
    """Whether two frames differ clearly (mean absolute difference over all pixels)."""
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3 > threshold


def _check_format(path: Path, seconds: int, size: tuple[int, int]) -> None:
    info = probe(path)
    assert info.duration is not None and abs(info.duration - seconds) <= FRAME
    assert (info.width, info.height) == size
    assert info.fps == 24
    assert (info.video_codec, info.pix_fmt) == ("h264", "yuv420p")
    assert (info.audio_codec, info.sample_rate, info.channels) == ("aac", 48_000, 2)
    assert decode_errors(path) == []


@pytest.mark.parametrize(
    ("mode", "aspect", "seconds", "size"),
    [
        ("std", "16:9", 3, (1280, 720)),
        ("std", "9:16", 4, (720, 1280)),
        ("std", "1:1", 3, (720, 720)),
        ("pro", "16:9", 3, (1920, 1080)),
    ],
)
def test_output_format(
    tmp_path: Path, mode: str, aspect: str, seconds: int, size: tuple[int, int]
) -> None:
    body = kling_body(mode=mode, aspect_ratio=aspect, duration=str(seconds), kling_elements=[DOG])
    out = _render(tmp_path, "clip.mp4", body)
    assert out == tmp_path / "clip.mp4"
    _check_format(out, seconds, size)


@pytest.fixture(scope="module")
def multi_shot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three shots (2 s + 2 s + 1 s), the first opening on a red|blue first-frame image."""
    body = kling_body(
        multi_shots=True,
        duration="5",
        sound=True,
        image_urls=["https://cdn.test/first.png"],
        multi_prompt=MULTI_SHOTS,
        kling_elements=[DOG, CAT],
    )
    return _render(tmp_path_factory.mktemp("multi"), "multi.mp4", body)


def test_multi_shot_format(multi_shot: Path) -> None:
    _check_format(multi_shot, 5, (960, 720))  # the first frame's 4:3 shape wins
    assert keyframe_times(multi_shot) == [0.0, 1.0, 2.0, 3.0, 4.0]
    data = multi_shot.read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # +faststart: the index comes first


def test_first_shot_shows_the_first_frame_image(multi_shot: Path) -> None:
    frame = grab_frame(multi_shot, 1.0)
    assert close(frame.getpixel((240, 300)), RED)  # type: ignore[arg-type]
    assert close(frame.getpixel((720, 300)), BLUE)  # type: ignore[arg-type]


def test_each_shot_has_its_own_card(multi_shot: Path) -> None:
    first, second, third = (grab_frame(multi_shot, t) for t in (1.0, 3.0, 4.5))
    assert not close(second.getpixel((240, 300)), RED)  # type: ignore[arg-type]
    assert _differ(first, second) and _differ(second, third)
    assert not _differ(grab_frame(multi_shot, 2.2), grab_frame(multi_shot, 3.8), threshold=1.0)


def test_card_shows_the_element_thumbnail(multi_shot: Path) -> None:
    card = grab_frame(multi_shot, 3.0)
    tile_area = [(x, y) for x in range(0, 300, 3) for y in range(420, 660, 3)]
    assert any(close(card.getpixel(xy), (240, 170, 30)) for xy in tile_area)  # type: ignore[arg-type]


def test_sound_bed_is_quiet_and_silence_is_silent(multi_shot: Path, tmp_path: Path) -> None:
    assert -36 <= mean_volume_db(multi_shot) <= -25
    silent = _render(tmp_path, "silent.mp4", kling_body(sound=False))
    assert mean_volume_db(silent) < -80


def test_shot_durations_that_do_not_add_up_are_scaled(tmp_path: Path) -> None:
    shots = [{"prompt": "one", "duration": 3}, {"prompt": "two", "duration": 3}]
    out = _render(
        tmp_path, "scaled.mp4", kling_body(multi_shots=True, duration="5", multi_prompt=shots)
    )
    _check_format(out, 5, (1280, 720))
    assert _differ(grab_frame(out, 2.3), grab_frame(out, 2.6))  # cut at 2.5 s


def test_single_shot_ends_on_the_last_frame(tmp_path: Path) -> None:
    urls = ["https://cdn.test/first.png", "https://cdn.test/last.png"]
    out = _render(tmp_path, "single.mp4", kling_body(duration="3", image_urls=urls))
    _check_format(out, 3, (960, 720))
    assert close(grab_frame(out, 0.5).getpixel((240, 300)), RED)  # type: ignore[arg-type]
    assert close(grab_frame(out, 2.5).getpixel((480, 300)), GREEN)  # type: ignore[arg-type]


def test_unreachable_first_frame_gives_a_card_at_the_requested_aspect(tmp_path: Path) -> None:
    urls = ["https://cdn.test/broken.png", "https://cdn.test/missing.png"]
    body = kling_body(duration="3", aspect_ratio="9:16", image_urls=urls, kling_elements=[CAT])
    out = _render(tmp_path, "fallback.mp4", body)
    _check_format(out, 3, (720, 1280))


def test_same_body_gives_the_same_bytes(tmp_path: Path) -> None:
    body = kling_body(
        multi_shots=True,
        duration="3",
        sound=True,
        multi_prompt=MULTI_SHOTS[1:],
        kling_elements=[DOG, CAT],
    )
    one, two = _render(tmp_path, "a.mp4", body), _render(tmp_path, "b.mp4", body)
    assert one.read_bytes() == two.read_bytes()


def test_bad_body_raises_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="input"):
        render_animatic({"model": "kling-3.0/video"}, tmp_path / "bad.mp4")
    assert list(tmp_path.iterdir()) == []


def test_failed_encode_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"previous take")

    def failing_ffmpeg(args: list[str], **_: object) -> str:
        Path(args[-1]).write_bytes(b"half a file")
        raise FFmpegError(args, 1, "boom")

    monkeypatch.setattr(render, "run_ffmpeg", failing_ffmpeg)
    with pytest.raises(FFmpegError):
        render_animatic(kling_body(), out)
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]
    assert out.read_bytes() == b"previous take"


def test_encode_args_use_the_shared_encoding(tmp_path: Path) -> None:
    args = render.encode_args(
        [tmp_path / "a.png", tmp_path / "b.png"], [30, 42], True, tmp_path / "o.mp4"
    )
    joined = " ".join(args)
    assert " ".join(ANIMATIC_ENCODING.video_args()) in joined
    assert " ".join(ANIMATIC_ENCODING.audio_args()) in joined
    for flag in (
        "-threads 2",
        "-movflags +faststart",
        "-fflags +bitexact",
        "-map_metadata -1",
        "-frames:v 72",
    ):
        assert flag in joined
    assert "loop=loop=29:" in joined and "loop=loop=41:" in joined
    assert "atrim=end_sample=144000" in joined
