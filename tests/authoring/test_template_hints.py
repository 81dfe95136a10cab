"""A template problem's hint follows why it failed (its cause), never words in its message."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.compile import compile_storyboard
from storyboard.load import load_text

UNDEFINED = "define it under `vars:` or escape the braces with {% raw %}...{% endraw %}"
SANDBOX = "prompts may use variables and filters only"


def _hints(prompt: str, tmp_path: Path) -> list[str | None]:
    text = (
        "storyboard: 1\ntitle: t\nscenes:\n  - id: a\n    shots:\n"
        f"      - prompt: {prompt!r}\n        duration: 5\n"
    )
    loaded = load_text(text, tmp_path / "s.yaml")
    assert loaded.ok, loaded.diagnostics
    return [problem.hint for problem in compile_storyboard(loaded).errors]


@pytest.mark.parametrize(
    ("prompt", "hint"),
    [
        ("{{ nope }}", UNDEFINED),
        ("{{ ''.__class__ }}", SANDBOX),
        # the message names a template called "undefined", but nothing is undefined:
        ("{% include 'undefined' %}", None),
    ],
)
def test_the_hint_follows_the_cause(prompt: str, hint: str | None, tmp_path: Path) -> None:
    assert _hints(prompt, tmp_path) == [hint]
