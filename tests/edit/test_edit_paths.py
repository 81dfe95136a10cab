"""Path choice, keyframe choice and piece planning (pure, no ffmpeg)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from storyboard.edit.clips import ClipInfo, VideoParams
from storyboard.edit.model import Edit, Output, Title, Transition, Trim
from storyboard.edit.paths import (
    CopyPiece,
    RenderPiece,
    busy_ranges,
    choose_path,
    last_boundary_at_or_before,
    next_keyframe,
    plan_pieces,
    split_range,
)
from storyboard.edit.probe import clean_cut_points
from storyboard.edit.timeline import Timeline, resolve_timeline

PARAMS = VideoParams("h264", "High", "yuv420p", 320, 180, 24.0, "12288", "45:0x1")


def info(frames: int = 72, gop: int = 24, params: VideoParams = PARAMS) -> ClipInfo:
    return ClipInfo(Path("/c.mp4"), params, frames, tuple(range(0, frames, gop)), 0.0, True)


def timeline(edit: Edit, infos: list[ClipInfo] | None = None, **output: object) -> Timeline:
    infos = infos or [info(), info(), info()]
    ids = [f"s{i}" for i in range(len(infos))]
    return resolve_timeline(ids, infos, edit, Output(**output))  # type: ignore[arg-type]


def test_keyframe_choice() -> None:
    keys = (0, 24, 48)
    assert next_keyframe(keys, 0) == 0 and next_keyframe(keys, 1) == 24
    assert next_keyframe(keys, 48) == 48 and next_keyframe(keys, 49) is None
    assert last_boundary_at_or_before(keys, 72, 30) == 24
    assert last_boundary_at_or_before(keys, 72, 24) == 24
    assert last_boundary_at_or_before(keys, 72, 72) == 72  # the clip's end is a boundary
    assert last_boundary_at_or_before(keys, 72, 71) == 48


def test_cuts_only_is_stream_copy() -> None:
    infos = [info(), info(), info()]
    choice = choose_path(timeline(Edit(), infos), infos)
    assert choice.path == "stream-copy" and choice.rendered_frames == 0
    assert choice.pieces == (
        CopyPiece(0, 0, 72, 0),
        CopyPiece(1, 0, 72, 72),
        CopyPiece(2, 0, 72, 144),
    )


def test_keyframe_trims_copy_and_other_trims_need_bridges() -> None:
    infos = [info(), info(), info()]
    on_keys = Edit(trims={"s1": Trim(**{"in": 1.0, "out": 2.0})})
    assert choose_path(timeline(on_keys, infos), infos).path == "stream-copy"
    off = Edit(trims={"s1": Trim(**{"in": 0.5, "out": 2.5})})
    tl = timeline(off, infos)
    assert plan_pieces(tl, infos) == (
        CopyPiece(0, 0, 72, 0),
        RenderPiece(72, 84),  # s1 frames 12..23, up to its keyframe at 24
        CopyPiece(1, 24, 48, 84),
        RenderPiece(108, 120),  # s1 frames 48..59 (60 is not a keyframe)
        CopyPiece(2, 0, 72, 120),
    )
    assert choose_path(tl, infos).path == "full"  # no bridge encoder verified
    smart = choose_path(tl, infos, bridge_encoder="test settings")
    assert smart.path == "smart" and "trims between keyframes in s1" in smart.reason


def test_crossfade_bridge_spans_keyframe_to_keyframe() -> None:
    infos = [info(), info(), info()]
    tl = timeline(Edit(transitions=[Transition(between=("s0", "s1"), duration=0.5)]), infos)
    assert busy_ranges(tl) == [(60, 72)]
    choice = choose_path(tl, infos, bridge_encoder="x")
    assert choice.pieces == (
        CopyPiece(0, 0, 48, 0),
        RenderPiece(48, 84),  # s0 from its keyframe 48, the overlap, s1 up to keyframe 24
        CopyPiece(1, 24, 72, 84),
        CopyPiece(2, 0, 72, 132),
    )
    assert choice.rendered_frames == 36


def test_long_gops_make_long_bridges() -> None:
    infos = [info(gop=250), info(gop=250)]
    tl = timeline(Edit(transitions=[Transition(between=("s0", "s1"), type="fade")]), infos)
    choice = choose_path(tl, infos, bridge_encoder="x")
    assert choice.pieces == (RenderPiece(0, 144),)  # one IDR per clip: all re-encoded


def test_titles_need_bridges_only_under_them() -> None:
    infos = [info(), info()]
    tl = timeline(Edit(titles=[Title(text="x", start=3.2, duration=0.5)]), infos)
    pieces = choose_path(tl, infos, bridge_encoder="x").pieces
    assert RenderPiece(72, 96) in pieces and CopyPiece(0, 0, 72, 0) in pieces


def test_mismatched_clips_go_full_with_reasons() -> None:
    big = replace(PARAMS, width=640, height=360)
    infos = [info(), info(params=big)]
    choice = choose_path(timeline(Edit(), infos), infos)
    assert choice.path == "full"
    assert "clips differ in width (320, 640)" in choice.reason
    infos = [info(), info()]
    other_fps = choose_path(timeline(Edit(), infos, fps=30), infos)
    assert other_fps.path == "full" and "frame rate" in other_fps.reason
    off = choose_path(timeline(Edit(), infos), infos, fast_path=False)
    assert off.path == "full" and "fast_path is off" in off.reason


def test_full_render_is_split_into_chunks_of_few_clips() -> None:
    infos = [info() for _ in range(9)]
    ids = [f"s{i}" for i in range(9)]
    xfades = [Transition(between=(a, b), duration=0.5) for a, b in itertools.pairwise(ids)]
    tl = resolve_timeline(ids, infos, Edit(transitions=xfades), Output())
    parts = split_range(tl, 0, tl.total_frames, 4)
    assert parts[0][0] == 0 and parts[-1][1] == tl.total_frames
    for (_, b), (c, _) in itertools.pairwise(parts):
        assert b == c
    for a, b in parts:  # never cut inside a crossfade; at most 4 clips decoded at once
        assert sum(1 for s in tl.scenes if s.start < b and s.end > a) <= 4
        for s in tl.scenes[1:]:
            assert not s.start < a < s.start + s.head.overlap


@given(
    st.lists(st.integers(30, 120), min_size=1, max_size=6),
    st.lists(st.sampled_from(["cut", "crossfade", "fade"]), min_size=5, max_size=5),
    st.lists(st.integers(0, 23), min_size=6, max_size=6),
)
def test_pieces_tile_the_timeline(lengths: list[int], kinds: list[str], ins: list[int]) -> None:
    """Copies and renders cover every output frame exactly once; copies start on keyframes."""
    infos = [info(n) for n in lengths]
    ids = [f"s{i}" for i in range(len(lengths))]
    trims = {
        sid: Trim(**{"in": ins[i] / 24}) for i, sid in enumerate(ids) if lengths[i] - ins[i] > 24
    }
    transitions = [
        Transition(between=(ids[i], ids[i + 1]), type=kinds[i], duration=0.25)  # type: ignore[arg-type]
        for i in range(len(ids) - 1)
    ]
    tl = resolve_timeline(ids, infos, Edit(trims=trims, transitions=transitions), Output())
    pieces = choose_path(tl, infos, bridge_encoder="x").pieces
    cursor = 0
    for p in pieces:
        start = p.out_start
        assert start == cursor
        cursor = p.out_end
        if isinstance(p, CopyPiece):
            assert p.src_in in infos[tl.scenes[p.scene].clip].keyframes
            for a, b in busy_ranges(tl):
                assert p.out_end <= a or p.out_start >= b
    assert cursor == tl.total_frames


# --- GOP-fragment smart render ------------------------------------------------------------------

# x264 defaults, decode order of the first frames (display indices): I0 P4 B2 b1 b3 P8 B6 b5 b7
X264_DECODE_ORDER = (0, 4, 2, 1, 3, 8, 6, 5, 7)


def test_clean_cut_points_close_every_mini_gop() -> None:
    display = tuple(range(9))
    assert clean_cut_points(display, X264_DECODE_ORDER) == (1, 5, 9)
    assert clean_cut_points(display, display) == tuple(range(1, 10))  # no B-frames
    # An open GOP: the second keyframe (4) is decoded before frames displayed ahead of it.
    assert clean_cut_points(tuple(range(6)), (0, 1, 4, 2, 3, 5)) == (1, 2, 5, 6)


def single_idr(frames: int = 72) -> ClipInfo:
    """x264 defaults: one IDR, clean cuts after every mini-GOP of 4 frames."""
    cuts = (1, *range(5, frames, 4), frames)
    return ClipInfo(Path("/c.mp4"), PARAMS, frames, (0,), 0.0, True, cut_points=cuts)


def test_crossfade_on_single_idr_clips_renders_only_a_partial_gop() -> None:
    infos = [single_idr(), single_idr(), single_idr()]
    tl = timeline(Edit(transitions=[Transition(between=("s0", "s1"), duration=0.5)]), infos)
    pieces = plan_pieces(tl, infos)
    # s0 is copied up to the last clean cut before the crossfade (frame 60 starts it):
    # frames 0-56, then 57-59 + 12 crossfade frames + s1's partial GOP 12-71 are rendered.
    assert pieces == (
        CopyPiece(0, 0, 57, 0),
        RenderPiece(57, 132),
        CopyPiece(2, 0, 72, 132),
    )
    rendered = sum(p.frames for p in pieces if isinstance(p, RenderPiece))
    assert rendered <= 2 * 12 + (72 - 12)  # the bound: 2x transition + a partial GOP


def test_copies_start_only_at_keyframes_that_close_the_past() -> None:
    # Keyframe 24 is an open-GOP I-frame (frames 22-23 decode after it): no copy starts there.
    cuts = tuple(c for c in range(1, 73) if c not in (23, 24))
    open_gop = ClipInfo(Path("/c.mp4"), PARAMS, 72, (0, 24, 48), 0.0, True, cut_points=cuts)
    assert open_gop.copy_starts() == (0, 48)
    trimmed = Edit(trims={"s0": Trim(**{"in": 1.0})})
    pieces = plan_pieces(timeline(trimmed, [open_gop, info()]), [open_gop, info()])
    assert isinstance(pieces[0], RenderPiece) and pieces[0].frames == 24


def test_old_probes_without_cut_points_keep_whole_gops() -> None:
    infos = [info(gop=72), info(gop=72)]
    tl = timeline(Edit(transitions=[Transition(between=("s0", "s1"), duration=0.5)]), infos)
    assert plan_pieces(tl, infos) == (RenderPiece(0, 132),)
