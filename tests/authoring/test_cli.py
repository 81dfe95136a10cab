"""The authoring commands: exit codes, JSON output, the schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml
from typer.testing import CliRunner

from storyboard.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_validate_ok_exits_zero() -> None:
    result = runner.invoke(app, ["validate", str(ROOT / "examples" / "multi-shot.yaml")])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_validate_json_lists_errors_and_warnings(write_storyboard) -> None:  # type: ignore[no-untyped-def]
    path = write_storyboard(
        "storyboard: 1\ntitle: t\nscenes:\n  - id: a\n    shots:\n"
        "      - {prompt: hi, duration: 2, lens: 35mm}\n"
    )
    result = runner.invoke(app, ["validate", str(path), "--json"])
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["valid"] is False
    assert [e["path"] for e in data["errors"]] == ["scenes[0].shots[0].duration"]
    assert data["errors"][0]["line"] == 6
    assert [w["path"] for w in data["warnings"]] == ["scenes[0].shots[0].lens"]


def test_strict_turns_warnings_into_errors(write_storyboard) -> None:  # type: ignore[no-untyped-def]
    path = write_storyboard(
        "storyboard: 1\ntitle: t\nscenes:\n  - id: a\n    shots:\n"
        "      - {prompt: hi, duration: 4, lens: 35mm}\n"
    )
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0
    strict = runner.invoke(app, ["validate", str(path), "--strict"])
    assert strict.exit_code == 2
    assert f"{path}:6:35: scenes[0].shots[0].lens: unknown key" in strict.output


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "cannot read the storyboard" in result.output


def test_compile_json_gives_one_request_per_scene() -> None:
    result = runner.invoke(
        app, ["compile", str(ROOT / "examples" / "continuity-chain.yaml"), "--json"]
    )
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert [i["scene"] for i in items] == ["wake-up", "spotted", "chase"]
    assert items[1]["depends_on"] == ["wake-up"]
    assert items[0]["uploads"] == ["refs/room.png", "refs/dog-1.png", "refs/dog-2.png"]
    assert all(i["request"]["model"] == "kling-3.0/video" for i in items)


def test_schema_validates_the_examples() -> None:
    result = runner.invoke(app, ["schema"])
    schema = json.loads(result.stdout)
    for example in (ROOT / "examples").glob("*.yaml"):
        jsonschema.validate(yaml.safe_load(example.read_text()), schema)
    broken = {"storyboard": 1, "title": "x", "scenes": [{"id": "a", "shots": [{"prompt": "p"}]}]}
    try:
        jsonschema.validate(broken, schema)
    except jsonschema.ValidationError as exc:
        assert "duration" in exc.message
    else:
        raise AssertionError("the schema accepted a shot without a duration")
