"""Pure pieces: audio envelopes and plans, filter graphs, titles, OTIO, report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest

from storyboard.edit import AssemblyReport, EditClip, LoudnessReport, ScenePlacement
from storyboard.edit.audio import (
    AAC_PEAK_MARGIN,
    SAMPLE_PEAK_ALLOWANCE,
    LoudnessStats,
    duck_gain,
    fade_gain,
    generated_audio_args,
    limiter_filter,
    mix_music,
    next_gain,
    plan_normalisation,
    sample_pos,
    window_levels,
)
from storyboard.edit.clips import ClipInfo, VideoParams
from storyboard.edit.compose import TitleImage, conform_filter, keyframe_seek, render_args
from storyboard.edit.contact import contact_sheet, thumbnail_plan
from storyboard.edit.handoff import handoff_paths, otio_timeline
from storyboard.edit.model import Edit, Loudness, Music, Output, Title, Transition
from storyboard.edit.paths import CopyPiece
from storyboard.edit.streamcopy import concat_list, copy_piece_args, copy_pieces_args
from storyboard.edit.timeline import resolve_timeline
from storyboard.edit.titles import render_title
from storyboard.media.encoding import ANIMATIC_ENCODING

PARAMS = VideoParams("h264", "High", "yuv420p", 320, 180, 24.0, "12288", "45:0x1")


def info(name: str = "c", frames: int = 72, audio: bool = True) -> ClipInfo:
    return ClipInfo(Path(f"/m/{name}.mp4"), PARAMS, frames, (0, 24, 48), 0.0, audio)


INFOS = [info("a"), info("b", audio=False), info("c")]
EDIT = Edit(
    transitions=[
        Transition(between=("s0", "s1"), type="crossfade", duration=0.5),
        Transition(between=("s1", "s2"), type="fade", duration=0.5),
    ],
    titles=[Title(text="Hi", start=2.2, duration=1.0)],
)
TL = resolve_timeline(["s0", "s1", "s2"], INFOS, EDIT, Output())


# --- audio ---------------------------------------------------------------------------------------


def test_sample_positions_are_exact_and_additive() -> None:
    assert sample_pos(24, 24) == 48000 and sample_pos(1, 30) == 1600
    assert sample_pos(7, 24) == 14000 and sample_pos(1, 7) == 6857  # rounded


def test_fade_gain() -> None:
    g = fade_gain(48000, 0.5, 0.25)
    assert g[0] == 0 and g[24000] == 1 and g[-1] == 0
    assert g[12000] == pytest.approx(0.5) and np.all(np.diff(g[:24000]) > 0)
    assert np.all(fade_gain(100, 0, 0) == 1)


def test_window_levels() -> None:
    loud = np.full((960, 2), 0.5, np.float32)
    quiet = np.zeros((500, 2), np.float32)
    levels = window_levels(np.concatenate([loud, quiet]), 480)
    assert levels[:2] == pytest.approx(20 * np.log10(0.5), abs=0.01)
    assert levels[2] < -100 and len(levels) == 4


def test_duck_gain_ducks_early_and_recovers() -> None:
    levels = np.full(300, -90.0)
    levels[100:200] = -20.0  # sound from 1.0 s to 2.0 s (10 ms windows)
    g = duck_gain(levels, 0.25)
    assert g[50] == pytest.approx(1.0)
    assert g[100] < 0.35  # already down when the sound starts (look-ahead)
    assert g[150] == pytest.approx(0.25, abs=0.01)
    assert g[210] < 0.6 and g[299] > 0.95  # released smoothly afterwards


def test_mix_music_applies_volume_fade_and_duck() -> None:
    n = 48000 * 3
    gen = np.zeros((n, 2), np.float32)
    gen[48000:96000] = 0.3  # generated sound in the middle second
    music = np.full((n, 2), 0.5, np.float32)
    spec = Music(path="m.wav", volume=0.8, fade_in=0, fade_out=0, duck_level=0.25)
    mixed = mix_music(gen, music, spec, duck=True)
    assert mixed[24000, 0] == pytest.approx(0.4, abs=0.01)
    assert mixed[72000, 0] == pytest.approx(0.3 + 0.5 * 0.8 * 0.25, abs=0.01)
    undocked = mix_music(gen, music, spec, duck=False)
    assert undocked[72000, 0] == pytest.approx(0.7, abs=0.01)


def test_normalisation_plan() -> None:
    spec = Loudness()
    assert plan_normalisation(None, spec) == ("none", 0.0)
    assert plan_normalisation(LoudnessStats(-70.0, -90.0), spec)[0] == "none"
    assert plan_normalisation(LoudnessStats(-20.0, -12.0), spec) == ("linear", 6.0)
    edge = -1.0 - AAC_PEAK_MARGIN - 6.0
    assert plan_normalisation(LoudnessStats(-20.0, edge), spec)[0] == "linear"
    assert plan_normalisation(LoudnessStats(-20.0, edge + 0.1), spec) == ("limited", 6.0)
    # A sample peak leaves room for the true peak above it; near the ceiling: "limited"
    # (the first pass then measures the true peak before deciding).
    sample = edge - SAMPLE_PEAK_ALLOWANCE
    assert plan_normalisation(LoudnessStats(-20.0, sample, peak="sample"), spec)[0] == "linear"
    near = LoudnessStats(-20.0, sample + 0.1, peak="sample")
    assert plan_normalisation(near, spec) == ("limited", 6.0)
    assert plan_normalisation(LoudnessStats(-20.0, -12.0), Loudness(enabled=False))[0] == "none"
    assert next_gain(6.0, LoudnessStats(-14.2, -1.6), spec) is None
    assert next_gain(6.0, LoudnessStats(-15.0, -1.6), spec) == pytest.approx(7.0)
    assert "latency=1" in limiter_filter(6.0, -1.0) and "aresample=192000" in limiter_filter(6, -1)


def test_generated_audio_graph() -> None:
    args = generated_audio_args(TL, INFOS, sound=True, out=Path("/w/g.f32"))
    graph = args[args.index("-filter_complex") + 1]
    assert args.count("-i") == 2  # s1's clip has no sound: silence instead
    assert "anullsrc" in graph and "acrossfade=ns=24000" in graph
    assert "afade=t=out:ss=132000:ns=12000" in graph  # s1 fades out over its last 6 frames
    assert "afade=t=in:ss=0:ns=12000" in graph  # s2's fade in: first 6 frames
    silent = generated_audio_args(TL, INFOS, sound=False, out=Path("/w/g.f32"))
    assert silent.count("-i") == 0


# --- video graph, copies ---------------------------------------------------------------------------


def test_conform() -> None:
    assert conform_filter((320, 180), (320, 180), "pad") == "setsar=1"
    assert conform_filter((320, 180), (320, 180), "pad", keep_sar=True) == "null"
    assert "pad=320:180" in conform_filter((240, 180), (320, 180), "pad")
    assert "crop=320:180" in conform_filter((240, 180), (320, 180), "crop")


def test_render_args_for_a_crossfade_bridge_with_title() -> None:
    titles = {0: TitleImage(Path("/w/title-0.png"), 10, 20)}
    args = render_args(
        TL, INFOS, 48, 84, titles, ANIMATIC_ENCODING, Path("/w/p.mp4"), bridge_for=INFOS[0]
    )
    graph = args[args.index("-filter_complex") + 1]
    # s0 from frame 48, a keyframe: seek just past it, drop nothing.
    seek = ["-noaccurate_seek", "-seek_timestamp", "1", "-ss", "2.020833", "-i"]
    assert args[:8] == ["-threads", "1", *seek]  # one decoder thread per clip
    assert "trim=start_frame" not in graph.split(";")[0]
    assert "xfade=transition=fade:duration=0.500000:offset=0.500000" in graph
    assert "overlay=x=10:y=20" in graph and "setsar" not in graph
    assert "-video_track_timescale" in args and args[args.index("-frames:v") + 1] == "36"


def test_keyframe_seek() -> None:
    assert keyframe_seek(INFOS[0], 10) == (["-threads", "1", "-i", "/m/a.mp4"], 10)
    seek, lead = keyframe_seek(INFOS[0], 50)
    assert seek[seek.index("-ss") + 1] == "2.020833" and lead == 2


def test_copy_piece_args() -> None:
    whole = copy_piece_args(CopyPiece(0, 0, 72, 0), INFOS[0], Path("/w/p.mp4"))
    assert "-ss" not in whole and "-frames:v" not in whole and "-an" in whole
    part = copy_piece_args(CopyPiece(0, 24, 48, 0), INFOS[0], Path("/w/p.mp4"))
    assert part[part.index("-ss") + 1] == "1.010417" and part[part.index("-frames:v") + 1] == "24"


def test_concat_list_quotes_paths() -> None:
    text = concat_list([Path("/w/a.mp4"), Path("/w/it's.mp4")])
    assert text == "file '/w/a.mp4'\nfile '/w/it'\\''s.mp4'\n"


# --- titles -----------------------------------------------------------------------------------------


def test_title_render(tmp_path: Path) -> None:
    image = render_title(Title(text="Two\nlines", color="#ff0000"), (1920, 1080), tmp_path)
    assert image.mode == "RGBA" and image.height > 2 * 0.085 * 1080 * 0.8
    alpha = np.asarray(image)[..., 3]
    assert alpha.max() == 255 and alpha[0, 0] == 0  # opaque text, rounded plate corners
    band = render_title(Title(text="Name", style="lower_third"), (1920, 1080), tmp_path)
    assert np.asarray(band)[..., 3][band.height // 2, 0] == 255  # the lower-third's accent bar


# --- hand-offs --------------------------------------------------------------------------------------


def _report() -> AssemblyReport:
    scenes = tuple(
        ScenePlacement(s.scene_id, s.start / 24, s.end / 24, 0.0, 3.0, INFOS[i].path)
        for i, s in enumerate(TL.scenes)
    )
    loud = LoudnessReport(-14.0, -2.0, -14.0, -1.0, "linear", -20.0)
    return AssemblyReport(
        Path("/o/edit.mp4"),
        "smart",
        "why",
        TL.duration,
        TL.total_frames,
        24,
        (320, 180),
        scenes,
        loud,
        {"probe": 0.1},
    )


def test_otio_timeline_matches_the_timeline() -> None:
    clips = [EditClip(f"s{i}", INFOS[i].path, prompt=f"p{i}", task_id=f"t{i}") for i in range(3)]
    tl = otio_timeline(TL, clips, INFOS, EDIT, _report())
    text = otio.adapters.write_to_string(tl)
    loaded = otio.adapters.read_from_string(text)
    (track,) = loaded.tracks
    assert track.duration().to_frames() == TL.total_frames == 72 * 3 - 12
    kinds = [
        t.metadata["storyboard"]["type"] for t in track if isinstance(t, otio.schema.Transition)
    ]
    assert kinds == ["crossfade", "fade"]
    first = next(iter(track.find_clips()))
    assert first.source_range.duration.to_frames() == 72 - 6  # half the crossfade
    assert first.media_reference.target_url == "file:///m/a.mp4"
    assert [m.name for m in track.markers] == ["Hi"]


def test_report_json_and_paths() -> None:
    data = _report().to_json()
    json.dumps(data)
    assert data["loudness"]["integrated_lufs"] == -14.0 and data["scenes"][1]["start"] == 2.5
    assert handoff_paths(Path("/o/edit.mp4")) == {
        "otio": Path("/o/edit.otio"),
        "contact_sheet": Path("/o/edit.contact.png"),
        "report": Path("/o/edit.report.json"),
    }


def test_contact_sheet_layout() -> None:
    from PIL import Image

    pair = (Image.new("RGB", (160, 90), "red"), Image.new("RGB", (160, 90), "blue"))
    sheet = contact_sheet([pair, pair, pair], ["a", "b", "c"])
    assert sheet.size == (2 * (2 * 160 + 8) + 3 * 8, 2 * (90 + 26) + 3 * 8)


def test_public_api_is_complete() -> None:
    import storyboard.edit as edit

    for name in edit.__all__:
        assert getattr(edit, name) is not None
    assert {"EditClip", "AssemblyReport", "assemble"} <= set(edit.__all__)


def test_thumbnails_decode_at_most_a_few_frames_past_a_keyframe() -> None:
    keys = (0, 24, 48)
    assert thumbnail_plan(keys, 0).exact and thumbnail_plan(keys, 0).lead == 0
    near = thumbnail_plan(keys, 27)  # 3 frames past keyframe 24: decoded exactly
    assert near.exact and (near.keyframe, near.lead) == (24, 3)
    far = thumbnail_plan((0,), 71)  # one IDR: the keyframe is shown instead (one decode)
    assert not far.exact and (far.shown, far.lead) == (0, 0)


def test_copy_pieces_share_one_run() -> None:
    jobs = [
        (CopyPiece(0, 0, 72, 0), INFOS[0], Path("/w/p0.mp4")),
        (CopyPiece(0, 24, 48, 72), INFOS[0], Path("/w/p1.mp4")),
    ]
    args = copy_pieces_args(jobs)
    assert args.count("-i") == 2 and args.index("-i") < args.index("-map")
    assert args[args.index("/w/p0.mp4") - 1] == "-y"  # each output ends its options
    maps = [args[i + 1] for i, a in enumerate(args) if a == "-map"]
    assert maps == ["0:v:0", "1:v:0"]
    assert args[args.index("-frames:v") + 1] == "24"  # only the trimmed piece is counted


def test_input_sections_of_a_multi_input_probe() -> None:
    from storyboard.edit.probe import parse_input_sections

    text = (
        "ffmpeg version n9.0.2\n"
        "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'a.mp4':\n"
        "  Stream #0:0[0x1](und): Video: h264 (High) (avc1), yuv420p, 320x180, 24 fps\n"
        "Input #1, mov,mp4,m4a,3gp,3g2,mj2, from 'b.mp4':\n"
        "  Stream #1:0[0x1](und): Video: h264 (Main) (avc1), yuv420p, 640x360, 30 fps\n"
        "Stream mapping:\n"
        "Output #0, framecrc, to 'x.crc':\n"
        "  Stream #0:0: Video: h264 (High) (avc1), yuv420p, 320x180\n"
    )
    first, second = parse_input_sections(text)
    assert "a.mp4" in first and "640x360" not in first
    assert "b.mp4" in second and "(Main)" in second and "Output" not in second
