"""Compositing through the real CLI (subprocess): broken uses exit 2 at their line before
anything is generated; a storyboard with footage, a panning still, a logo, an effect and a
slide renders offline, decodes clean, and its OTIO lists the footage, the still and the logo
with their files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from storyboard.cli import app
from storyboard.edit import EditError, to_moviepy
from storyboard.media.ffmpeg import decode_errors

from .edit_media import decode_video, make_clip

GOOD = """\
storyboard: 1
title: compositing demo
defaults: {mode: std}
scenes:
  - id: hero
    shots: [{prompt: "a red kite over a harbour", duration: 3}]
  - id: intro
    still: {path: refs/card.png, duration: 2, move: pan-left}
  - id: street
    footage: {path: media/street.mp4, in: 0.5, out: 2.5, audio: true}
  - id: close
    shots: [{prompt: "the kite lands", duration: 3}]
    effects: [{name: BlackAndWhite}]
edit:
  transitions: [{between: [intro, street], type: slide, duration: 0.5, direction: left}]
  overlays:
    - {image: refs/logo.png, position: [0.88, 0.1], width: 0.12, opacity: 0.8, start: 0, end: 2}
"""


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from storyboard.cli import main; main()", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The media files, made once: a card, a logo, footage, and two misnamed files."""
    root = tmp_path_factory.mktemp("compositing-media")
    (root / "refs").mkdir()
    (root / "media").mkdir()
    card = Image.new("RGB", (800, 300), (20, 20, 60))
    draw = ImageDraw.Draw(card)
    for x in range(0, 800, 80):
        draw.rectangle((x, 0, x + 40, 300), fill=(220, 190, 40))
    card.save(root / "refs" / "card.png")
    logo = Image.new("RGBA", (120, 60), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((0, 0, 119, 59), fill=(255, 255, 255, 255))
    logo.save(root / "refs" / "logo.png")
    make_clip(root / "media" / "street.mp4", 3, size=(640, 360), seconds=3)
    shutil.copy(root / "refs" / "card.png", root / "media" / "photo.mp4")  # not a video
    shutil.copy(root / "media" / "street.mp4", root / "refs" / "clip.png")  # not an image
    return root


@pytest.fixture
def folder(media: Path, tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(media, project)
    return project


def _broken_board(scene_extra: str, more: str = "", edit: str = "") -> str:
    return (
        "storyboard: 1\ntitle: broken\ndefaults: {mode: std}\nscenes:\n  - id: hero\n"
        '    shots: [{prompt: "a kite", duration: 3}]\n'
        f"{scene_extra}{more}{edit}"
    )


CASES = [
    (
        "unknown effect",
        _broken_board("    effects: [{name: BlackAndWhit}]\n"),
        7,
        "scenes[0].effects[0].name",
        "did you mean BlackAndWhite?",
    ),
    (
        "bad parameter type",
        _broken_board("    effects: [{name: MultiplySpeed, factor: fast}]\n"),
        7,
        "scenes[0].effects[0].factor",
        "valid number",
    ),
    (
        "unknown parameter",
        _broken_board("    effects: [{name: MultiplySpeed, factr: 2}]\n"),
        7,
        "scenes[0].effects[0].factr",
        "did you mean `factor`?",
    ),
    (
        "footage not video",
        _broken_board("", "  - id: street\n    footage: {path: media/photo.mp4}\n"),
        8,
        "scenes[1].footage.path",
        "is not a video",
    ),
    (
        "still not image",
        _broken_board("", "  - id: card\n    still: {path: refs/clip.png}\n"),
        8,
        "scenes[1].still.path",
        "is not an image",
    ),
    (
        "overlay outside",
        _broken_board(
            "",
            "",
            "edit:\n  overlays:\n    - {image: refs/logo.png, position: [0.97, 0.5], width: 0.2}\n",
        ),
        9,
        "edit.overlays[0].position",
        "outside the frame",
    ),
    (
        "slide too long",
        _broken_board(
            "",
            "  - id: card\n    still: {path: refs/card.png, duration: 1}\n",
            "edit:\n  transitions:\n    - {between: [hero, card], type: slide, duration: 1.5}\n",
        ),
        11,
        "edit.transitions[0].duration",
        "longer than scene 'card'",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "line", "field", "says"), CASES, ids=[c[0] for c in CASES]
)
def test_broken_uses_exit_2_at_their_line_before_generating(
    folder: Path, name: str, text: str, line: int, field: str, says: str
) -> None:
    (folder / "broken.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["render", str(folder / "broken.yaml")])
    assert result.exit_code == 2, result.output
    assert f"broken.yaml:{line}:" in result.output and field in result.output, result.output
    assert says in result.output
    assert not (folder / ".storyboard").exists()  # no journal: nothing was submitted
    assert not (folder / "out").exists()


def test_all_broken_uses_at_once_through_the_real_cli(folder: Path) -> None:
    """One storyboard with every broken use: the CLI (a subprocess) lists each at its own
    line and exits 2 before anything is generated."""
    text = (
        "storyboard: 1\ntitle: broken\ndefaults: {mode: std}\nscenes:\n  - id: hero\n"
        '    shots: [{prompt: "a kite", duration: 3}]\n'
        "    effects: [{name: BlackAndWhit}, {name: MultiplySpeed, factor: fast}]\n"
        "  - id: street\n    footage: {path: media/photo.mp4}\n"
        "  - id: card\n    still: {path: refs/clip.png}\n"
        "  - id: intro\n    still: {path: refs/card.png, duration: 1}\n"
        "edit:\n  transitions:\n    - {between: [card, intro], type: slide, duration: 1.5}\n"
        "  overlays:\n    - {image: refs/logo.png, position: [0.97, 0.5], width: 0.2}\n"
    )
    (folder / "broken.yaml").write_text(text, encoding="utf-8")
    result = _cli("render", "broken.yaml", cwd=folder)
    assert result.returncode == 2, result.stderr
    shown = (result.stdout + result.stderr).splitlines()
    expected = [
        (7, "scenes[0].effects[0].name", "did you mean BlackAndWhite?"),
        (7, "scenes[0].effects[1].factor", "valid number"),
        (9, "scenes[1].footage.path", "is not a video"),
        (11, "scenes[2].still.path", "is not an image"),
        (16, "edit.transitions[0].duration", "longer than scene 'intro'"),
        (18, "edit.overlays[0].position", "outside the frame"),
    ]
    for line, field, says in expected:
        found = [x for x in shown if f"broken.yaml:{line}:" in x and field in x and says in x]
        assert found, (field, shown)
    assert not (folder / ".storyboard").exists() and not (folder / "out").exists()


@pytest.mark.slow  # about 25 s on an idle 2-core box: two 720p animatic clips + moviepy
def test_offline_render_composites_only_where_needed(folder: Path) -> None:
    (folder / "good.yaml").write_text(GOOD, encoding="utf-8")
    assert _cli("validate", "good.yaml", cwd=folder).returncode == 0
    compiled = json.loads(_cli("compile", "good.yaml", "--json", cwd=folder).stdout)
    assert [item["scene"] for item in compiled] == ["hero", "close"]  # never sent to kie.ai
    result = _cli("render", "good.yaml", "--json", cwd=folder)
    assert result.returncode == 0, result.stderr[-2000:]
    out = folder / "out" / "compositing-demo.mp4"
    report = json.loads(out.with_suffix(".report.json").read_text())
    renderers = report["frames_by_renderer"]
    assert renderers["moviepy"] > 0 and sum(renderers.values()) == report["frames"]
    assert decode_errors(out) == []
    frames = decode_video(out)
    assert abs(len(frames) - report["frames"]) <= 1
    _check_pictures(frames, report)
    timeline = otio.adapters.read_from_file(str(out.with_suffix(".otio")))
    scenes, logo = timeline.video_tracks()
    sources = {c.name: c.media_reference.target_url for c in timeline.find_clips()}
    assert sources["street"] == (folder / "media" / "street.mp4").resolve().as_uri()
    assert sources["intro"] == (folder / "refs" / "card.png").resolve().as_uri()
    assert sources["logo.png"] == (folder / "refs" / "logo.png").resolve().as_uri()
    kinds = {c.name: c.metadata["storyboard"]["kind"] for c in scenes.find_clips()}
    assert kinds == {
        "hero": "generated",
        "intro": "still",
        "street": "footage",
        "close": "generated",
    }
    assert [c.metadata["storyboard"]["kind"] for c in logo.find_clips()] == ["overlay image"]
    exported = _cli("export", "good.yaml", "--format", "otio", cwd=folder)  # from the journal
    assert exported.returncode == 0, exported.stderr[-2000:]
    nle = otio.adapters.read_from_file(str(out.with_suffix(".nle.otio")))
    picture, logo = nle.video_tracks()
    assert [c.name for c in picture.find_clips()] == ["hero", "intro", "street", "close"]
    assert [c.media_reference.target_url for c in logo.find_clips()] == ["../refs/logo.png"]
    street = next(c for c in picture.find_clips() if c.name == "street")
    assert street.source_range.start_time.to_frames() == 12 + 6  # in: 0.5 s; half the slide
    clip = to_moviepy(folder / "good.yaml")  # the same edit, from the clips just generated
    try:
        assert abs(clip.duration - report["duration"]) < 1 / 24
        assert tuple(clip.size) == (1280, 720)
        assert clip.audio is not None and abs(clip.audio.duration - clip.duration) < 1e-6
    finally:
        clip.close()


def test_to_moviepy_generates_nothing(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIE_API_KEY", raising=False)
    (folder / "good.yaml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(EditError, match="no clip yet for hero, close"):
        to_moviepy(folder / "good.yaml")


def _check_pictures(frames: np.ndarray, report: dict[str, object]) -> None:
    fps = 24
    scenes = {s["scene_id"]: s for s in report["scenes"]}  # type: ignore[attr-defined]
    close = frames[round((scenes["close"]["start"] + 1.0) * fps)]
    assert np.abs(close[..., 0].astype(int) - close[..., 2]).max() < 12  # black and white
    h, w = frames.shape[1:3]
    top_right = frames[12][int(0.08 * h) : int(0.12 * h), int(0.86 * w) : int(0.9 * w)]
    assert top_right.mean() > 170  # the white logo (opacity 0.8) over the hero clip
    start = scenes["intro"]["start"]
    a, b = frames[round(start * fps) + 14], frames[round(start * fps) + 30]
    assert np.abs(a.astype(int) - b).mean() > 5  # the still pans
