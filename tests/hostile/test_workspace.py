"""The one rule for where storyboard reads and writes: inside the storyboard's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.workspace import OutsideFolder, confine, is_inside


def test_relative_path_inside_is_resolved(tmp_path: Path) -> None:
    (tmp_path / "refs").mkdir()
    assert confine(tmp_path, "refs/a.png") == (tmp_path / "refs" / "a.png").resolve()


@pytest.mark.parametrize("path", ["../x.mp4", "../../etc/passwd", "/etc/passwd", "a/../../b"])
def test_paths_leaving_the_folder_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(OutsideFolder, match="outside the storyboard's folder"):
        confine(tmp_path / "project", path)


def test_symlink_pointing_outside_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "link").symlink_to(tmp_path)
    assert not is_inside(project, project / "link" / "secret")
    with pytest.raises(OutsideFolder):
        confine(project, "link/secret")


def test_allow_outside_returns_the_resolved_path(tmp_path: Path) -> None:
    assert confine(tmp_path / "p", "../x", allow_outside=True) == (tmp_path / "x").resolve()
