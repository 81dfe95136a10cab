"""Designed titles: inside the title-safe area, never over another burned-in element, and
real glyphs for Japanese when a CJK font is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from storyboard.edit import EditClip, assemble
from storyboard.edit.clips import SpokenLine
from storyboard.edit.fonts import choose_font, missing_glyphs
from storyboard.edit.layout import Box, Overlay, box_detail, detail_map, place_overlays, safe_area
from storyboard.edit.model import Edit, Output, Subtitles, Title
from storyboard.edit.probe import probe_clips
from storyboard.edit.subtitles import subtitle_cues
from storyboard.edit.timeline import resolve_timeline
from storyboard.edit.titles import (
    burn_in,
    picture_at,
    render_overlays,
    render_title,
    subtitles_from,
)

from .edit_media import decode_video

SIZE = (640, 360)


def test_layout_keeps_clear_of_subtitles_inside_the_safe_area() -> None:
    safe = safe_area((1920, 1080))
    assert safe == Box(96, 54, 1728, 972)
    items = [
        Overlay(0, "lower_third", (600, 160), 0, 48),
        Overlay(1, "subtitle", (1400, 200), 24, 72),  # two lines, under the lower-third
        Overlay(2, "center", (900, 140), 0, 48),
        Overlay(3, "end_card", (1000, 180), 100, 150),
    ]
    boxes, crowded = place_overlays(items, (1920, 1080))
    assert not crowded
    assert all(b.inside(safe) for b in boxes.values())
    assert not boxes[0].overlaps(boxes[1]) and boxes[0].bottom <= boxes[1].y
    assert boxes[1].bottom == safe.bottom  # subtitles keep their place
    alone, _ = place_overlays([items[0]], (1920, 1080))
    assert alone[0].y > boxes[0].y  # the lower-third rose only because of the subtitle


@pytest.fixture(scope="module")
def designed(media: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("titles")
    clips = [
        EditClip(
            "s0",
            media["a0"],
            dialogue=(SpokenLine(0.5, 3.0, "Two lines of dialogue that wrap under the name band"),),
        ),
        EditClip("s1", media["a1"]),
        EditClip("s2", media["a2"], dialogue=(SpokenLine(0.0, 2.0, "The end is near."),)),
    ]
    titles = [
        Title(text="A Long Main Title That Must Still Fit", start=0.0, duration=1.5),
        Title(
            text="Mika Tanaka\nKeeper of the light", start=0.5, duration=2.5, style="lower_third"
        ),
        Title(text="The End", start=6.5, duration=2.0, style="end_card"),
    ]
    output = Output(size=SIZE)
    subs = Subtitles(burn_in=True)
    plain = assemble(clips, Edit(), output, root / "plain.mp4", base_dir=root, handoffs=False)
    done = assemble(
        clips,
        Edit(titles=titles, subtitles=subs),
        output,
        root / "t.mp4",
        base_dir=root,
        handoffs=False,
    )
    # the same layout the render used, from the same public steps
    infos = probe_clips([c.path for c in clips])
    timeline = resolve_timeline([c.scene_id for c in clips], infos, Edit(titles=titles), output)
    burned = burn_in(timeline, subtitle_cues(timeline, clips), subs)
    work = root / "layout"
    work.mkdir()
    overlays = render_overlays(burned, subtitles_from(timeline), subs, root, work, infos)
    return {
        "plain": plain,
        "done": done,
        "timeline": burned,
        "boxes": overlays.boxes,
        "infos": infos,
    }


def test_frames_show_titles_inside_safe_area_and_apart(designed: dict[str, object]) -> None:
    plain = decode_video(designed["plain"].path).astype(np.int16)  # type: ignore[attr-defined]
    done = decode_video(designed["done"].path).astype(np.int16)  # type: ignore[attr-defined]
    timeline, boxes = designed["timeline"], designed["boxes"]
    safe = safe_area(SIZE)
    for span in timeline.titles[:3]:  # type: ignore[attr-defined]
        mid = (span.start + span.end) // 2
        changed = np.abs(done[mid] - plain[mid]).max(axis=2) > 40
        active = [k for k, s in ((s.index, s) for s in timeline.titles) if s.start <= mid < s.end]  # type: ignore[attr-defined]
        allowed = np.zeros(changed.shape, bool)
        for key in active:
            b = boxes[key]  # type: ignore[index]
            assert b.inside(safe)
            allowed[max(0, b.y - 2) : b.bottom + 2, max(0, b.x - 2) : b.right + 2] = True
            assert changed[b.y : b.bottom, b.x : b.right].mean() > 0.05, f"title {key} not drawn"
        assert not (changed & ~allowed).any(), "pixels changed outside the placed boxes"
        for a in active:
            for b in active:
                if a < b:
                    assert not boxes[a].overlaps(boxes[b])  # type: ignore[index]
        ys, xs = np.nonzero(changed)
        assert ys.min() >= safe.y - 2 and ys.max() < safe.bottom + 2
        assert xs.min() >= safe.x - 2 and xs.max() < safe.right + 2


def test_titles_go_where_the_picture_is_quiet() -> None:
    frame = (640, 360)
    busy = np.zeros((360, 640, 3), np.uint8)
    rng = np.random.default_rng(1)
    busy[140:220] = rng.integers(0, 255, (80, 640, 3))  # a busy band through the middle
    busy[250:340, :320] = rng.integers(0, 255, (90, 320, 3))  # and the bottom left
    detail = detail_map(busy)
    items = [Overlay(0, "center", (300, 50), 0, 24), Overlay(1, "lower_third", (180, 40), 0, 24)]
    boxes, _ = place_overlays(items, frame, {0: detail, 1: detail})
    plain, _ = place_overlays(items, frame)
    assert box_detail(detail, boxes[0], frame) < 0.05 < box_detail(detail, plain[0], frame)
    assert boxes[1].x > 320 and boxes[1].bottom == plain[1].bottom  # moved to the right
    even = np.full((360, 640, 3), 90, np.uint8)
    kept, _ = place_overlays(items, frame, {0: detail_map(even), 1: detail_map(even)})
    assert kept == plain  # an even picture keeps the preferred places


def test_picture_at_is_the_frame_on_screen(designed: dict[str, object]) -> None:
    from .edit_media import COLOURS

    timeline, infos = designed["timeline"], designed["infos"]
    for frame, clip in ((10, 0), (100, 1), (200, 2)):
        rgb = picture_at(timeline, infos, frame)  # type: ignore[arg-type]
        assert rgb is not None
        h, w = rgb.shape[:2]
        block = rgb[h // 12 : h // 4, int(w * 0.15) : int(w * 0.22)].reshape(-1, 3).mean(axis=0)
        assert np.abs(block - np.array(COLOURS[clip])).sum() < 60


def _has_cjk_font() -> str | None:
    if shutil.which("fc-list") is None:
        return "fontconfig is not installed"
    listed = subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True).stdout
    return None if listed.strip() else "no CJK font installed (apt-get install fonts-noto-cjk)"


def test_japanese_title_renders_real_glyphs(tmp_path: Path) -> None:
    reason = _has_cjk_font()
    if reason:
        pytest.skip(reason)
    text = "灯台守の物語"
    choice = choose_font(text, None, tmp_path)
    assert choice.path is not None and choice.missing == ""
    assert missing_glyphs(None, text) == text  # Pillow's own font would draw boxes
    warnings: list[str] = []
    image = np.asarray(render_title(Title(text=text), (1280, 720), tmp_path, warnings))
    assert not warnings
    assert (image[..., 3] > 200).mean() > 0.05
    font = choice.load(48)
    masks = {bytes(font.getmask(c)) for c in text}
    assert len(masks) == len(text)  # six different glyphs, not six missing-glyph boxes


def test_no_font_with_the_glyphs_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storyboard.edit.fonts.fontconfig_fonts", lambda text, family="": ())
    warnings: list[str] = []
    render_title(Title(text="灯台"), (640, 360), tmp_path, warnings)
    (warning,) = warnings
    assert "'灯台'" in warning and "fonts-noto-cjk" in warning and "font:" in warning


def test_a_font_file_that_is_missing_is_a_clear_error(tmp_path: Path) -> None:
    from storyboard.edit import AssemblyError

    with pytest.raises(AssemblyError, match=r"cannot load font .*nope\.ttf"):
        render_title(Title(text="x", font="nope.ttf"), (640, 360), tmp_path)


HOSTILE = """\
storyboard: 1
title: Hostile
scenes:
  - id: one
    shots: [{prompt: "A hall", duration: 3}]
edit:
  titles:
    - {text: %s, style: %s}
  subtitles: {size: %s, font: missing.ttf}
  exports: %s
"""


@pytest.mark.parametrize(
    ("values", "line", "field", "message"),
    [
        (('"' + "x" * 5000 + '"', "center", "0.05", "[]"), 8, "edit.titles[0].text", "at most 500"),
        (('"   "', "center", "0.05", "[]"), 8, "edit.titles[0].text", "visible text"),
        (("[1]", "center", "0.05", "[]"), 8, "edit.titles[0].text", "valid string"),
        (("T", "marquee", "0.05", "[]"), 8, "edit.titles[0].style", "'end_card'"),
        (("T", "center", "5", "[]"), 9, "edit.subtitles.size", "less than or equal to 0.12"),
        (("T", "center", "0.05", "[otio, otio]"), 10, "edit.exports", "listed twice: otio"),
        (
            ("T", "center", "0.05", "[edl, edl, edl, edl, edl, edl]"),
            10,
            "edit.exports",
            "at most 5",
        ),
        (("T", "center", "0.05", "edl"), 10, "edit.exports", "valid list"),
        (("T", "center", "0.05", "[]"), 9, "edit.subtitles.font", "missing.ttf"),
    ],
)
def test_hostile_title_subtitle_and_export_fields(
    write_storyboard: object, values: tuple[str, ...], line: int, field: str, message: str
) -> None:
    from typer.testing import CliRunner

    from storyboard.cli import app

    board = write_storyboard(HOSTILE % values)  # type: ignore[operator]
    result = CliRunner().invoke(app, ["validate", str(board)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    hits = [x for x in result.output.splitlines() if f"storyboard.yaml:{line}:" in x and field in x]
    assert hits and message in " ".join(hits), result.output


def test_vertical_frames_keep_plates_inside_the_safe_area(tmp_path: Path) -> None:
    frame = (720, 1280)
    safe = safe_area(frame)
    wide = render_title(Title(text="A Very Long Title For A Phone"), frame, tmp_path)
    assert wide.width <= safe.w and wide.height < 0.2 * 720
    band = render_title(Title(text="Mika Tanaka", style="lower_third"), frame, tmp_path)
    landscape = render_title(Title(text="Mika Tanaka", style="lower_third"), (1280, 720), tmp_path)
    assert band.size == landscape.size  # sized by the short side


def test_missing_glyphs_reach_the_report(
    media: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storyboard.edit.fonts.fontconfig_fonts", lambda text, family="": ())
    edit = Edit(titles=[Title(text="灯台", duration=1.0)])
    report = assemble(
        [EditClip("s0", media["a0"])],
        edit,
        Output(),
        tmp_path / "w.mp4",
        base_dir=tmp_path,
        handoffs=False,
    )
    (warning,) = report.warnings
    assert "灯台" in warning and report.to_json()["warnings"] == [warning]
