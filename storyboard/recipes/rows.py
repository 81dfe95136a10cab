"""Rows files: one storyboard per row, its fields becoming recipe parameters.

CSV (a header line, then one row per record; empty cells mean "use the default") and
JSON Lines (one JSON object per line; JSON values keep their types). Columns whose name
starts with ``_`` are notes, passed to templates as ``row`` but not checked. Parsing is
pure (text in); :func:`read_rows` only reads the file.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.diagnostics import Diagnostic
from storyboard.errors import InputError
from storyboard.recipes.params import Layer
from storyboard.textfile import MAX_ROWS_BYTES, UnreadableFile, read_text_file

__all__ = ["BadRow", "Row", "RowsInvalid", "parse_csv", "parse_jsonl", "read_rows"]


class RowsInvalid(InputError):
    """The rows file as a whole can't be used (unreadable, bad header, unknown format)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


@dataclass(frozen=True)
class Row:
    """One row: its number among the rows (1-based), its line in the file, its fields."""

    number: int
    line: int
    values: dict[str, Any]
    file: Path

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def layer(self) -> Layer:
        """The row's values as the last layer: files relative to the rows file."""
        return Layer(
            self.values,
            self.file.resolve().parent,
            f"row {self.number}",
            str(self.file),
            line=self.line,
        )


BadRow = tuple[int, Diagnostic]
"""A row that could not be read: its number and why."""


def read_rows(path: Path) -> tuple[list[Row], list[BadRow]]:
    """Rows of a ``.csv``, ``.jsonl``/``.ndjson`` or ``.json`` (a list) file, and the
    rows that could not be read (a bad JSON line); :class:`RowsInvalid` for the whole file."""
    try:
        text = read_text_file(path, limit=MAX_ROWS_BYTES, encoding="utf-8-sig")
    except UnreadableFile as exc:
        problem = Diagnostic(
            str(path), exc.line, exc.column, (), f"cannot read the rows: {exc.message}"
        )
        raise RowsInvalid([problem]) from exc
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return parse_csv(text, path), []
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return parse_jsonl(text, path)
    raise RowsInvalid(
        [
            Diagnostic(
                str(path),
                1,
                1,
                (),
                "rows must be a .csv or .jsonl file",
                hint="rename the file or convert it",
            )
        ]
    )


def parse_csv(text: str, file: Path) -> list[Row]:
    """Rows of CSV text; the header names the parameters. Parsing is strict: a quote
    left open (which would swallow the rows after it) is an error at its row's line."""
    reader = csv.reader(io.StringIO(text), strict=True)
    header = _next_record(reader, file, 1)
    if header is None:
        return []
    names = [h.strip() for h in header]
    _check_header(names, file)
    rows: list[Row] = []
    line = reader.line_num + 1
    while (cells := _next_record(reader, file, line)) is not None:
        start, line = line, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(names):
            raise RowsInvalid(
                [
                    Diagnostic(
                        str(file),
                        start,
                        1,
                        (),
                        f"this row has {len(cells)} cells but the header names {len(names)}",
                        hint="quote cells that contain commas",
                    )
                ]
            )
        values = {n: c for n, c in zip(names, cells, strict=False) if n}
        rows.append(Row(len(rows) + 1, start, values, file))
    return rows


def _next_record(reader: Any, file: Path, line: int) -> list[str] | None:
    """The next CSV record (None at the end); a malformed one is reported at ``line``."""
    try:
        return next(reader, None)
    except csv.Error as exc:
        hint = 'close the quote (a quote inside a quoted cell is written twice: "")'
        if "NUL" in str(exc):
            hint = "the file holds NUL bytes: save it as plain UTF-8 text"
        raise RowsInvalid(
            [
                Diagnostic(
                    str(file), line, 1, (), f"malformed CSV from this row on: {exc}", hint=hint
                )
            ]
        ) from exc


def _check_header(names: list[str], file: Path) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise RowsInvalid([Diagnostic(str(file), 1, 1, (), f"column {name!r} appears twice")])
        seen.add(name)


def parse_jsonl(text: str, file: Path) -> tuple[list[Row], list[BadRow]]:
    """Rows of JSON Lines (or of one JSON list of objects), and lines that aren't objects."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        return _json_list(text, file)
    rows: list[Row] = []
    problems: list[BadRow] = []
    for index, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        number = len(rows) + len(problems) + 1
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(
                (number, Diagnostic(str(file), index, exc.colno, (), f"not valid JSON: {exc.msg}"))
            )
            continue
        except (RecursionError, ValueError) as exc:
            reason = f"not usable JSON: {_json_reason(exc)}"
            problems.append((number, Diagnostic(str(file), index, 1, (), reason)))
            continue
        if not isinstance(data, dict):
            problems.append(
                (
                    number,
                    Diagnostic(
                        str(file), index, 1, (), "a row is a JSON object of parameter values"
                    ),
                )
            )
            continue
        rows.append(Row(number, index, data, file))
    return rows, problems


def _json_list(text: str, file: Path) -> tuple[list[Row], list[BadRow]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RowsInvalid(
            [Diagnostic(str(file), exc.lineno, exc.colno, (), f"not valid JSON: {exc.msg}")]
        ) from exc
    except (RecursionError, ValueError) as exc:
        raise RowsInvalid(
            [Diagnostic(str(file), 1, 1, (), f"not usable JSON: {_json_reason(exc)}")]
        ) from exc
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise RowsInvalid(
            [
                Diagnostic(
                    str(file),
                    1,
                    1,
                    (),
                    "a JSON rows file is a list of objects (or write one object per line)",
                )
            ]
        )
    return [Row(i, 1, d, file) for i, d in enumerate(data, start=1)], []


def _json_reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "values nested too deeply"
    return str(exc)
