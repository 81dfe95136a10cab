"""An edit with footage, a panning still, a logo, a speed effect and a slide: moviepy
renders only those pieces, the rest is stream-copied, and sound and picture stay in sync."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from PIL import Image, ImageDraw

from storyboard.edit import AssemblyReport, EditClip, assemble
from storyboard.edit.model import Edit, Output, Overlay, Transition
from storyboard.edit.sources import Effect, Footage, Still
from storyboard.media.encoding import AUDIO_RATE
from storyboard.media.ffmpeg import decode_errors

from .edit_media import (
    FPS,
    clip_identity,
    decode_audio,
    decode_video,
    frame_counter,
    make_clip,
    tone_crossing,
    tone_power,
)

# scene: (output frames [start, end), identity colour, tone in the edit)
# s0 0-72 red 600 Hz | foot 72-120 yellow 1800 Hz (640x360, in 0.5 out 2.5)
# s1 120-168 green, MultiplySpeed 1.5: 1000 Hz played at 1500 Hz | slide 156-168
# still 156-204 silent, pan-right | s2 204-276 blue 1400 Hz; logo over 0-36


@pytest.fixture(scope="module")
def composited(tmp_path_factory: pytest.TempPathFactory) -> tuple[AssemblyReport, Path]:
    root = tmp_path_factory.mktemp("compositing")
    a0, a1, a2 = (make_clip(root / f"a{i}.mp4", i) for i in range(3))
    footage = make_clip(root / "street.mp4", 3, size=(640, 360))
    card = Image.new("RGB", (400, 200), (5, 5, 5))
    draw = ImageDraw.Draw(card)
    for x in range(0, 400, 40):
        draw.rectangle((x, 120, x + 20, 200), fill=(140, 140, 140))
    card.save(root / "card.png")
    logo = Image.new("RGBA", (100, 50), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((0, 0, 99, 49), fill=(255, 255, 255, 255))
    logo.save(root / "logo.png")
    clips = [
        EditClip("s0", a0, prompt="p0", task_id="t0"),
        EditClip("foot", footage, footage=Footage(path="street.mp4", start=0.5, end=2.5)),
        EditClip("s1", a1, effects=(Effect(name="MultiplySpeed", factor=1.5),)),
        EditClip(
            "still", root / "card.png", still=Still(path="card.png", duration=2, move="pan-right")
        ),
        EditClip("s2", a2),
    ]
    edit = Edit(
        transitions=[Transition(between=("s1", "still"), type="slide", duration=0.5)],
        overlays=[
            Overlay(
                image="logo.png", position=(0.85, 0.15), width=0.2, opacity=0.8, start=0, end=1.5
            )
        ],
    )
    report = assemble(clips, edit, Output(), root / "out" / "edit.mp4", base_dir=root)
    return report, a0


def test_moviepy_renders_only_the_composited_pieces(
    composited: tuple[AssemblyReport, Path],
) -> None:
    report, _ = composited
    assert report.assembly_path == "smart"
    counts = report.frames_by_renderer
    assert counts["stream-copy"] > 0 and counts["moviepy"] > 0
    assert sum(counts.values()) == report.frames == 276
    assert report.to_json()["frames_by_renderer"] == counts
    pieces = report.to_json()["pieces"]
    assert pieces[0] == {"start": 0, "end": 48, "renderer": "moviepy"}  # the logo, to a key
    assert {"start": 48, "end": 72, "renderer": "stream-copy"} in pieces
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(pieces))


def test_decodes_clean_with_sound_as_long_as_pictures(
    composited: tuple[AssemblyReport, Path],
) -> None:
    report, _ = composited
    assert decode_errors(report.path) == []
    assert len(decode_video(report.path)) == report.frames
    assert abs(len(decode_audio(report.path)) / AUDIO_RATE - report.duration) < 0.025


def test_neighbours_stay_bit_identical(composited: tuple[AssemblyReport, Path]) -> None:
    report, a0 = composited
    out, source = decode_video(report.path), decode_video(a0)
    assert np.array_equal(out[48:72], source[48:72])  # s0 after the logo, stream-copied
    assert not np.array_equal(out[0:24], source[0:24])  # under the logo: composited


def _onset(audio: np.ndarray, near: float) -> float:
    """Time (s) a tone starts after silence: first sample above a third of its peak."""
    lo, hi = int((near - 0.05) * AUDIO_RATE), int((near + 0.05) * AUDIO_RATE)
    seg = np.abs(audio[lo:hi])
    return (lo + int(np.argmax(seg > seg.max() / 3))) / AUDIO_RATE


def _slide_midpoint(frames: np.ndarray, start: int, end: int) -> float:
    """Time (s) the incoming still covers half the frame: a line fitted to the share of
    columns it covers (it is near-black in rows 40-90, the outgoing scene is not)."""
    band = frames[start + 1 : end, 40:90].max(axis=3)  # (frames, rows, columns)
    covered = (np.median(band, axis=1) < 50).mean(axis=1)
    times = np.arange(start + 1, end) / FPS
    slope, intercept = np.polyfit(times, covered, 1)
    return float((0.5 - intercept) / slope)


def _fade_midpoint(audio: np.ndarray, freq: float, start: float, end: float) -> float:
    """Time (s) a tone fading out over [start, end] is at half its amplitude (line fit)."""
    window, hop = 192, 48
    lo, hi = int((start - 0.2) * AUDIO_RATE), int((end + 0.05) * AUDIO_RATE)
    amplitude = np.sqrt(tone_power(audio[lo:hi], freq, window, hop))
    times = (lo + np.arange(len(amplitude)) * hop + window / 2) / AUDIO_RATE
    level = np.median(amplitude[times < start - 0.02])
    inside = (times > start + 0.05) & (times < end - 0.05)
    slope, intercept = np.polyfit(times[inside], amplitude[inside] / level, 1)
    return float((0.5 - intercept) / slope)


def test_sound_and_picture_in_sync_at_every_join(composited: tuple[AssemblyReport, Path]) -> None:
    """The A/V offset at each scene join: where the sound changes minus where the picture
    does (a cut: the first frame of the new scene; the slide: the still covering half the
    frame against the outgoing sound at half its level)."""
    report, _ = composited
    frames, audio = decode_video(report.path), decode_audio(report.path)

    def cut(near: int, identity: int) -> float:
        return next(k for k in range(near - 5, near + 5) if clip_identity(frames[k]) == identity)

    slide = _slide_midpoint(frames, 156, 168)
    offsets = {
        "s0 | footage": tone_crossing(audio, 600, 1800, cut(72, 3) / FPS) - cut(72, 3) / FPS,
        "footage | s1 (sped up)": tone_crossing(audio, 1800, 1500, cut(120, 1) / FPS)
        - cut(120, 1) / FPS,
        "s1 slide still": _fade_midpoint(audio, 1500, 156 / FPS, 168 / FPS) - slide,
        "still (silent) | s2": _onset(audio, cut(204, 2) / FPS) - cut(204, 2) / FPS,
    }
    assert abs(slide - 162 / FPS) < 0.002  # the picture's own midpoint, as the timeline says
    assert all(-0.0005 <= o <= 0.0011 for o in offsets.values()), offsets  # 0-1 ms (1 ms hop)


def test_frames_land_on_their_times_at_every_piece_join(
    composited: tuple[AssemblyReport, Path],
) -> None:
    """Where the renderer changes (moviepy | stream copy | ffmpeg), the frames on both
    sides are the source frames the timeline puts there: no frame lost, doubled or
    shifted, so the one sound track stays on the picture."""
    report, _ = composited
    frames = decode_video(report.path)
    plain = {"s0": (0, 72, 0), "s2": (204, 276, 2)}  # speed 1, nothing drawn over the counter
    checked = 0
    for piece in report.to_json()["pieces"][1:]:
        for k in (piece["start"] - 1, piece["start"]):
            for first, last, identity in plain.values():
                if first <= k < last:
                    assert clip_identity(frames[k]) == identity, k
                    assert frame_counter(frames[k]) == k - first, k
                    checked += 1
    assert checked >= 2, report.to_json()["pieces"]


def test_speed_effect_moves_picture_and_sound_together(
    composited: tuple[AssemblyReport, Path],
) -> None:
    report, _ = composited
    frames, audio = decode_video(report.path), decode_audio(report.path)
    assert [frame_counter(frames[120 + j]) for j in (0, 8, 16, 24)] == [0, 12, 24, 36]
    seg = audio[int(5.2 * AUDIO_RATE) : int(6.2 * AUDIO_RATE)]
    assert tone_power(seg, 1500).mean() > 50 * tone_power(seg, 1000).mean()


def test_footage_is_conformed_and_trimmed(composited: tuple[AssemblyReport, Path]) -> None:
    report, _ = composited
    frames = decode_video(report.path)
    assert frames.shape[1:3] == (180, 320)
    assert all(clip_identity(frames[k]) == 3 for k in (72, 96, 119))


def test_logo_still_and_slide_pictures(composited: tuple[AssemblyReport, Path]) -> None:
    report, _ = composited
    frames = decode_video(report.path).astype(int)
    logo = (slice(20, 33), slice(262, 282))  # centre of the logo at (0.85, 0.15)
    assert frames[10][logo].mean() > 180 and frames[60][logo].mean() < 170
    assert np.abs(frames[180] - frames[200]).mean() > 3  # the still pans
    mid = frames[162]  # half-way through the slide: the still enters from the right
    assert clip_identity(mid) == 1 and mid[:100, -40:].mean() < 20


def test_otio_lists_footage_still_and_logo_with_their_files(
    composited: tuple[AssemblyReport, Path],
) -> None:
    report, a0 = composited
    root = a0.parent
    timeline = otio.adapters.read_from_file(str(report.handoffs["otio"]))
    scenes, logo = timeline.video_tracks()
    clips = {c.name: c for c in scenes.find_clips()}
    assert list(clips) == ["s0", "foot", "s1", "still", "s2"]
    assert clips["foot"].media_reference.target_url == (root / "street.mp4").resolve().as_uri()
    assert clips["still"].media_reference.target_url == (root / "card.png").resolve().as_uri()
    assert clips["still"].metadata["storyboard"]["kind"] == "still"
    assert clips["foot"].metadata["storyboard"]["kind"] == "footage"
    assert clips["foot"].source_range.start_time.to_frames() == 12  # in: 0.5 s
    assert clips["still"].media_reference.available_range.duration.to_frames() == 48  # 2 s
    (image,) = logo.find_clips()
    assert image.media_reference.target_url == (root / "logo.png").resolve().as_uri()
    assert image.range_in_parent().duration.to_frames() == 36  # 0-1.5 s
    assert otio.opentime.to_frames(timeline.duration(), FPS) == report.frames
