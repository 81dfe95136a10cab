"""Shared fixtures: the repository's examples and a scratch storyboard folder."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder holding copies of the examples' reference files (refs/, audio/)."""
    for name in ("refs", "audio"):
        shutil.copytree(EXAMPLES / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def write_storyboard(project: Path) -> Callable[[str, str], Path]:
    """Write storyboard text into the project folder and return its path."""

    def write(text: str, name: str = "storyboard.yaml") -> Path:
        path = project / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
