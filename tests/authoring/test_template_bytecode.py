"""Named templates compile once per process, and an edited template is never served stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.sandbox import BoundedSandbox
from storyboard.templating import make_environment, render_named


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The names of the templates Jinja compiles from source from now on."""
    seen: list[str | None] = []
    original = BoundedSandbox.compile

    def counting(
        self: BoundedSandbox, source: object, name: str | None = None, *a: object, **k: object
    ) -> object:
        seen.append(name)
        return original(self, source, name, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(BoundedSandbox, "compile", counting)
    return seen


def test_a_second_environment_reuses_the_compiled_template(
    tmp_path: Path, compiles: list[str | None]
) -> None:
    (tmp_path / "tagline.j2").write_text("{{ prompt | upper }} / once")
    first = render_named(make_environment([tmp_path]), "tagline", {"prompt": "a"})
    second = render_named(make_environment([tmp_path]), "tagline", {"prompt": "b"})
    assert (first, second) == ("A / once", "B / once")
    assert compiles.count("tagline.j2") == 1


def test_an_edited_template_is_compiled_again(tmp_path: Path, compiles: list[str | None]) -> None:
    template = tmp_path / "edited.j2"
    template.write_text("before {{ prompt }}")
    assert render_named(make_environment([tmp_path]), "edited", {"prompt": "x"}) == "before x"
    template.write_text("after {{ prompt }}")
    assert render_named(make_environment([tmp_path]), "edited", {"prompt": "x"}) == "after x"
    assert compiles.count("edited.j2") == 2
