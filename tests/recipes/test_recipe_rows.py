"""Rows files: CSV and JSON Lines, each row with its file line."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.recipes.rows import RowsInvalid, parse_csv, parse_jsonl, read_rows


def test_csv_rows_know_their_lines_even_with_multiline_cells() -> None:
    text = 'name,tagline\nA,"one\ntwo"\n\nB,plain\n'
    rows = parse_csv(text, Path("rows.csv"))
    assert [(r.number, r.line, r.values) for r in rows] == [
        (1, 2, {"name": "A", "tagline": "one\ntwo"}),
        (2, 5, {"name": "B", "tagline": "plain"}),
    ]
    assert rows[1].where == "rows.csv:5"


def test_csv_with_too_many_cells_is_refused() -> None:
    with pytest.raises(RowsInvalid, match=r"rows\.csv:3:1: .*3 cells but the header names 2"):
        parse_csv("a,b\n1,2\n1,2,3\n", Path("rows.csv"))


def test_jsonl_keeps_types_and_reports_bad_lines() -> None:
    rows, bad = parse_jsonl(
        '{"name": "A", "seconds": 4}\n\nnot json\n[1]\n{"name": "B"}\n', Path("r.jsonl")
    )
    assert [(r.number, r.line, r.values) for r in rows] == [
        (1, 1, {"name": "A", "seconds": 4}),
        (4, 5, {"name": "B"}),
    ]
    assert [(n, d.line) for n, d in bad] == [(2, 3), (3, 4)]
    assert "not valid JSON" in bad[0][1].message


def test_json_list_and_unknown_suffix(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text('[{"name": "A"}, {"name": "B"}]')
    rows, _ = read_rows(tmp_path / "r.json")
    assert [r.values["name"] for r in rows] == ["A", "B"]
    (tmp_path / "r.txt").write_text("x")
    with pytest.raises(RowsInvalid, match=r"must be a \.csv or \.jsonl"):
        read_rows(tmp_path / "r.txt")
    with pytest.raises(RowsInvalid, match="cannot read the rows"):
        read_rows(tmp_path / "missing.csv")
