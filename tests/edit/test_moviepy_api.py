"""The moviepy 2.x API the compositing layer relies on, and its pure helpers."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from moviepy import ColorClip, CompositeVideoClip, ImageClip, VideoFileClip, vfx
from moviepy.audio.AudioClip import AudioArrayClip
from PIL import Image

from storyboard.edit import EditClip, EditError
from storyboard.edit.clips import ClipInfo, VideoParams
from storyboard.edit.composite import encode_frames_args, picture_filter
from storyboard.edit.effects import build_effects, catalogue, check_effect, effects_speed
from storyboard.edit.model import Edit, Output, Overlay, Transition
from storyboard.edit.moviepy_clip import close_clip, conform_frame, still_frame_function
from storyboard.edit.paths import choose_path, moviepy_ranges
from storyboard.edit.scenes import resolve_scenes
from storyboard.edit.sources import Effect, Footage
from storyboard.edit.timeline import resolve_timeline
from storyboard.media.encoding import ANIMATIC_ENCODING

from .edit_media import make_clip


def test_moviepy_is_2x() -> None:
    major = int(importlib.metadata.version("moviepy").split(".")[0])
    assert major == 2


# --- effects ---------------------------------------------------------------------------------


def test_catalogue_holds_the_usable_effects_only() -> None:
    names = catalogue()
    assert {"BlackAndWhite", "MirrorX", "MultiplySpeed", "Margin", "LumContrast"} <= set(names)
    assert "HeadBlur" not in names and "MasksAnd" not in names  # need functions / clips
    assert set(names["MultiplySpeed"]) == {"factor", "final_duration"}


@pytest.mark.parametrize(
    ("effect", "param", "says"),
    [
        ({"name": "BlackAndWhte"}, None, "did you mean BlackAndWhite?"),
        ({"name": "MultiplySpeed", "factr": 2}, "factr", "did you mean `factor`?"),
        ({"name": "MultiplySpeed", "factor": "fast"}, "factor", "valid number"),
        ({"name": "MultiplySpeed", "factor": True}, "factor", "not true/false"),
        ({"name": "GammaCorrection"}, None, "needs `gamma`"),
        ({"name": "Loop", "n": 2}, None, "changes the scene's timing"),
        ({"name": "MultiplySpeed", "factor": 0}, None, "cannot be applied"),
    ],
)
def test_bad_effects_are_reported(effect: dict[str, object], param: str | None, says: str) -> None:
    problems = check_effect(Effect.model_validate(effect), 5.0)
    assert problems and problems[0].param == param
    assert says in problems[0].message + (problems[0].hint or "")


def test_good_effects_pass_and_build() -> None:
    effects = [
        Effect(name="BlackAndWhite"),
        Effect.model_validate({"name": "Margin", "margin_size": 4}),
    ]
    assert all(check_effect(e, 3.0) == [] for e in effects)
    clip = ColorClip((20, 10), color=(200, 40, 40), duration=1).with_fps(24)
    frame = clip.with_effects(build_effects(effects)).get_frame(0.5)
    assert frame.shape == (18, 28, 3)  # the margin grew the picture
    assert np.ptp(frame[9, 14]) < 2  # black and white


def _textured(w: int = 96, h: int = 54) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 255 / w, y * 255 / h, (x + y) * 127 / (w + h) + 64], axis=-1)
    return rgb.astype(np.uint8)


@pytest.mark.parametrize(
    ("effect", "tolerance"),
    [
        ({"name": "BlackAndWhite"}, 1),
        ({"name": "BlackAndWhite", "RGB": "CRT_phosphor"}, 1),
        ({"name": "BlackAndWhite", "preserve_luminosity": False, "RGB": "CRT_phosphor"}, 1),
        ({"name": "GammaCorrection", "gamma": 0.6}, 0),
        ({"name": "LumContrast", "lum": 20, "contrast": 0.4}, 0),
        ({"name": "MultiplyColor", "factor": 1.7}, 0),
    ],
)
def test_fast_forms_give_moviepys_pictures(effect: dict[str, object], tolerance: int) -> None:
    parsed = Effect.model_validate(effect)
    assert check_effect(parsed, 1.0) == []
    clip = ImageClip(_textured(), duration=1).with_fps(24)
    (fast,) = build_effects([parsed])
    (own,) = build_effects([parsed], fast=False)
    assert type(fast).__module__ == "storyboard.edit.fast_effects"
    ours, theirs = clip.with_effects([fast]).get_frame(0), clip.with_effects([own]).get_frame(0)
    assert ours.shape == theirs.shape and ours.dtype == np.uint8
    assert np.abs(ours.astype(int) - theirs).max() <= tolerance
    assert np.ptp(theirs) > 50  # the frame was not flattened to one value


def test_an_effect_without_a_fast_form_is_moviepys_own() -> None:
    (mirror,) = build_effects([Effect(name="MirrorX")])
    assert type(mirror) is vfx.MirrorX


def test_speed_of_effects() -> None:
    assert effects_speed([Effect(name="BlackAndWhite")]) == 1.0
    fast = Effect.model_validate({"name": "MultiplySpeed", "factor": 1.5})
    assert effects_speed([fast]) == pytest.approx(1.5)


# --- pictures ---------------------------------------------------------------------------------


def test_conform_pads_and_crops() -> None:
    tall = np.full((100, 50, 3), 200, np.uint8)
    padded = conform_frame(tall, (80, 40), "pad")
    assert padded.shape == (40, 80, 3) and padded[:, :10].max() == 0 and padded[:, 40].min() > 150
    cropped = conform_frame(tall, (80, 40), "crop")
    assert cropped.shape == (40, 80, 3) and cropped.min() > 150


def test_still_moves() -> None:
    image = Image.fromarray(
        np.tile(np.arange(256, dtype=np.uint8), (128, 1)).repeat(3, 1).reshape(128, 256, 3)
    )
    size = (128, 64)
    pan = still_frame_function(image, size, "pan-right", 2.0, "pad")
    assert pan(0).shape == (64, 128, 3)
    assert pan(2.0).mean() > pan(0).mean() + 20  # the view travels right (brighter side)
    zoom = still_frame_function(image, size, "zoom-in", 2.0, "pad")
    assert np.ptp(zoom(2.0)[32].astype(int)) < np.ptp(zoom(0)[32].astype(int))  # closer
    still = still_frame_function(image, size, "none", 2.0, "pad")
    assert np.array_equal(still(0), still(1.5))


def test_slide_in_enters_from_the_side_named() -> None:
    red = ColorClip((40, 20), color=(255, 0, 0), duration=1)
    green = ColorClip((40, 20), color=(0, 255, 0), duration=1).with_effects(
        [vfx.SlideIn(1.0, "right")]
    )
    frame = CompositeVideoClip([red, green], size=(40, 20)).get_frame(0.5)
    assert frame[10, 35, 1] == 255 and frame[10, 5, 0] == 255  # green from the right


def test_crossfade_in_is_linear() -> None:
    black = ColorClip((8, 8), color=(0, 0, 0), duration=1)
    white = ColorClip((8, 8), color=(255, 255, 255), duration=1).with_effects(
        [vfx.CrossFadeIn(1.0)]
    )
    frame = CompositeVideoClip([black, white], size=(8, 8)).get_frame(0.5)
    assert abs(int(frame[4, 4, 0]) - 128) <= 2


def test_audio_array_clip_keeps_48k_stereo() -> None:
    samples = np.zeros((48000, 2), np.float32)
    audio = AudioArrayClip(samples, fps=48000)
    assert audio.duration == pytest.approx(1.0) and audio.nchannels == 2


def test_readers_close(tmp_path: Path) -> None:
    clip = VideoFileClip(str(make_clip(tmp_path / "c.mp4", 0, seconds=1)), audio=False)
    composite = CompositeVideoClip([clip.subclipped(0.2, 0.8)], size=clip.size)
    composite.get_frame(0.1)
    process = clip.reader.proc
    close_clip(composite)
    assert process is None or process.poll() is not None


# --- encoding like the clips ------------------------------------------------------------------


def _info(colour: tuple[str, ...] = (), sar: str | None = None) -> ClipInfo:
    params = VideoParams("h264", "High", "yuv420p", 320, 180, 24.0, "12288", sar=sar, colour=colour)
    return ClipInfo(Path("x.mp4"), params, 72, (0, 24, 48), 0.0, True)


def test_picture_filter_copies_colour_tags_and_sar() -> None:
    assert picture_filter(_info(), None) == "null"
    tagged = picture_filter(_info(("tv", "bt709")), "1:1")
    assert tagged.startswith("setsar=1/1,scale=out_color_matrix=bt709:out_range=tv")
    assert "color_primaries=bt709" in tagged


def test_encode_args_use_the_given_encoder() -> None:
    args = encode_frames_args(
        (320, 180), 24, 10, ANIMATIC_ENCODING, Path("o.mp4"), time_scale="12288"
    )
    assert args[args.index("-frames:v") + 1] == "10"
    assert ANIMATIC_ENCODING.video_args()[1] in args and "-an" in args
    assert args[args.index("-video_track_timescale") + 1] == "12288"


# --- only where needed -------------------------------------------------------------------------


def test_moviepy_renders_only_pieces_with_moviepy_features() -> None:
    infos = [_info()] * 3
    edit = Edit(
        transitions=[Transition(between=("b", "c"), type="slide", duration=0.5)],
        overlays=[Overlay(image="logo.png", start=0.0, end=0.5)],
    )
    timeline = resolve_timeline(["a", "b", "c"], infos, edit, Output())
    assert moviepy_ranges(timeline) == [(0, 12), (132, 144)]
    choice = choose_path(timeline, infos, bridge_encoder="animatic")
    by = choice.frames_by_renderer
    assert choice.path == "smart" and by["moviepy"] == 24 + 36 and by["ffmpeg"] == 0
    full = choose_path(timeline, infos, fast_path=False)
    assert {p.renderer for p in full.pieces} == {"moviepy", "ffmpeg"}  # type: ignore[union-attr]
    assert full.frames_by_renderer["ffmpeg"] > 0


def test_pip_of_footage_reaching_outside_the_frame_is_an_edit_error() -> None:
    portrait = replace(_info(), params=replace(_info().params, width=180, height=320))
    clips = [EditClip("a", Path("a.mp4")), EditClip("f", Path("f.mp4"), footage=Footage(path="f"))]
    edit = Edit(overlays=[Overlay(scene="f", position=(0.5, 0.5), width=0.5)])
    with pytest.raises(EditError, match="reaches outside the frame"):
        resolve_scenes(clips, edit, Output(), [_info(), portrait])
    small = Edit(overlays=[Overlay(scene="f", position=(0.5, 0.5), width=0.1)])
    assert resolve_scenes(clips, small, Output(), [_info(), portrait]).timeline.overlays


# --- where to_moviepy lives ---------------------------------------------------------------------


def test_to_moviepy_is_the_runs_loader_and_edit_loads_without_run() -> None:
    """``storyboard.edit.to_moviepy`` is defined in run/ (it reads the journal); the edit
    package, its assembler and its clip builder import nothing from run/."""
    import storyboard.edit
    import storyboard.run.clips

    assert storyboard.edit.to_moviepy is storyboard.run.clips.to_moviepy
    probe = (
        "import sys, storyboard.edit.assemble, storyboard.edit.moviepy_clip\n"
        "from storyboard.edit import EditClip, assemble\n"
        "print(sorted(m for m in sys.modules if m.startswith('storyboard.run')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"
