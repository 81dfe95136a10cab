"""Each built-in recipe renders its shipped example offline, out of the box."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyboard.recipes import find_recipe, plan_batch, run_batch

EXPECTED = {
    # recipe: [(output name, (width, height), scenes)]
    "product-teaser": [("1-aurora-water-bottle.mp4", [720, 1280], 3)],
    "continuity-chain": [("1-the-paper-boat.mp4", [1280, 720], 3)],
    "social-cutdown": [
        ("1-good-boy-square.mp4", [720, 720], 2),
        ("1-good-boy-vertical.mp4", [720, 1280], 2),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_renders_its_example(name: str, offline: None, tmp_path: Path) -> None:
    plan = plan_batch(find_recipe(name, env={}), tmp_path / "out")
    assert not plan.invalid, [r.diagnostics for r in plan.invalid]
    result = run_batch(plan)
    assert result.exit_code == 0, [r.error for r in result.results]
    made = []
    for row in result.results:
        assert row.status == "done" and row.output is not None
        report = json.loads(Path(row.output).with_suffix(".report.json").read_text())
        made.append((Path(row.output).name, report["size"], len(report["scenes"])))
        assert report["duration"] > 4
    assert sorted(made) == EXPECTED[name]
