"""Drawing stills and fetching assets (Pillow only, no ffmpeg)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageChops

from storyboard.providers.animatic.assets import AssetCache, decode_image, read_local_asset
from storyboard.providers.animatic.cards import CardContent, Tile, draw_card, draw_picture
from storyboard.providers.animatic.timing import ShotTiming

from .animatic_helpers import close, png_bytes

SIZE = (640, 360)


def content(
    index: int = 0, prompt: str = "A fox @fox", tiles: tuple[Tile, ...] = ()
) -> CardContent:
    shot = ShotTiming(index=index, count=2, start=72 * index, end=72 * (index + 1))
    return CardContent(
        prompt=prompt,
        shot=shot,
        shot_frames=[72, 72],
        label="scene-1",
        tiles=tiles,
        element_names=frozenset({"fox"}),
    )


def test_card_has_the_frame_size_and_is_deterministic() -> None:
    first, again = draw_card(SIZE, content()), draw_card(SIZE, content())
    assert first.size == SIZE and first.mode == "RGB"
    assert first.tobytes() == again.tobytes()


def test_cards_of_different_shots_differ() -> None:
    one, two = draw_card(SIZE, content(0)), draw_card(SIZE, content(1))
    assert ImageChops.difference(one, two).getbbox() is not None


def test_prompt_text_is_drawn() -> None:
    empty, worded = draw_card(SIZE, content(prompt="")), draw_card(SIZE, content(prompt="Hello"))
    assert ImageChops.difference(empty, worded).getbbox() is not None


def test_tile_shows_the_element_image() -> None:
    orange = Image.new("RGB", (200, 200), (240, 150, 20))
    card = draw_card((1280, 720), content(tiles=(Tile("fox", orange),)))
    tiles = [(x, y) for x in range(0, 400, 4) for y in range(400, 680, 4)]
    assert any(close(card.getpixel(xy), (240, 150, 20), 2) for xy in tiles)  # type: ignore[arg-type]


def test_video_and_missing_tiles_are_placeholders() -> None:
    tiles = (Tile("fox", None, is_video=True), Tile("owl"), *(Tile(f"e{i}") for i in range(20)))
    card = draw_card(SIZE, content(tiles=tiles))
    assert card.size == SIZE


def test_picture_is_letterboxed_with_a_caption() -> None:
    picture = Image.new("RGB", (100, 100), (200, 30, 30))
    still = draw_picture((640, 360), picture, "scene-1 · shot 1/1 · first frame")
    assert close(still.getpixel((320, 150)), (200, 30, 30), 0)  # type: ignore[arg-type]
    assert still.getpixel((40, 150)) == (0, 0, 0)
    assert still.getpixel((320, 358)) != (200, 30, 30)  # the caption strip


def test_decode_image_flattens_and_rejects_junk() -> None:
    rgba = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    data = io.BytesIO()
    rgba.save(data, format="PNG")
    decoded = decode_image(data.getvalue())
    assert decoded is not None and decoded.mode == "RGB"
    assert decoded.getpixel((0, 0)) != (255, 0, 0)
    assert decode_image(b"junk") is None


def test_decode_image_shrinks_to_max_side() -> None:
    image = decode_image(png_bytes((800, 400), (1, 2, 3)), max_side=100)
    assert image is not None and image.size == (100, 50)


def test_read_local_asset(tmp_path: Path) -> None:
    path = tmp_path / "a b.png"
    path.write_bytes(b"data")
    assert read_local_asset(str(path)) == b"data"
    assert read_local_asset(path.as_uri()) == b"data"
    assert read_local_asset(str(tmp_path / "missing.png")) is None
    assert read_local_asset("https://example.com/a.png") is None


def test_asset_cache_fetches_once_and_survives_a_failing_fetcher() -> None:
    calls: list[str] = []

    def fetch(url: str) -> bytes | None:
        calls.append(url)
        if url == "boom":
            raise ConnectionError("network down")
        return png_bytes((4, 4), (9, 9, 9))

    cache = AssetCache(fetch)
    assert cache.image("a") is not None
    assert cache.image("a") is not None
    assert cache.image("boom") is None
    assert cache.image(None) is None
    assert calls == ["a", "boom"]
