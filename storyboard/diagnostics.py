"""Problems found in a storyboard, each pointing at a file, a line and a field."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["Diagnostic", "FieldPath", "Severity", "format_path"]

Severity = Literal["error", "warning"]
FieldPath = tuple[str | int, ...]


def format_path(path: Sequence[str | int]) -> str:
    """``("scenes", 2, "shots", 0, "duration")`` -> ``scenes[2].shots[0].duration``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class Diagnostic:
    """One error or warning, with where it is and how to fix it."""

    file: str
    line: int
    column: int
    path: FieldPath
    message: str
    severity: Severity = "error"
    hint: str | None = None

    @property
    def field(self) -> str:
        """The dotted field path, e.g. ``scenes[2].shots[0].duration``."""
        return format_path(self.path) or "(document)"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        hint = f" (fix: {self.hint})" if self.hint else ""
        return f"{self.file}:{self.line}:{self.column}: {self.field}: {tag}{self.message}{hint}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``path`` as the dotted string)."""
        data = asdict(self)
        data["path"] = self.field
        return data

    def as_error(self) -> Diagnostic:
        """This diagnostic promoted to an error (``--strict``)."""
        return Diagnostic(**{**asdict(self), "severity": "error"})


def sort_diagnostics(items: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Errors and warnings in file order; duplicates removed."""
    unique = dict.fromkeys(items)
    return sorted(unique, key=lambda d: (d.file, d.line, d.column, d.severity != "error"))
