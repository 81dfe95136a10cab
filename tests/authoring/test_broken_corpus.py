"""Every broken storyboard in broken/ is rejected with exit 2 at the right line and field.

Each file's first line says what must be reported: ``# expect: LINE FIELD | MESSAGE``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from storyboard.cli import app

CORPUS = sorted((Path(__file__).parent / "broken").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+) (\S+) \| (.+)$")


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 30


@pytest.fixture
def corpus_project(project: Path) -> Path:
    Image.new("RGB", (120, 120), "red").save(project / "refs" / "tiny.png")
    (project / "refs" / "fake.png").write_text("not an image")
    return project


@pytest.mark.parametrize("case", CORPUS, ids=[c.stem for c in CORPUS])
def test_broken_storyboard_is_reported(case: Path, corpus_project: Path) -> None:
    line, field, message = EXPECT.match(case.read_text().splitlines()[0]).groups()  # type: ignore[union-attr]
    target = corpus_project / "sub" / case.name
    target.parent.mkdir()
    shutil.copytree(corpus_project / "refs", target.parent / "refs")
    shutil.copy(case, target)
    result = CliRunner().invoke(app, ["validate", str(target)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    wanted = f"{target}:{line}:"
    matching = [
        row
        for row in result.output.splitlines()
        if row.startswith(wanted) and f": {field}: " in row and message in row
    ]
    assert matching, f"expected {wanted} {field} ... {message!r} in:\n{result.output}"
