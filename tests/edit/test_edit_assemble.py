"""End-to-end assembly of tiny synthetic clips, checked frame by frame and sample by sample.

Clips ``a0..a3`` (see ``edit_media``) are 3 s, 320x180, 24 fps, animatic-encoded (1 s
GOP), each with its own colour block, frame counter and tone.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from PIL import Image

from storyboard.edit import AssemblyReport
from storyboard.edit.audio import measure_loudness
from storyboard.edit.model import Edit, Music, Output, Title, Transition, Trim
from storyboard.media.encoding import AUDIO_RATE
from storyboard.media.ffmpeg import decode_errors

from .conftest import Assembler
from .edit_media import (
    FPS,
    TONES,
    clip_identity,
    decode_audio,
    decode_video,
    frame_counter,
    identity_mix,
    psnr,
    tone_crossing,
    tone_power,
)

CLIP_FRAMES = 72
AAC_FRAME = 1024
AUDIO_FRAME_S = AAC_FRAME / AUDIO_RATE  # 21.3 ms
FOUR = ["a0", "a1", "a2", "a3"]
# A re-encoded frame (x264 crf 23 of an already-decoded frame) of this content scores
# 35-45 dB against its source; the neighbouring frame (texture moves 5 px per frame) scores
# under 20 dB. 30 dB separates "the right frame, re-encoded" from "a wrong frame";
# test_psnr_threshold_separates_neighbours checks that claim on the actual clips.
PSNR_SAME_FRAME = 30.0


def crossfade(a: str, b: str, seconds: float = 0.5) -> Transition:
    return Transition(between=(a, b), type="crossfade", duration=seconds)


@pytest.fixture(scope="module")
def cuts(assembled: Assembler) -> AssemblyReport:
    return assembled("cuts", FOUR, Edit())


@pytest.fixture(scope="module")
def smart(assembled: Assembler) -> AssemblyReport:
    return assembled("xfade", FOUR, Edit(transitions=[crossfade("s1", "s2")]))


@pytest.fixture(scope="module")
def fade_title(assembled: Assembler) -> AssemblyReport:
    edit = Edit(
        transitions=[Transition(between=("s0", "s1"), type="fade", duration=0.5)],
        titles=[
            Title(
                text="HELLO",
                scene="s2",
                start=0.5,
                duration=1.0,
                color="#ff00ff",
                fade=0.2,
                size=0.25,
            )
        ],
    )
    return assembled("fade-title", ["a0", "a1", "a2"], edit)


@pytest.fixture(scope="module")
def x264(assembled: Assembler) -> AssemblyReport:
    """x264-default clips (one IDR each): smart render at GOP-fragment granularity."""
    return assembled("x264", ["x0", "x1", "x2"], Edit(transitions=[crossfade("s0", "s1")]))


@pytest.fixture(scope="module")
def mixed(assembled: Assembler) -> AssemblyReport:
    return assembled("mixed", ["a0", "small43", "big"], Edit(transitions=[crossfade("s0", "s1")]))


def scene_frames(report: AssemblyReport) -> list[tuple[int, int, int]]:
    """(start frame, end frame, first source frame) of each scene in the output."""
    return [
        (round(s.start * FPS), round(s.end * FPS), round(s.source_in * FPS)) for s in report.scenes
    ]


# --- the path taken -----------------------------------------------------------------------------


def test_paths_chosen(
    cuts: AssemblyReport, smart: AssemblyReport, fade_title: AssemblyReport, mixed: AssemblyReport
) -> None:
    assert cuts.assembly_path == "stream-copy" and cuts.reencoded_frames == 0
    assert smart.assembly_path == "smart" and "ANIMATIC_ENCODING" in smart.reason
    assert 0 < smart.reencoded_frames <= 2 * FPS  # one bridge: 1 s GOPs keep it short
    assert fade_title.assembly_path == "smart"
    assert mixed.assembly_path == "full" and "differ in width" in mixed.reason


def test_unknown_encoder_falls_back_to_full(assembled: Assembler) -> None:
    report = assembled("unknown", ["u0", "u1"], Edit(transitions=[crossfade("s0", "s1")]))
    assert report.assembly_path == "full" and "no bridge encoder" in report.reason
    assert decode_errors(report.path) == []


def test_default_x264_clips_smart_render_only_partial_gops(x264: AssemblyReport) -> None:
    assert x264.assembly_path == "smart" and "x264 defaults" in x264.reason
    assert "fast analysis" in x264.reason  # the faster bridge settings matched the SPS/PPS
    frames = decode_video(x264.path)
    assert len(frames) == 3 * CLIP_FRAMES - 12
    # One IDR per clip: s0 is copied up to a clean cut (a mini-GOP end) just before the
    # crossfade; the bridge is that cut's few frames, the 12 crossfade frames and the
    # partial GOP of s1 after them (it cannot be copied without its IDR); s2 is copied.
    partial_gop = CLIP_FRAMES - 12
    assert 12 + partial_gop <= x264.reencoded_frames <= 2 * 12 + partial_gop
    assert decode_errors(x264.path) == []


def test_x264_copied_frames_are_bit_exact_up_to_the_bridge(x264: AssemblyReport) -> None:
    frames = decode_video(x264.path)
    first, third = decode_video(x264.scenes[0].clip), decode_video(x264.scenes[2].clip)
    bridge_start = CLIP_FRAMES - 12 - (x264.reencoded_frames - (CLIP_FRAMES - 12) - 12)
    for k in range(bridge_start):  # s0's head, stream-copied mid-GOP
        assert np.array_equal(frames[k], first[k]), k
    s2 = 2 * CLIP_FRAMES - 12
    for k in range(CLIP_FRAMES):  # s2, stream-copied whole
        assert np.array_equal(frames[s2 + k], third[k]), k


def test_other_frame_rates_are_conformed(assembled: Assembler) -> None:
    report = assembled("fps30", ["a0", "fps30", "a2"], Edit())
    assert report.assembly_path == "full" and "fps" in report.reason
    frames = decode_video(report.path)
    assert len(frames) == 3 * CLIP_FRAMES
    # The 30 fps clip's frames 0, 5, 10, ... land on the 24 fps grid (every 1.25 frames).
    assert [frame_counter(frames[72 + k]) for k in (0, 4, 8)] == [0, 5, 10]
    assert max(abs(o) for o in _join_offsets(report)) < AUDIO_FRAME_S


def test_output_frame_rate_differs_from_the_clips(assembled: Assembler) -> None:
    report = assembled("out30", ["a0", "a1"], Edit(), Output(fps=30))
    assert report.assembly_path == "full" and len(decode_video(report.path)) == 2 * 90
    assert abs(len(decode_audio(report.path)) - 6 * AUDIO_RATE) <= AAC_FRAME


# --- durations and lengths ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "overlap"), [("cuts", 0), ("smart", 12), ("fade_title", 0), ("mixed", 12)]
)
def test_duration_is_scenes_minus_overlaps(
    name: str, overlap: int, request: pytest.FixtureRequest
) -> None:
    report: AssemblyReport = request.getfixturevalue(name)
    frames = decode_video(report.path)
    expected = len(report.scenes) * CLIP_FRAMES - overlap
    assert abs(len(frames) - expected) <= 1
    assert report.frames == expected and report.duration == pytest.approx(expected / FPS)


@pytest.mark.parametrize("name", ["cuts", "smart", "x264", "fade_title", "mixed"])
def test_audio_as_long_as_video(name: str, request: pytest.FixtureRequest) -> None:
    report: AssemblyReport = request.getfixturevalue(name)
    samples = len(decode_audio(report.path))  # decoded, not the container's claim
    video = len(decode_video(report.path))
    assert abs(samples - video * AUDIO_RATE / FPS) <= AAC_FRAME


@pytest.mark.parametrize("name", ["cuts", "smart", "x264", "fade_title", "mixed"])
def test_decodes_without_errors(name: str, request: pytest.FixtureRequest) -> None:
    report: AssemblyReport = request.getfixturevalue(name)
    assert decode_errors(report.path) == []


# --- pictures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cuts", "smart", "x264"])
def test_every_frame_traces_back_to_its_source(name: str, request: pytest.FixtureRequest) -> None:
    """Outside transitions each output frame is (scene's clip, expected source frame)."""
    report: AssemblyReport = request.getfixturevalue(name)
    frames = decode_video(report.path)
    spans = scene_frames(report)
    busy = {f for a, b in itertools.pairwise(spans) for f in range(b[0], a[1])}
    for clip, (start, end, src) in enumerate(spans):
        for k in range(start, end):
            if k in busy:
                continue
            assert (clip_identity(frames[k]), frame_counter(frames[k])) == (clip, src + k - start)


@pytest.mark.parametrize(
    ("name", "exact"), [("cuts", True), ("smart", False), ("x264", False), ("mixed", False)]
)
def test_mid_scene_frames_match_sources(
    name: str, exact: bool, request: pytest.FixtureRequest, media: dict[str, Path]
) -> None:
    report: AssemblyReport = request.getfixturevalue(name)
    frames = decode_video(report.path)
    for scene, (start, end, src) in zip(report.scenes, scene_frames(report), strict=True):
        source = decode_video(scene.clip)
        if source.shape[1:] != frames.shape[1:]:
            continue  # conformed (scaled) scenes are checked by test_mixed_sizes_are_padded
        mid = (start + end) // 2
        score = psnr(frames[mid], source[src + mid - start])
        assert score == float("inf") if exact else score > PSNR_SAME_FRAME


def test_psnr_threshold_separates_neighbours(smart: AssemblyReport) -> None:
    """Bridge frames (re-encoded) clear the threshold; the neighbouring frame does not."""
    frames = decode_video(smart.path)
    source = decode_video(smart.scenes[1].clip)
    start = round(smart.scenes[1].start * FPS)
    k = start + 55  # in the bridge (s1 from its keyframe 48), before the crossfade at 60
    assert smart.reencoded_frames > 0
    assert psnr(frames[k], source[55]) > PSNR_SAME_FRAME > psnr(frames[k], source[56])


def test_crossfade_midpoint_is_half_and_half(smart: AssemblyReport) -> None:
    frames = decode_video(smart.path)
    start = round(smart.scenes[2].start * FPS)
    mixes = [identity_mix(frames[start + j], 1, 2) for j in range(12)]
    assert mixes == sorted(mixes)  # monotonic dissolve
    assert mixes[6] == pytest.approx(0.5, abs=0.1)


def test_fade_goes_through_black(fade_title: AssemblyReport) -> None:
    frames = decode_video(fade_title.path)
    join = round(fade_title.scenes[1].start * FPS)
    assert frames[join - 1].mean() < 25 and frames[join].mean() < 25
    assert frames[join - 10].mean() > 60 and frames[join + 10].mean() > 60
    audio = decode_audio(fade_title.path)
    at = join * AUDIO_RATE // FPS
    rms = lambda a, b: float(np.sqrt(np.mean(audio[a:b] ** 2)))  # noqa: E731
    assert rms(at - 200, at + 200) < 0.2 * rms(at - 9600, at - 4800)


def _magenta(img: np.ndarray) -> float:
    h, w = img.shape[:2]
    centre = img[h // 3 : 2 * h // 3, w // 4 : 3 * w // 4].astype(int)
    # The texture never has red above 110, so bright magenta can only be the title.
    mask = (centre[..., 0] > 150) & (centre[..., 1] < 120) & (centre[..., 2] > 150)
    return float(mask.mean())


def test_title_shows_only_while_it_should(fade_title: AssemblyReport) -> None:
    frames = decode_video(fade_title.path)
    start = round(fade_title.scenes[2].start * FPS) + 12
    end, fade = start + 24, 5
    for k, frame in enumerate(frames):
        if start + fade <= k < end - fade:
            assert _magenta(frame) > 0.02, k
        elif not start <= k < end:
            assert _magenta(frame) == 0.0, k


def test_mixed_sizes_are_padded(mixed: AssemblyReport) -> None:
    frames = decode_video(mixed.path)
    assert frames.shape[1:3] == (180, 320)
    s1 = round(mixed.scenes[1].start * FPS) + 30  # the 240x180 (4:3) clip: pillarboxed
    assert frames[s1][:, :35].mean() < 20 and frames[s1][:, -35:].mean() < 20
    assert frames[s1][:, 60:260].mean() > 40
    assert clip_identity(frames[s1][:, 40:280]) == 1
    s2 = round(mixed.scenes[2].start * FPS) + 30  # the 640x360 clip: scaled to fit
    assert clip_identity(frames[s2]) == 2 and frames[s2][:, :20].mean() > 40


def test_crop_fills_an_explicit_output_size(assembled: Assembler) -> None:
    output = Output(size=(640, 360), conform="crop")
    report = assembled("crop", ["a0", "small43"], Edit(), output)
    assert report.assembly_path == "full" and report.size == (640, 360)
    frames = decode_video(report.path)
    assert frames.shape[1:3] == (360, 640)
    cropped = frames[72 + 30]  # the 4:3 clip, scaled to 640 wide and cropped: no bars
    assert cropped[:, :20].mean() > 40 and cropped[:, -20:].mean() > 40


# --- A/V sync -----------------------------------------------------------------------------------


def _join_offsets(report: AssemblyReport) -> list[float]:
    """Audio minus picture time of every join (cut: tone switch; crossfade: midpoints)."""
    frames = decode_video(report.path)
    audio = decode_audio(report.path)
    offsets = []
    spans = scene_frames(report)
    for i in range(1, len(spans)):
        prev_end, (start, _, _) = spans[i - 1][1], spans[i]
        if prev_end == start:  # cut: first frame of the new clip's colour
            k = next(k for k in range(start - 5, start + 5) if clip_identity(frames[k]) == i)
            picture = k / FPS
        else:  # crossfade: where the dissolve passes one half, interpolated
            mix = [identity_mix(frames[k], i - 1, i) for k in range(start - 1, prev_end + 1)]
            j = next(j for j in range(len(mix)) if mix[j] >= 0.5)
            frac = (0.5 - mix[j - 1]) / (mix[j] - mix[j - 1])
            picture = (start - 1 + j - 1 + frac) / FPS
        sound = tone_crossing(audio, TONES[i - 1], TONES[i], picture)
        offsets.append(sound - picture)
    return offsets


@pytest.mark.parametrize("name", ["cuts", "smart", "x264", "mixed"])
def test_av_sync_at_every_join(name: str, request: pytest.FixtureRequest) -> None:
    report: AssemblyReport = request.getfixturevalue(name)
    offsets = _join_offsets(report)
    assert len(offsets) == len(report.scenes) - 1
    assert max(abs(o) for o in offsets) < AUDIO_FRAME_S, offsets
    assert abs(offsets[-1] - offsets[0]) < AUDIO_FRAME_S / 2, offsets  # not growing


def test_sync_over_many_joins_does_not_drift(assembled: Assembler) -> None:
    report = assembled("many", ["a0", "a1", "a2", "a3"] * 2, Edit())  # s0..s7, 7 joins
    offsets = _join_offsets_cycle(report)
    assert max(abs(o) for o in offsets) < AUDIO_FRAME_S and np.ptp(offsets) < 0.01, offsets


def _join_offsets_cycle(report: AssemblyReport) -> list[float]:
    audio = decode_audio(report.path)
    frames = decode_video(report.path)
    offsets = []
    for i, (start, _, _) in enumerate(scene_frames(report)[1:], start=1):
        a, b = (i - 1) % 4, i % 4
        k = next(k for k in range(start - 5, start + 5) if clip_identity(frames[k]) == b)
        offsets.append(tone_crossing(audio, TONES[a], TONES[b], k / FPS) - k / FPS)
    return offsets


# --- trims --------------------------------------------------------------------------------------


def test_keyframe_trims_stay_on_stream_copy(assembled: Assembler) -> None:
    edit = Edit(trims={"s1": Trim(**{"in": 1.0, "out": 2.0}), "s2": Trim(**{"out": 2.0})})
    report = assembled("trim-key", ["a0", "a1", "a2"], edit)
    assert report.assembly_path == "stream-copy"
    frames = decode_video(report.path)
    assert len(frames) == 72 + 24 + 48
    assert [frame_counter(frames[k]) for k in (72, 95, 96, 143)] == [24, 47, 0, 47]


def test_off_keyframe_trims_use_smart_render(assembled: Assembler) -> None:
    edit = Edit(trims={"s1": Trim(**{"in": 0.5, "out": 2.25})})
    report = assembled("trim-off", ["a0", "a1", "a2"], edit)
    assert report.assembly_path == "smart" and "trims between keyframes" in report.reason
    frames = decode_video(report.path)
    assert len(frames) == 72 + 42 + 72
    for k in range(72, 114):
        assert (clip_identity(frames[k]), frame_counter(frames[k])) == (1, 12 + k - 72)
    assert max(abs(o) for o in _join_offsets(report)) < AUDIO_FRAME_S


# --- sound --------------------------------------------------------------------------------------


def test_loudness_reaches_target(cuts: AssemblyReport, mixed: AssemblyReport) -> None:
    for report in (cuts, mixed):
        measured = measure_loudness(["-i", str(report.path)])
        assert measured.integrated == pytest.approx(-14.0, abs=1.0)
        assert report.loudness.integrated == pytest.approx(measured.integrated, abs=0.05)
        assert report.loudness.true_peak is not None and report.loudness.true_peak <= -1.0
        assert report.loudness.normalisation == "linear"


def test_peaky_sound_is_limited_on_target(assembled: Assembler) -> None:
    """Tone with loud clicks: a plain gain to -14 LUFS would push the true peak over."""
    report = assembled("peaky", ["peaky", "a1"], Edit())
    assert report.loudness.normalisation == "limited"
    assert report.loudness.before is not None and report.loudness.before < -20
    assert report.loudness.integrated == pytest.approx(-14.0, abs=1.0)
    assert report.loudness.true_peak is not None and report.loudness.true_peak <= -1.0
    assert max(abs(o) for o in _join_offsets(report)) < AUDIO_FRAME_S  # limiter kept sync


def _tone_level(audio: np.ndarray, freq: float, t0: float, t1: float) -> float:
    seg = audio[int(t0 * AUDIO_RATE) : int(t1 * AUDIO_RATE)]
    return float(10 * np.log10(tone_power(seg, freq, 4800, 2400).mean() + 1e-20))


def test_music_ducks_under_generated_sound(assembled: Assembler, media: dict[str, Path]) -> None:
    music = Music(path=str(media["music"]), volume=0.8, fade_in=0, fade_out=0, duck_level=0.25)
    report = assembled("music", ["a0", "mute", "a2"], Edit(music=music))
    audio = decode_audio(report.path)
    ducked = _tone_level(audio, 300.0, 1.0, 2.0)  # under a0's tone
    free = _tone_level(audio, 300.0, 4.0, 5.0)  # s1 has no sound
    assert free - ducked == pytest.approx(-20 * np.log10(0.25), abs=1.5)  # 12 dB
    assert _tone_level(audio, TONES[0], 1.0, 2.0) > ducked  # the scene's own sound stays


def test_sound_off_keeps_only_music(assembled: Assembler, media: dict[str, Path]) -> None:
    music = Music(path=str(media["music"]), fade_in=0.5, fade_out=0.5)
    report = assembled("no-sound", ["a0", "a1"], Edit(sound=False, music=music))
    audio = decode_audio(report.path)
    assert _tone_level(audio, TONES[0], 1.0, 2.0) < _tone_level(audio, 300.0, 1.0, 2.0) - 40
    assert np.abs(audio[:240]).max() < 0.05  # fade-in starts from silence
    assert report.loudness.integrated == pytest.approx(-14.0, abs=1.0)


def test_silent_edit_is_left_alone(assembled: Assembler) -> None:
    report = assembled("silent", ["a0", "a1"], Edit(sound=False))
    assert report.loudness.integrated is None and report.loudness.normalisation == "none"
    assert len(decode_audio(report.path)) == pytest.approx(2 * 3 * AUDIO_RATE, abs=AAC_FRAME)


# --- hand-offs ----------------------------------------------------------------------------------


def test_otio_matches_the_edit(smart: AssemblyReport) -> None:
    timeline = otio.adapters.read_from_file(str(smart.handoffs["otio"]))
    (track,) = timeline.tracks
    clips = list(track.find_clips())
    assert [c.name for c in clips] == ["s0", "s1", "s2", "s3"]
    assert track.duration().to_frames() == smart.frames
    transitions = [t for t in track if isinstance(t, otio.schema.Transition)]
    assert len(transitions) == 1 and transitions[0].duration().to_frames() == 12
    for clip, scene in zip(clips, smart.scenes, strict=True):
        assert clip.media_reference.target_url == scene.clip.resolve().as_uri()
        meta = clip.metadata["storyboard"]
        assert meta["scene_id"] == scene.scene_id and meta["task_id"].startswith("task-")
        assert meta["prompt"].startswith("prompt") and meta["take"] == 1
    assert sum(c.duration().to_frames() for c in clips) == smart.frames


def test_contact_sheet_and_report(smart: AssemblyReport) -> None:
    with Image.open(smart.handoffs["contact_sheet"]) as sheet:
        assert sheet.width > 600 and sheet.height > 300
    data = json.loads(smart.handoffs["report"].read_text())
    assert data["assembly_path"] == "smart" and len(data["scenes"]) == 4
    assert data["loudness"]["integrated_lufs"] == pytest.approx(-14, abs=1)
    assert set(data["timings"]) >= {"probe", "plan", "video", "audio", "mux", "measure"}


def test_progress_is_reported(media: dict[str, Path], tmp_path: Path) -> None:
    from storyboard.edit import EditClip, assemble

    calls: list[tuple[str, float]] = []
    clips = [EditClip(f"s{i}", media[f"a{i}"]) for i in range(2)]
    report = assemble(
        clips,
        Edit(transitions=[crossfade("s0", "s1")]),
        Output(),
        tmp_path / "p.mp4",
        base_dir=tmp_path,
        progress=lambda step, f: calls.append((step, f)),
        handoffs=False,
    )
    steps = [s for s, _ in calls]
    for step in ("probe", "plan", "video", "audio", "mux", "measure"):
        assert step in steps
    assert all(0.0 <= f <= 1.0 for _, f in calls)
    assert report.handoffs == {} and not (tmp_path / "p.otio").exists()
