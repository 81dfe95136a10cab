"""Editor exports: each one re-read through its own OpenTimelineIO adapter equals the edit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest
from PIL import Image
from typer.testing import CliRunner

from storyboard.cli import app
from storyboard.edit import AssemblyReport, EditClip, assemble
from storyboard.edit.clips import SpokenLine
from storyboard.edit.exports import EXPORTS
from storyboard.edit.model import Edit, Music, Output, Overlay, Title, Transition, Trim

READERS = {fmt: spec.adapter for fmt, spec in EXPORTS.items()}


@pytest.fixture(scope="module")
def exported(media: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> AssemblyReport:
    out = tmp_path_factory.mktemp("exports") / "film.mp4"
    clips = [
        EditClip(
            "s0",
            media["a0"],
            prompt="a red room",
            task_id="task-0",
            take=2,
            dialogue=(SpokenLine(0.0, 3.0, "First line."),),
        ),
        EditClip("s1", media["a1"], prompt="a green room", task_id="task-1"),
        EditClip(
            "s2",
            media["a2"],
            prompt="a blue room",
            task_id="task-2",
            dialogue=(SpokenLine(1.0, 3.0, "Third line."),),
        ),
    ]
    edit = Edit(
        transitions=[
            Transition(between=("s0", "s1"), type="crossfade", duration=0.5),
            Transition(between=("s1", "s2"), type="fade", duration=0.5),
        ],
        trims={"s1": Trim(start=0.5, end=2.5)},
        titles=[Title(text="Opening", start=0.2, duration=1.0)],
        music=Music(path=str(media["music"])),
        exports=["fcp7xml", "fcpxml", "edl", "aaf", "otio"],
    )
    return assemble(clips, edit, Output(), out, base_dir=out.parent)


def _expected(report: AssemblyReport) -> list[tuple[str, int, int, int]]:
    """(scene, first source frame, first output frame, frames) of every scene of the edit."""
    fps = report.fps
    return [
        (s.scene_id, round(s.source_in * fps), round(s.start * fps), round((s.end - s.start) * fps))
        for s in report.scenes
    ]


def _full_uses(track: Any) -> list[tuple[str, int, int, int]]:
    """Each clip with the frames its transitions borrow added back: the scenes' own spans."""
    dissolve = otio.schema.TransitionTypes.SMPTE_Dissolve
    items = [
        i
        for i in track
        if not isinstance(i, otio.schema.Transition) or i.transition_type == dissolve
    ]
    uses = []
    for i, item in enumerate(items):
        if not isinstance(item, otio.schema.Clip):
            continue
        prev = items[i - 1] if i and isinstance(items[i - 1], otio.schema.Transition) else None
        nxt = items[i + 1] if i + 1 < len(items) else None
        nxt = nxt if isinstance(nxt, otio.schema.Transition) else None
        before = prev.in_offset.to_frames() if prev else 0
        after = nxt.out_offset.to_frames() if nxt else 0
        src = item.source_range.start_time.to_frames() - before
        rec = item.range_in_parent().start_time.to_frames() - before
        uses.append((item.name, src, rec, item.duration().to_frames() + before + after))
    return uses


def _cut_list(track: Any) -> list[tuple[str, int, int, int]]:
    return [
        (
            c.name,
            c.source_range.start_time.to_frames(),
            c.range_in_parent().start_time.to_frames(),
            c.duration().to_frames(),
        )
        for c in track.find_clips()
    ]


def _read(path: Path, fmt: str) -> Any:
    timeline = otio.adapters.read_from_file(str(path), adapter_name=READERS[fmt])  # type: ignore[index]
    if isinstance(timeline, otio.schema.Timeline):
        return timeline
    (found,) = timeline.find_children(descended_from_type=otio.schema.Timeline)
    return found


def _picture(timeline: Any) -> Any:
    tracks = [t for t in timeline.video_tracks() if t.find_clips()]
    return next(t for t in tracks if t.find_clips()[0].name == "s0")


@pytest.mark.parametrize("fmt", ["fcp7xml", "edl", "aaf", "otio"])
def test_export_rereads_as_the_edit(exported: AssemblyReport, fmt: str) -> None:
    path = exported.handoffs[f"export_{fmt}"]
    assert path.is_file() and path.stat().st_size > 200
    picture = _picture(_read(path, fmt))
    assert _full_uses(picture) == _expected(exported)  # clips, in/out points, order: ±0 frames


def test_fcpxml_keeps_the_cut_list(exported: AssemblyReport) -> None:
    """The FCP X adapter writes no transitions: each clip runs to the dissolve's middle."""
    picture = _picture(_read(exported.handoffs["export_fcpxml"], "fcpxml"))
    assert [c[0] for c in _cut_list(picture)] == ["s0", "s1", "s2"]
    s0, s1, s2 = _cut_list(picture)
    assert s0 == ("s0", 0, 0, 72 - 6) and s1 == ("s1", 12 + 6, 66, 48 - 6)
    assert s2 == ("s2", 0, 72 - 12 + 48, 72)
    clip = picture.find_clips()[0]
    assert clip.media_reference.metadata["fcpx"]["note"] == "a red room"


def test_fcp7_xml_keeps_sources_titles_subtitles_and_notes(
    exported: AssemblyReport, media: dict[str, Path]
) -> None:
    timeline = _read(exported.handoffs["export_fcp7xml"], "fcp7xml")
    sample = timeline.metadata["fcp_xml"]["media"]["video"]["format"]["samplecharacteristics"]
    assert (sample["width"], sample["height"], sample["rate"]["timebase"]) == ("320", "180", "24")
    clips = _picture(timeline).find_clips()
    sources = [otio.url_utils.filepath_from_url(c.media_reference.target_url) for c in clips]
    assert sources == [str(media[k].resolve()) for k in ("a0", "a1", "a2")]
    log = clips[0].metadata["fcp_xml"]["logginginfo"]
    assert log["scene"] == "s0" and log["shottake"] == "2" and log["lognote"] == "a red room"
    assert log["description"] == "task task-0"
    texts = {c.name: c.range_in_parent() for t in timeline.video_tracks() for c in t.find_clips()}
    assert texts["Opening"].start_time.to_frames() == round(0.2 * 24)
    assert texts["Opening"].duration.to_frames() == 24
    assert "First line." in texts and "Third line." in texts
    music = [c for t in timeline.audio_tracks() for c in t.find_clips() if c.name == "music.wav"]
    assert music and music[0].duration().to_frames() == exported.frames


def test_edl_passes_the_cmx_reader_with_notes_and_markers(exported: AssemblyReport) -> None:
    text = exported.handoffs["export_edl"].read_text()
    assert "* STORYBOARD SCENE: s0  TAKE: 2  TASK: task-0" in text
    timeline = otio.adapters.read_from_file(str(exported.handoffs["export_edl"]), "cmx_3600")
    markers = [m.name for c in timeline.find_clips() for m in c.markers]
    assert "OPENING" in markers and "FIRST LINE." in markers
    urls = [c.media_reference.target_url for c in timeline.find_clips()]
    assert all(not u.startswith(("/", "file:")) for u in urls)  # relative to the EDL


def test_aaf_carries_user_comments_and_sound(exported: AssemblyReport) -> None:
    timeline = _read(exported.handoffs["export_aaf"], "aaf")
    comments = _picture(timeline).find_clips()[0].metadata["AAF"]["UserComments"]
    assert comments["Scene"] == "s0" and comments["Task ID"] == "task-0"
    assert len(timeline.audio_tracks()) == 2  # the clips' sound and the music


def test_otio_export_points_relative(exported: AssemblyReport, media: dict[str, Path]) -> None:
    path = exported.handoffs["export_otio"]
    clip = _picture(_read(path, "otio")).find_clips()[0]
    assert not clip.media_reference.target_url.startswith(("/", "file:"))
    assert (path.parent / clip.media_reference.target_url).resolve() == media["a0"].resolve()


# --- overlays -----------------------------------------------------------------------------------

OVERLAY_FORMATS = ["fcp7xml", "fcpxml", "aaf", "otio"]


@pytest.fixture(scope="module")
def overlaid(
    media: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[AssemblyReport, Path]:
    """Three scenes; a logo over 0-2 s and scene s2 as picture-in-picture over 1-2.5 s."""
    root = tmp_path_factory.mktemp("overlay-exports")
    Image.new("RGBA", (40, 20), (255, 255, 255, 255)).save(root / "logo.png")
    clips = [EditClip(f"s{i}", media[f"a{i}"], prompt=f"room {i}") for i in range(3)]
    edit = Edit(
        overlays=[
            Overlay(image="logo.png", position=(0.85, 0.15), width=0.2, opacity=0.8, end=2),
            Overlay(scene="s2", position=(0.75, 0.75), width=0.3, start=1, end=2.5),
        ],
        exports=["fcp7xml", "fcpxml", "edl", "aaf", "otio"],
    )
    return assemble(clips, edit, Output(), root / "out" / "film.mp4", base_dir=root), root


def _overlay_uses(timeline: Any, folder: Path) -> list[tuple[str, int, int, int, Path]]:
    """(name, record start, frames, source start, file) of every clip above the picture."""
    picture = _picture(timeline)
    uses = []
    for track in timeline.video_tracks():
        if track is picture:
            continue
        for clip in track.find_clips():
            url = clip.media_reference.target_url
            path = Path(otio.url_utils.filepath_from_url(url)) if ":" in url else folder / url
            placed = clip.range_in_parent()
            uses.append(
                (
                    clip.name,
                    placed.start_time.to_frames(),
                    placed.duration.to_frames(),
                    clip.source_range.start_time.to_frames(),
                    path.resolve(),
                )
            )
    return uses


def test_otio_handoff_puts_the_overlays_above_the_picture(
    overlaid: tuple[AssemblyReport, Path], media: dict[str, Path]
) -> None:
    report, root = overlaid
    timeline = otio.adapters.read_from_file(str(report.handoffs["otio"]))
    scenes, logo, pip = timeline.video_tracks()  # they overlap in time: a track each
    assert [c.name for c in scenes.find_clips()] == ["s0", "s1", "s2"]
    assert _overlay_uses(timeline, root) == [
        ("logo.png", 0, 48, 0, (root / "logo.png").resolve()),
        ("s2 (picture-in-picture)", 24, 36, 0, media["a2"].resolve()),
    ]
    shown = logo.find_clips()[0].metadata["storyboard"]
    assert shown["kind"] == "overlay image" and list(shown["position"]) == [0.85, 0.15]
    assert shown["width"] == 0.2 and shown["opacity"] == 0.8
    assert pip.find_clips()[0].metadata["storyboard"]["scene_id"] == "s2"
    assert otio.opentime.to_frames(timeline.duration(), 24) == report.frames


@pytest.mark.parametrize("fmt", OVERLAY_FORMATS)
def test_exports_keep_the_overlays(
    overlaid: tuple[AssemblyReport, Path], media: dict[str, Path], fmt: str
) -> None:
    report, root = overlaid
    path = report.handoffs[f"export_{fmt}"]
    uses = _overlay_uses(_read(path, fmt), path.parent)
    assert uses == [
        ("logo.png", 0, 48, 0, (root / "logo.png").resolve()),
        ("s2 (picture-in-picture)", 24, 36, 0, media["a2"].resolve()),
    ]


def test_edl_holds_the_picture_only(overlaid: tuple[AssemblyReport, Path]) -> None:
    report, _ = overlaid
    timeline = otio.adapters.read_from_file(str(report.handoffs["export_edl"]), "cmx_3600")
    assert [c.name for c in timeline.find_clips()] == ["s0", "s1", "s2"]


# --- the command -------------------------------------------------------------------------------


def _render(write_storyboard: Callable[..., Path], text: str) -> Path:
    board = write_storyboard(text)
    result = CliRunner().invoke(app, ["render", str(board), "--backend", "offline", "-y"])
    assert result.exit_code == 0, result.output
    return board


BOARD = """\
storyboard: 1
title: Export Me
defaults: {mode: std}
scenes:
  - id: one
    shots: [{prompt: "A door opens", duration: 3, dialogue: "Hello there."}]
  - id: two
    shots: [{prompt: "A cat walks in", duration: 3}]
edit:
  transitions: [{between: [one, two], type: crossfade, duration: 0.5}]
output: out/export-me.mp4
"""


def test_export_command(write_storyboard: Callable[..., Path], monkeypatch: Any) -> None:
    board = _render(write_storyboard, BOARD)
    runner = CliRunner()
    done = runner.invoke(app, ["export", str(board), "--format", "edl", "--backend", "offline"])
    assert done.exit_code == 0, done.output
    edl = board.parent / "out" / "export-me.edl"
    timeline = otio.adapters.read_from_file(str(edl), "cmx_3600")
    assert [c.name for c in timeline.find_clips()] == ["one", "two"]
    target = board.parent / "handoff" / "cut.fcp7.xml"
    done = runner.invoke(
        app, ["export", str(board), "-f", "fcp7xml", "-o", str(target), "--backend", "offline"]
    )
    assert done.exit_code == 0 and target.is_file()

    bad = runner.invoke(app, ["export", str(board), "--format", "mov"])
    assert bad.exit_code == 2 and "unknown export format 'mov'" in bad.output
    assert "Traceback" not in bad.output

    monkeypatch.setattr("storyboard.cli.export.missing_plugins", lambda formats: list(formats))
    missing = runner.invoke(app, ["export", str(board), "--format", "aaf"])
    assert missing.exit_code == 2 and "pip install 'storyboard[nle]'" in missing.output


def test_exports_field_errors_name_the_line(write_storyboard: Callable[..., Path]) -> None:
    board = write_storyboard(
        BOARD.replace("edit:\n", "edit:\n  exports: [edl, mov, edl]\n  subtitles: {burn_in: 3}\n")
    )
    result = CliRunner().invoke(app, ["validate", str(board)])
    assert result.exit_code == 2
    assert "storyboard.yaml:10:" in result.output and "edit.exports[1]" in result.output
    assert "edit.subtitles.burn_in" in result.output


def test_a_missing_plugin_is_an_error_at_the_exports_line(
    write_storyboard: Callable[..., Path], monkeypatch: Any
) -> None:
    monkeypatch.setattr("storyboard.edit.exports.missing_plugins", lambda formats: list(formats))
    board = write_storyboard(BOARD.replace("edit:\n", "edit:\n  exports: [aaf]\n"))
    result = CliRunner().invoke(app, ["render", str(board), "--backend", "offline", "-y"])
    assert result.exit_code == 2 and "storyboard.yaml:10:" in result.output
    assert "pip install 'storyboard[nle]'" in result.output and "Traceback" not in result.output
    assert not (board.parent / "out").exists()  # nothing generated, nothing written
