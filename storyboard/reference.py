"""The storyboard format reference, generated from the models' field descriptions."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from storyboard.edit.model import (
    Edit,
    Loudness,
    Music,
    Output,
    Overlay,
    Subtitles,
    Title,
    Transition,
    Trim,
)
from storyboard.edit.sources import Effect, Footage, Still
from storyboard.spec import Defaults, Element, FrameSource, Scene, Shot, Storyboard

__all__ = ["format_reference"]

SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("storyboard (top level)", Storyboard),
    ("defaults", Defaults),
    ("elements.<name>", Element),
    ("scenes[]", Scene),
    ("scenes[].shots[]", Shot),
    ("scenes[].still", Still),
    ("scenes[].footage", Footage),
    ("scenes[].effects[]", Effect),
    ("first_frame / last_frame / element video", FrameSource),
    ("edit", Edit),
    ("edit.transitions[]", Transition),
    ("edit.trims.<scene>", Trim),
    ("edit.titles[]", Title),
    ("edit.overlays[]", Overlay),
    ("edit.music", Music),
    ("edit.loudness", Loudness),
    ("edit.subtitles", Subtitles),
    ("output", Output),
]


def format_reference() -> str:
    """Markdown: one table per section, one row per field (name, type, default, meaning)."""
    note = "Generated from the models (`python -m storyboard.reference`); do not edit."
    parts = ["# Storyboard format reference", "", note, ""]
    for title, model in SECTIONS:
        parts += [f"## `{title}`", "", (model.__doc__ or "").strip().splitlines()[0], ""]
        parts += ["| field | type | default | meaning |", "|---|---|---|---|"]
        for name, info in model.model_fields.items():
            key = info.alias or name
            default = (
                "required"
                if info.is_required()
                else _default(info.get_default(call_default_factory=True))
            )
            kind = _type_name(info.annotation)
            parts.append(f"| `{key}` | {kind} | {default} | {info.description or ''} |")
        parts.append("")
    return "\n".join(parts)


def _default(value: Any) -> str:
    if isinstance(value, BaseModel):
        return "(see section)"
    if value in ({}, []):
        return "empty"
    return f"`{value!r}`" if value is not None else "—"


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args if a is not type(None)) + " (optional)"
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (list, tuple, dict):
        inner = ", ".join(_type_name(a) for a in args if a is not Ellipsis)
        return f"{origin.__name__}[{inner}]"
    return getattr(annotation, "__name__", str(annotation))


if __name__ == "__main__":
    print(format_reference())
