"""Helpers of the recipe tests: rows files, emulator counters, output facts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from storyboard.providers.emulator import ServedEmulator
from storyboard.recipes import BatchResult
from tests.emulator_server import stats as emulator_stats

MINI = Path(__file__).resolve().parent / "fixtures" / "mini"


def write_rows(path: Path, names: list[str], **columns: Any) -> Path:
    """A CSV rows file with a ``name`` column (and constant extra columns)."""
    header = ["name", *columns]
    lines = [",".join(header)]
    lines += [",".join([name, *(str(v) for v in columns.values())]) for name in names]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stats(served: ServedEmulator) -> dict[str, Any]:
    """``GET /emulator/stats`` over the socket."""
    return emulator_stats(served.base_url)


def distinct_keys(result: BatchResult) -> set[str]:
    return {key for row in result.results for key in row.keys}


def output_facts(result: BatchResult) -> dict[tuple[int, str | None], dict[str, Any]]:
    """Per row: its generations' content keys and its video's duration, frames and size
    (rendering is deterministic up to the task id printed on animatic cards)."""
    facts = {}
    for row in result.results:
        assert row.output is not None, row
        report = json.loads(Path(row.output).with_suffix(".report.json").read_text())
        facts[(row.row_number, row.variant)] = {
            "keys": sorted(row.keys),
            "output": Path(row.output).name,
            "duration": report["duration"],
            "frames": report["frames"],
            "size": report["size"],
        }
    return facts
