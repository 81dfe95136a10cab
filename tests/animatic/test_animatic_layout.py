"""Frame sizes and card geometry (pure, no ffmpeg)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storyboard.providers.animatic import animatic_size
from storyboard.providers.animatic.layout import (
    Box,
    card_layout,
    cover_crop,
    frame_size,
    letterbox,
    size_from_image,
    timeline_boxes,
)
from storyboard.providers.animatic.review import moving_card_area, zoomed_size

from .animatic_helpers import kling_body

SIZES = {
    ("std", "16:9"): (1280, 720),
    ("std", "9:16"): (720, 1280),
    ("std", "1:1"): (720, 720),
    ("pro", "16:9"): (1920, 1080),
    ("pro", "9:16"): (1080, 1920),
    ("pro", "1:1"): (1080, 1080),
}


@pytest.mark.parametrize(("mode_aspect", "size"), SIZES.items())
def test_frame_size(mode_aspect: tuple[str, str], size: tuple[int, int]) -> None:
    assert frame_size(*mode_aspect) == size
    mode, aspect = mode_aspect
    assert animatic_size(kling_body(mode=mode, aspect_ratio=aspect)) == size


def test_animatic_size_defaults_to_pro_square() -> None:
    assert animatic_size({"input": {"prompt": "x", "duration": "5"}}) == (1080, 1080)


def test_first_frame_shape_wins() -> None:
    body = kling_body(mode="pro", aspect_ratio="9:16")
    assert animatic_size(body, (800, 600)) == (1440, 1080)
    assert animatic_size(kling_body(mode="std"), (1000, 1000)) == (720, 720)


def test_bad_body_raises() -> None:
    with pytest.raises(ValueError):
        animatic_size({"model": "kling-3.0/video"})


@given(
    w=st.integers(min_value=1, max_value=8000),
    h=st.integers(min_value=1, max_value=8000),
    mode=st.sampled_from(["std", "pro"]),
)
def test_size_from_image_is_even_with_the_mode_short_side(w: int, h: int, mode: str) -> None:
    width, height = size_from_image(mode, (w, h))
    assert width % 2 == 0 and height % 2 == 0
    assert min(width, height) == (720 if mode == "std" else 1080)
    assert max(width, height) <= 2.5 * min(width, height) + 2


def test_size_from_odd_image() -> None:
    assert size_from_image("std", (1001, 999)) == (722, 720)


def test_letterbox_centres() -> None:
    assert letterbox((100, 100), (1920, 1080)) == Box(420, 0, 1080, 1080)
    assert letterbox((1600, 900), (1920, 1080)) == Box(0, 0, 1920, 1080)


def test_cover_crop_takes_the_middle() -> None:
    assert cover_crop((400, 200), (100, 100)) == Box(100, 0, 200, 200)
    assert cover_crop((200, 400), (100, 100)) == Box(0, 100, 200, 200)


def _inside(box: Box, size: tuple[int, int]) -> bool:
    return box.x >= 0 and box.y >= 0 and box.right <= size[0] and box.bottom <= size[1]


@pytest.mark.parametrize("size", SIZES.values())
@pytest.mark.parametrize("tiles", [0, 1, 3, 12])
def test_card_layout_fits_the_frame_without_overlaps(size: tuple[int, int], tiles: int) -> None:
    layout = card_layout(size, [100.0] * tiles)
    stack = [layout.header, layout.prompt_panel, *(s.tile for s in layout.tiles), layout.timeline]
    assert all(_inside(box, size) for box in stack)
    assert layout.header.bottom < layout.prompt_panel.y
    assert layout.prompt_panel.bottom < (
        layout.tiles[0].tile.y if layout.tiles else layout.timeline.y
    )
    assert layout.prompt.w > size[0] / 2 and layout.prompt.h > size[1] / 4
    assert 1 <= len(layout.tiles) <= tiles or tiles == 0
    xs = [s.tile.x for s in layout.tiles]
    assert xs == sorted(xs)


@pytest.mark.parametrize("size", SIZES.values())
@pytest.mark.parametrize("tiles", [0, 3, 12])
def test_a_moving_card_is_laid_out_inside_its_area(size: tuple[int, int], tiles: int) -> None:
    area = moving_card_area(size)
    layout = card_layout(size, [100.0] * tiles, area)
    stack = [layout.header, layout.prompt_panel, *(s.tile for s in layout.tiles), layout.timeline]
    assert all(_inside(Box(b.x - area.x, b.y - area.y, b.w, b.h), (area.w, area.h)) for b in stack)
    assert layout.header.bottom < layout.prompt_panel.y and layout.prompt.h > size[1] / 8
    assert card_layout(size, [100.0] * tiles, Box(0, 0, *size)) == card_layout(
        size, [100.0] * tiles
    )


@pytest.mark.parametrize("size", SIZES.values())
def test_moving_card_area_is_inside_every_window_a_move_crops(size: tuple[int, int]) -> None:
    w, h = size
    big_w, big_h = zoomed_size(size)
    area = moving_card_area(size)
    for fx in (0.0, 0.5, 1.0):
        for fy in (0.0, 0.5, 1.0):  # the window's place along the free margin
            ox, oy = fx * (big_w - w), fy * (big_h - h)
            # the area's corners on screen, as the scaled-up card is cropped there
            left, top = area.x * big_w / w - ox, area.y * big_h / h - oy
            right, bottom = area.right * big_w / w - ox, area.bottom * big_h / h - oy
            assert left >= 0 and right <= w and bottom <= h
            assert top >= 0.1 * h  # below the burn-ins' band


def test_tile_slots_widen_for_long_captions() -> None:
    layout = card_layout((1920, 1080), [40.0, 300.0, 40.0])
    first, second, third = layout.tiles
    assert second.caption_width == 300
    assert third.tile.x - second.tile.x > second.tile.x - first.tile.x


def test_timeline_segments_are_proportional_and_fill_the_bar() -> None:
    bar = Box(10, 100, 1000, 8)
    boxes = timeline_boxes([24, 48, 24], bar, gap=0)
    assert [b.w for b in boxes] == [250, 500, 250]
    assert boxes[0].x == bar.x and boxes[-1].right == bar.right
