"""Timeline resolution (pure, no ffmpeg)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storyboard.edit.clips import ClipInfo, VideoParams
from storyboard.edit.errors import EditError
from storyboard.edit.model import Edit, Output, Title, Transition, Trim
from storyboard.edit.timeline import Join, resolve_timeline


def info(frames: int = 72, fps: float = 24.0, size: tuple[int, int] = (320, 180)) -> ClipInfo:
    params = VideoParams("h264", "High", "yuv420p", size[0], size[1], fps, "12288", "45:0x1")
    keys = tuple(range(0, frames, 24))
    return ClipInfo(Path("/c.mp4"), params, frames, keys, 0.0, True)


IDS = ["a", "b", "c"]
INFOS = [info(), info(96), info(48)]


def test_cuts_only_places_scenes_back_to_back() -> None:
    tl = resolve_timeline(IDS, INFOS, Edit(), Output())
    assert [(s.start, s.frames) for s in tl.scenes] == [(0, 72), (72, 96), (168, 48)]
    assert tl.total_frames == 216 and tl.duration == 9.0
    assert (tl.width, tl.height) == (320, 180)


def test_crossfade_overlaps_and_fade_does_not() -> None:
    edit = Edit(
        transitions=[
            Transition(between=("a", "b"), type="crossfade", duration=0.5),
            Transition(between=("b", "c"), type="fade", duration=0.5),
        ]
    )
    tl = resolve_timeline(IDS, INFOS, edit, Output())
    a, b, c = tl.scenes
    assert b.start == a.end - 12 and c.start == b.end
    assert tl.total_frames == 72 + 96 + 48 - 12
    assert b.tail == Join("fade", 12) and b.tail.fade_out == 6 and c.head.fade_in == 6
    assert a.tail_busy == 12 and b.head_busy == 12 and b.tail_busy == 6


def test_order_trims_and_titles() -> None:
    edit = Edit(
        order=["c", "a"],
        trims={"a": Trim(**{"in": 1.0, "out": 2.5})},
        titles=[Title(text="T", start=0.5, duration=1, scene="a"), Title(text="U", start=0)],
    )
    tl = resolve_timeline(IDS, INFOS, edit, Output())
    c, a = tl.scenes
    assert (c.scene_id, a.scene_id) == ("c", "a")
    assert (a.src_in, a.src_out, a.start, a.frames) == (24, 60, 48, 36)
    t, u = tl.titles
    assert (t.start, t.end) == (48 + 12, 48 + 36) and (u.start, u.end) == (0, 72)


def test_title_is_clamped_to_the_edit() -> None:
    tl = resolve_timeline(
        ["a"], [info()], Edit(titles=[Title(text="x", start=2, duration=5)]), Output()
    )
    assert (tl.titles[0].start, tl.titles[0].end) == (48, 72)


def test_all_problems_reported_at_once() -> None:
    edit = Edit(
        order=["a", "zz", "b"],
        trims={"nope": Trim(), "b": Trim(**{"in": 5.0})},
        transitions=[
            Transition(between=("a", "c"), type="crossfade"),
            Transition(between=("a", "b"), type="crossfade", duration=4.0),
        ],
        titles=[Title(text="x", scene="ghost"), Title(text="late", start=100)],
    )
    with pytest.raises(EditError) as exc:
        resolve_timeline(IDS, INFOS, edit, Output())
    text = str(exc.value)
    for needle in ("edit.order[1]", "edit.trims.nope", "edit.trims.b", "not in edit.order"):
        assert needle in text
    assert len(exc.value.problems) == 4


def test_transitions_longer_than_scene_and_second_pass_problems() -> None:
    edit = Edit(
        transitions=[Transition(between=("a", "b"), type="crossfade", duration=4.0)],
        titles=[Title(text="x", scene="ghost"), Title(text="late", start=100)],
    )
    with pytest.raises(EditError) as exc:
        resolve_timeline(IDS, INFOS, edit, Output())
    assert len(exc.value.problems) == 3  # a too short (b has 96 frames), ghost scene, late title


def test_output_size_and_fps_conversion() -> None:
    tl = resolve_timeline(
        ["a"], [info(fps=30.0, frames=90)], Edit(), Output(fps=24, size=(640, 360))
    )
    assert tl.scenes[0].frames == 72 and (tl.width, tl.height) == (640, 360)
    with pytest.raises(EditError, match="even"):  # a clip of odd size, no output.size
        resolve_timeline(["a"], [info(size=(641, 360))], Edit(), Output())
    with pytest.raises(ValueError, match="even"):  # an explicit odd size: the model refuses
        Output(size=(641, 360))


@given(
    st.lists(st.integers(24, 200), min_size=1, max_size=6),
    st.lists(st.sampled_from(["cut", "crossfade", "fade"]), min_size=5, max_size=5),
    st.floats(0.05, 0.5),  # two transitions of <= 12 frames fit the shortest (24-frame) scene
)
def test_duration_is_sum_minus_overlaps(lengths: list[int], kinds: list[str], d: float) -> None:
    ids = [f"s{i}" for i in range(len(lengths))]
    transitions = [
        Transition(between=(ids[i], ids[i + 1]), type=kinds[i], duration=d)  # type: ignore[arg-type]
        for i in range(len(ids) - 1)
    ]
    tl = resolve_timeline(ids, [info(n) for n in lengths], Edit(transitions=transitions), Output())
    overlaps = sum(j.overlap for j in tl.joins)
    assert tl.total_frames == sum(lengths) - overlaps
    for prev, nxt in zip(tl.scenes, tl.scenes[1:], strict=False):
        assert nxt.start == prev.end - prev.tail.overlap
