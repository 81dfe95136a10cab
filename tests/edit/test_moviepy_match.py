"""The edit as a moviepy clip, written by moviepy, matches the ffmpeg assembly of the same
edit: cuts, a crossfade, a fade, a title and music; one timeline, two renderers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from storyboard.edit import AssemblyReport, EditClip, assemble
from storyboard.edit.audio import measure_loudness
from storyboard.edit.model import Edit, Music, Output, Title, Transition
from storyboard.edit.moviepy_clip import edit_clip

from .edit_media import FPS, decode_video, make_clip, make_tone_file, psnr


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[AssemblyReport, Path]:
    root = tmp_path_factory.mktemp("moviepy-match")
    clips = [EditClip(f"s{i}", make_clip(root / f"a{i}.mp4", i)) for i in range(4)]
    make_tone_file(root / "music.wav", 300.0, 20.0)
    edit = Edit(
        transitions=[
            Transition(between=("s0", "s1"), type="crossfade", duration=0.5),
            Transition(between=("s2", "s3"), type="fade", duration=0.5),
        ],
        titles=[Title(text="HELLO", start=0.5, duration=2.0, color="#ff00ff")],
        music=Music(path="music.wav", volume=0.4),
    )
    report = assemble(clips, edit, Output(), root / "ffmpeg.mp4", base_dir=root)
    clip = edit_clip(clips, edit, Output(), base_dir=root)
    try:
        clip.write_videofile(
            str(root / "moviepy.mp4"),
            fps=FPS,
            codec="libx264",
            audio_codec="aac",
            audio_fps=48000,
            preset="ultrafast",
            temp_audiofile_path=str(root),
            logger=None,
        )
    finally:
        clip.close()
    return report, root / "moviepy.mp4"


def test_same_duration_within_a_frame(both: tuple[AssemblyReport, Path]) -> None:
    report, written = both
    frames = decode_video(written)
    assert abs(len(frames) - report.frames) <= 1
    assert report.frames == 4 * 72 - 12  # the crossfade overlaps 12 frames


def test_frames_match_at_ten_times(both: tuple[AssemblyReport, Path]) -> None:
    report, written = both
    ours, theirs = decode_video(report.path), decode_video(written)
    times = np.linspace(0.1, report.duration - 0.1, 10)
    values = [psnr(ours[round(t * FPS)], theirs[round(t * FPS)]) for t in times]
    assert min(values) >= 35, [round(v, 1) for v in values]
    crossfade, title = ours[66], ours[30]  # the dissolve and the title are really there
    assert psnr(crossfade, theirs[66]) >= 35 and psnr(title, theirs[30]) >= 35


def test_loudness_within_one_lu(both: tuple[AssemblyReport, Path]) -> None:
    report, written = both
    ours = measure_loudness(["-i", str(report.path)])
    theirs = measure_loudness(["-i", str(written)])
    assert abs(ours.integrated - theirs.integrated) <= 1.0
