"""The probe: mp4/mov clips listed from their header alone must read exactly as a full open.

A full open decodes the first frames of every stream (~14 ms a 1080p clip); a header-only
open (``-nofind_stream_info``) does not, so the pixel format, profile and colour come from
one fully opened clip with the same SPS/PPS. These tests hold the fast probe to the slow
one on clips that differ in exactly those things, and hold the outputs assembled from
header-only opens to the bytes assembled from full opens.
"""

from __future__ import annotations

import filecmp
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

import storyboard.edit.scenes as scenes_module
from storyboard.edit import EditClip, assemble
from storyboard.edit.clips import ClipInfo, header_input_args
from storyboard.edit.errors import AssemblyError
from storyboard.edit.model import Edit, Output, Transition
from storyboard.edit.probe import is_iso_media, params_key, probe_clip, probe_clips
from storyboard.media.encoding import VideoEncoding
from storyboard.media.ffmpeg import ffmpeg_exe

from .edit_media import make_clip

SECTION = (
    "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'a.mp4':\n"
    "  Duration: N/A, bitrate: N/A\n"
    "  Stream #0:0[0x1](und): Video: h264 (avc1 / 0x31637661), none, 320x180, {rate} kb/s,"
    " SAR 1:1 DAR 16:9, 24 fps, 24 tbr, 12288 tbn (default)\n"
    "  Stream #0:1[0x2](und): Audio: aac (mp4a / 0x6134706D), 48000 Hz, stereo, 128 kb/s\n"
)


def test_params_key_ignores_bitrate_but_not_the_sps_or_the_stream_line() -> None:
    a = params_key(SECTION.format(rate=101), "45:0xabc")
    assert a is not None
    assert a == params_key(SECTION.format(rate=987), "45:0xabc")
    assert a != params_key(SECTION.format(rate=101), "45:0xabd")
    assert a != params_key(SECTION.format(rate=101).replace("24 fps", "25 fps"), "45:0xabc")
    assert a != params_key(SECTION.format(rate=101).replace("SAR 1:1", "SAR 4:3"), "45:0xabc")
    assert params_key(SECTION.format(rate=101), None) is None  # in-band SPS: probe it fully
    assert params_key("Input #0, mp3, from 'a.mp3':\n", "1:0x1") is None


def test_iso_media_is_told_by_its_ftyp_box(tmp_path: Path) -> None:
    mp4 = make_clip(tmp_path / "a.mp4", 0, seconds=0.5)
    mkv = tmp_path / "a.mkv"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(mp4), "-c", "copy", str(mkv)], check=True
    )
    assert is_iso_media(mp4)
    assert not is_iso_media(mkv)
    assert not is_iso_media(tmp_path / "missing.mp4")
    assert header_input_args(mp4, True) == ["-nofind_stream_info", "-i", str(mp4)]
    assert header_input_args(mkv, False) == ["-i", str(mkv)]


@pytest.fixture(scope="module")
def varied(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Clips that differ in what only a full open reads; mute, Matroska, fragmented, .mov."""
    root = tmp_path_factory.mktemp("probe-media")
    clips = [
        make_clip(root / "high.mp4", 0, seconds=1),
        make_clip(root / "high-again.mp4", 1, seconds=1),
        make_clip(root / "main.mp4", 2, seconds=1, encoding=VideoEncoding(profile="main")),
        make_clip(
            root / "yuv444.mp4",
            3,
            seconds=1,
            encoding=VideoEncoding(pix_fmt="yuv444p", profile="high444"),
        ),
        make_clip(root / "mute.mp4", 4, seconds=1, audio=False),
    ]
    tagged = root / "bt709.mp4"
    colour = ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(clips[0]), "-c", "copy", *colour, str(tagged)],
        check=True,
    )
    remuxed = {
        "matroska.mkv": [],
        "fragmented.mp4": ["-movflags", "frag_keyframe+empty_moov"],
        "header-last.mov": [],  # no +faststart: the header after the media
    }
    for name, flags in remuxed.items():
        out = root / name
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-i", str(clips[1]), "-c", "copy", *flags, str(out)],
            check=True,
        )
    return [*clips, tagged, *(root / name for name in remuxed)]


def test_fast_probe_reads_what_a_full_open_reads(varied: list[Path]) -> None:
    fast = probe_clips(varied)
    full = [probe_clip(p) for p in varied]
    assert [replace(i, complete_header=False) for i in fast] == [
        replace(i, complete_header=False) for i in full
    ]
    assert [i.complete_header for i in fast] == [p.suffix != ".mkv" for p in varied]
    profiles = {i.path.name: (i.params.profile, i.params.pix_fmt) for i in fast}
    assert profiles["main.mp4"][0] == "Main" and profiles["high.mp4"][0] == "High"
    assert profiles["yuv444.mp4"][1] == "yuv444p" and profiles["high.mp4"][1] == "yuv420p"
    assert not next(i for i in fast if i.path.name == "mute.mp4").has_audio


def test_fast_probe_of_an_unreadable_clip_names_it(varied: list[Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(varied[0].read_bytes()[:2000])
    with pytest.raises(AssemblyError, match=r"broken\.mp4"):
        probe_clips([broken, *varied[:2]])
    with pytest.raises(AssemblyError, match=r"broken\.mp4"):
        probe_clips([*varied[:2], broken])


def _full_opens(infos: list[ClipInfo]) -> list[ClipInfo]:
    return [replace(i, complete_header=False) for i in infos]


@pytest.mark.parametrize("transition", [False, True], ids=["cuts", "crossfade"])
def test_header_only_opens_assemble_the_same_bytes(
    varied: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, transition: bool
) -> None:
    clips = [EditClip(f"s{i}", p) for i, p in enumerate(varied[:2] * 2)]
    edit = Edit(
        transitions=[Transition(between=("s1", "s2"), type="crossfade", duration=0.25)]
        if transition
        else []
    )
    fast = assemble(clips, edit, Output(), tmp_path / "fast.mp4", base_dir=tmp_path)
    assert fast.assembly_path == ("smart" if transition else "stream-copy")
    probe = scenes_module.probe_clips
    monkeypatch.setattr(scenes_module, "probe_clips", lambda paths: _full_opens(probe(paths)))
    slow = assemble(clips, edit, Output(), tmp_path / "slow.mp4", base_dir=tmp_path)
    assert filecmp.cmp(tmp_path / "fast.mp4", tmp_path / "slow.mp4", shallow=False)
    assert filecmp.cmp(
        fast.handoffs["contact_sheet"], slow.handoffs["contact_sheet"], shallow=False
    )
