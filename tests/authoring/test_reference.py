"""The format reference in docs/ is generated from the models and kept current."""

from __future__ import annotations

from pathlib import Path

from storyboard.reference import format_reference
from storyboard.spec import Storyboard

DOC = Path(__file__).resolve().parents[2] / "docs" / "format-reference.md"


def test_reference_doc_is_current() -> None:
    assert DOC.read_text().strip() == format_reference().strip(), (
        "regenerate with: python -m storyboard.reference > docs/format-reference.md"
    )


def test_every_field_has_a_description() -> None:
    def walk(model: type) -> list[str]:
        missing = []
        for name, info in model.model_fields.items():  # type: ignore[attr-defined]
            if not info.description:
                missing.append(f"{model.__name__}.{name}")
        return missing

    from storyboard.reference import SECTIONS

    assert Storyboard in [m for _, m in SECTIONS]
    assert [m for _, model in SECTIONS for m in walk(model)] == []
