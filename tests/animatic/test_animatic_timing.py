"""Shot timing on the 24 fps frame grid (pure, no ffmpeg)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storyboard.providers.animatic.spec import parse_body
from storyboard.providers.animatic.timing import (
    StillKind,
    format_timing,
    last_frame_frames,
    plan_stills,
    shot_frame_counts,
    shot_timings,
)

from .animatic_helpers import kling_body


def test_matching_durations_are_kept_exactly() -> None:
    assert shot_frame_counts([2, 3, 5], 240) == [48, 72, 120]


def test_too_long_shots_are_scaled_down() -> None:
    assert shot_frame_counts([3, 3], 120) == [60, 60]


def test_too_short_shots_are_scaled_up() -> None:
    assert shot_frame_counts([1, 1, 1], 15 * 24) == [120, 120, 120]


def test_rounding_goes_to_the_largest_remainders() -> None:
    assert shot_frame_counts([1, 1, 1], 100) == [34, 33, 33]


@given(
    seconds=st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=8),
    total_seconds=st.integers(min_value=3, max_value=15),
)
def test_counts_always_add_up_and_stay_proportional(seconds: list[int], total_seconds: int) -> None:
    total = total_seconds * 24
    counts = shot_frame_counts(seconds, total)
    assert sum(counts) == total
    assert all(c >= 1 for c in counts)
    for want, got in zip(seconds, counts, strict=True):
        assert abs(got - want * total / sum(seconds)) <= 1.0 + len(seconds)


def test_no_shots_is_an_error() -> None:
    with pytest.raises(ValueError):
        shot_frame_counts([], 72)


def test_shot_timings_are_contiguous() -> None:
    shots = [{"prompt": "a", "duration": 2}, {"prompt": "b", "duration": 3}]
    spec = parse_body(kling_body(multi_shots=True, duration="5", multi_prompt=shots))
    timings = shot_timings(spec)
    assert [(t.start, t.end, t.count) for t in timings] == [(0, 48, 2), (48, 120, 2)]


def test_plan_first_frame_then_cards() -> None:
    shots = [{"prompt": "a", "duration": 2}, {"prompt": "b", "duration": 3}]
    spec = parse_body(kling_body(multi_shots=True, duration="5", multi_prompt=shots))
    stills = plan_stills(spec, has_first_frame=True, has_last_frame=True)
    assert [(s.kind, s.shot.index, s.frames) for s in stills] == [
        (StillKind.FIRST_FRAME, 0, 48),
        (StillKind.CARD, 1, 72),
    ]


def test_plan_single_shot_with_last_frame_ends_on_it() -> None:
    spec = parse_body(kling_body(duration="8"))
    stills = plan_stills(spec, has_first_frame=False, has_last_frame=True)
    assert [(s.kind, s.frames) for s in stills] == [
        (StillKind.CARD, 144),
        (StillKind.LAST_FRAME, 48),
    ]
    assert sum(s.frames for s in stills) == 8 * 24


@pytest.mark.parametrize(("shot", "held"), [(72, 24), (192, 48), (360, 48), (2, 1), (1, 0)])
def test_last_frame_hold(shot: int, held: int) -> None:
    assert last_frame_frames(shot) == held


def test_format_timing() -> None:
    assert format_timing(0, 72) == "0.0–3.0 s"
    assert format_timing(60, 120) == "2.5–5.0 s"
