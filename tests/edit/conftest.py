"""Session fixtures: tiny synthetic clips (made once) and a helper that assembles them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from storyboard.edit import AssemblyReport, EditClip, assemble
from storyboard.edit.model import Edit, Output
from storyboard.edit.smart import X264_DEFAULTS
from storyboard.media.encoding import VideoEncoding

from .edit_media import make_clip, make_tone_file


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Clips named by role; ``a0``..``a3`` are animatic-encoded 320x180, 3 s, 1 s GOP."""
    root = tmp_path_factory.mktemp("edit-media")
    files = {f"a{i}": make_clip(root / f"a{i}.mp4", i) for i in range(4)}
    files["mute"] = make_clip(root / "mute.mp4", 4, audio=False)
    files["peaky"] = make_clip(root / "peaky.mp4", 0, clicks=True)
    files["small43"] = make_clip(root / "small43.mp4", 1, size=(240, 180))
    files["big"] = make_clip(root / "big.mp4", 2, size=(640, 360))
    files["fps30"] = make_clip(root / "fps30.mp4", 1, fps=30)
    for i in range(3):
        files[f"x{i}"] = make_clip(root / f"x{i}.mp4", i, encoding=X264_DEFAULTS)
    for i in range(2):  # an encoder we cannot reproduce: crf 30
        files[f"u{i}"] = make_clip(root / f"u{i}.mp4", i, encoding=VideoEncoding(crf=30))
    files["music"] = make_tone_file(root / "music.wav", 300.0, 20.0)
    return files


Assembler = Callable[..., AssemblyReport]


@pytest.fixture(scope="session")
def assembled(media: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Assembler:
    """Assemble named media as scenes s0, s1, ... (cached per name + edit)."""
    out_root = tmp_path_factory.mktemp("edit-out")
    cache: dict[str, AssemblyReport] = {}

    def run(name: str, keys: list[str], edit: Edit, output: Output | None = None) -> AssemblyReport:
        if name not in cache:
            clips = [
                EditClip(f"s{i}", media[k], prompt=f"prompt {i}", task_id=f"task-{i}", take=1)
                for i, k in enumerate(keys)
            ]
            cache[name] = assemble(
                clips, edit, output or Output(), out_root / f"{name}.mp4", base_dir=out_root.parent
            )
        return cache[name]

    return run
