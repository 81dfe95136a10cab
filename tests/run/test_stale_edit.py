"""Done-when 2: editing one shot's prompt in a 3-scene continuity chain regenerates exactly
that scene and the scenes after it; ``storyboard plan --json`` listed exactly those as
stale beforehand, saying which input or upstream scene changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from storyboard.cli import app

from .run_helpers import copy_examples, temp_files, undecodable

runner = CliRunner()


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIE_API_KEY", raising=False)


def plan_json(path: Path) -> dict[str, dict[str, Any]]:
    result = runner.invoke(app, ["plan", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return {g["scene"]: g for g in json.loads(result.stdout)["generations"]}


def render_events(path: Path) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["render", str(path), "--json", "--no-assemble"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def created(events: list[dict[str, Any]]) -> list[str]:
    return sorted(
        e["node"].split(":", 1)[1]
        for e in events
        if e.get("state") == "generating" and e.get("message") == "task created"
    )


def test_an_edit_in_the_chain_regenerates_that_scene_and_downstream_only(tmp_path: Path) -> None:
    project = copy_examples(tmp_path / "project")
    path = project / "continuity-chain.yaml"
    assert {s: g["status"] for s, g in plan_json(path).items()} == dict.fromkeys(
        ("wake-up", "spotted", "chase"), "new"
    )
    first = render_events(path)
    assert created(first) == ["chase", "spotted", "wake-up"]
    keys = {s: g["key"] for s, g in plan_json(path).items()}
    assert {g["status"] for g in plan_json(path).values()} == {"cached"}

    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("spots @cat on top of the piano", "spots @cat under the piano"),
        encoding="utf-8",
    )
    plan = plan_json(path)
    assert {s: g["status"] for s, g in plan.items()} == {
        "wake-up": "cached",
        "spotted": "stale",
        "chase": "stale",
    }
    assert "multi_prompt[0].prompt changed" in plan["spotted"]["reasons"]
    assert plan["chase"]["reasons"] == ["image_urls[0]: the last frame of 'spotted' changed"]
    assert plan["wake-up"]["key"] == keys["wake-up"]
    assert plan["spotted"]["key"] != keys["spotted"] and plan["chase"]["key"] != keys["chase"]

    second = render_events(path)
    assert created(second) == ["chase", "spotted"]
    summary = second[-1]
    assert summary["event"] == "summary" and summary["tasks_created"] == 2
    assert {s: g["status_before"] for s, g in summary["generations"].items()} == {
        "wake-up": "cached",
        "spotted": "stale",
        "chase": "stale",
    }
    plan_event = next(e for e in second if e["event"] == "plan")
    assert plan_event["to_generate"] == ["spotted", "chase"]
    assert {g["status"] for g in plan_json(path).values()} == {"cached"}
    clips = [Path(g["clip"]) for g in summary["generations"].values()]
    assert undecodable(clips) == {} and temp_files(project) == []


def test_editing_the_last_scene_regenerates_only_it(tmp_path: Path) -> None:
    project = copy_examples(tmp_path / "project")
    path = project / "rehearsal-room.yaml"
    render_events(path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("around the piano", "around the drum kit"), encoding="utf-8")
    plan = plan_json(path)
    assert {s: g["status"] for s, g in plan.items()} == {"wake-up": "cached", "chase": "stale"}
    assert created(render_events(path)) == ["chase"]
