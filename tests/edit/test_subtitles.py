"""Subtitles from dialogue: cues timed to the edit (trims, crossfades), sidecars, burn-in."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from storyboard.cli import app
from storyboard.edit import AssemblyReport, EditClip, assemble
from storyboard.edit.model import Edit, Output, Subtitles, Transition, Trim
from storyboard.edit.subtitles import Cue, shot_lines, srt_text, vtt_text, wrap_line

from .edit_media import decode_video

FPS = 24
LINES = ["Where were you?", "Out by the harbour.", "Then we leave at dawn."]


def _clip(media: dict[str, Path], i: int, shots: list[tuple[float, str | None]]) -> EditClip:
    return EditClip(f"s{i}", media[f"a{i}"], prompt=f"p{i}", dialogue=shot_lines(shots))


def _edit(burn_in: bool) -> Edit:
    return Edit(
        transitions=[Transition(between=("s0", "s1"), type="crossfade", duration=0.5)],
        trims={"s1": Trim(start=0.5)},
        subtitles=Subtitles(burn_in=burn_in),
    )


@pytest.fixture(scope="module")
def spoken(
    media: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, AssemblyReport]:
    """Four scenes, three shots with a line: s0 (crossfade into s1), s1 (trimmed), s3."""
    clips = [
        _clip(media, 0, [(3.0, LINES[0])]),
        _clip(media, 1, [(1.0, None), (2.0, LINES[1])]),
        _clip(media, 2, [(3.0, None)]),
        _clip(media, 3, [(1.0, LINES[2]), (2.0, None)]),
    ]
    root = tmp_path_factory.mktemp("subs")
    return {
        name: assemble(clips, _edit(burn), Output(), root / f"{name}.mp4", base_dir=root)
        for name, burn in (("plain", False), ("burned", True))
    }


def _cues(text: str) -> list[tuple[float, float, str]]:
    found = re.findall(r"(\d+):(\d+):(\d+)[,.](\d+) --> (\d+):(\d+):(\d+)[,.](\d+)\n(.+)", text)
    return [
        (
            int(a) * 3600 + int(b) * 60 + int(c) + int(d) / 1000,
            int(e) * 3600 + int(f) * 60 + int(g) + int(h) / 1000,
            line,
        )
        for a, b, c, d, e, f, g, h, line in found
    ]


def test_cues_match_the_shots_places_in_the_edit(spoken: dict[str, AssemblyReport]) -> None:
    report = spoken["plain"]
    s0, s1, _, s3 = report.scenes
    cut = s1.start + 6 / FPS  # the 12-frame crossfade hands over at its middle
    # s1 is trimmed by 0.5 s, so its second shot (clip 1.0-3.0 s) starts 0.5 s into the scene
    expected = [
        (s0.start, cut, LINES[0]),
        (s1.start + 0.5, s1.end, LINES[1]),
        (s3.start, s3.start + 1.0, LINES[2]),
    ]
    for suffix in ("srt", "vtt"):
        cues = _cues(report.handoffs[suffix].read_text(encoding="utf-8"))
        assert [c[2] for c in cues] == LINES
        for (start, end, _), (want_start, want_end, _) in zip(cues, expected, strict=True):
            assert abs(start - want_start) <= 1 / FPS and abs(end - want_end) <= 1 / FPS
    assert report.handoffs["vtt"].read_text().startswith("WEBVTT\n")
    assert s0.end > cut > s1.start  # the cue boundary is inside the crossfade


def test_burn_in_shows_each_line_in_its_frames_only(spoken: dict[str, AssemblyReport]) -> None:
    plain, burned = (decode_video(spoken[k].path).astype(np.int16) for k in ("plain", "burned"))
    assert plain.shape == burned.shape
    h, w = plain.shape[1:3]
    band = (slice(int(h * 0.7), int(h * 0.95)), slice(int(w * 0.2), int(w * 0.8)))
    # share of the band's pixels changed by more than encoding noise could
    change = 100 * (np.abs(burned - plain)[:, band[0], band[1]].max(axis=3) > 60).mean(axis=(1, 2))
    cues = [
        (round(a * FPS), round(b * FPS))
        for a, b, _ in _cues(spoken["burned"].handoffs["srt"].read_text())
    ]
    shown = np.zeros(len(change), bool)
    for a, b in cues:
        shown[a:b] = True
    low = [i for i in np.flatnonzero(shown) if change[i] <= 5]
    assert not low, f"cue frames without their subtitle: {low} of {cues}"
    extra = [i for i in np.flatnonzero(~shown) if change[i] >= 0.5]
    assert not extra, f"subtitle outside its cue: {extra} {change[extra]}"
    s3 = cues[2][0]
    assert change[s3 - 1] < 0.5 and change[s3] > 5  # the line appears on its first frame


def test_pure_cue_text_formats() -> None:
    cues = [Cue(0, 36, "a -> b <i> & --> c", "s0"), Cue(48, 3600 * 24 + 1, "long " * 12, "s1")]
    srt = srt_text(cues, 24)
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,500\n")
    assert "01:00:00,042" in srt and "-->" not in srt.split("\n")[2]
    vtt = vtt_text(cues, 24)
    assert "a -&gt; b &lt;i&gt; &amp; --&gt; c" in vtt and "00:00:02.000 --> 01:00:00.042" in vtt
    assert all(len(line) <= 42 for line in wrap_line("long " * 12))
    assert shot_lines([(2.0, None), (3.0, "  hi "), (1.0, "")]) == shot_lines(
        [(2.0, ""), (3.0, "hi")]
    )


def test_dialogue_field_is_checked_at_its_line(
    write_storyboard: Callable[..., Path],
) -> None:
    text = """\
storyboard: 1
title: Talk
defaults: {template: cinematic}
scenes:
  - id: one
    shots:
      - {prompt: "A man at a door", duration: 3, dialogue: %s}
"""
    runner = CliRunner()
    for value, message in (("[1, 2]", "valid string"), ('"' + "x" * 5000 + '"', "at most 400")):
        board = write_storyboard(text % value)
        result = runner.invoke(app, ["validate", str(board)])
        assert result.exit_code == 2 and "storyboard.yaml:7:" in result.output
        assert "scenes[0].shots[0].dialogue" in result.output and message in result.output
    board = write_storyboard(text % '"Open \\"up\\"!"')
    result = runner.invoke(app, ["compile", str(board), "--json"])
    assert result.exit_code == 0 and "Dialogue: \\\"Open 'up'!\\\"" in result.output
