"""``storyboard recipe list|show|run`` and ``storyboard init``: output, files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyboard.cli import app

from .recipe_helpers import write_rows

runner = CliRunner()


def test_list_shows_the_builtins() -> None:
    result = runner.invoke(app, ["recipe", "list", "--json"])
    assert result.exit_code == 0, result.output
    names = {r["name"]: r for r in json.loads(result.stdout)}
    assert {"product-teaser", "continuity-chain", "social-cutdown"} <= set(names)
    assert names["product-teaser"]["builtin"] and names["product-teaser"]["problem"] is None
    assert "product-teaser" in runner.invoke(app, ["recipe", "list"]).stdout


def test_show_lists_parameters_with_types_and_defaults() -> None:
    result = runner.invoke(app, ["recipe", "show", "product-teaser", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    seconds = data["parameters"]["seconds"]
    assert (seconds["type"], seconds["default"], seconds["min"], seconds["max"]) == (
        "integer",
        3,
        3,
        10,
    )
    assert data["parameters"]["images"]["allowed"] == "2-4 PNG/JPG images"
    text = runner.invoke(app, ["recipe", "show", "social-cutdown"]).stdout
    assert "vertical" in text and "square" in text and "beats" in text


def test_unknown_recipe_exits_2_with_a_suggestion() -> None:
    result = runner.invoke(app, ["recipe", "run", "product-teasr"])
    assert result.exit_code == 2
    assert "did you mean 'product-teaser'" in result.output


def test_bad_param_names_recipe_parameter_and_fix(
    offline: None, mini: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["recipe", "run", str(mini), "--param", "seconds=9", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert (
        f"{mini / 'recipe.yaml'}:12:1: parameters.seconds: --param: 9 is above the maximum 5 "
        "(fix: use a whole number from 3 to 5)"
    ) in result.output
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.mp4"))


def test_dry_run_validates_rows_and_prints_the_plan(
    offline: None, mini: Path, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("name,seconds\nkite,3\nboat,7\nsun,4\n")
    result = runner.invoke(
        app,
        [
            "recipe",
            "run",
            str(mini),
            "--rows",
            str(rows),
            "--out",
            str(tmp_path / "out"),
            "--dry-run",
            "--json",
        ],
    )
    assert result.exit_code == 2  # a row is invalid
    plan = json.loads(result.stdout)
    assert [(j["row"], j["status"]) for j in plan["jobs"]] == [(1, "to render"), (3, "to render")]
    assert plan["invalid"][0]["row_number"] == 2
    assert f"{rows}:3:1: seconds: row 2: 7 is above the maximum 5" in result.stderr
    assert plan["estimate"]["generations"] == 2
    assert not list((tmp_path / "out").glob("*.mp4"))


def test_run_renders_then_rerun_is_cached(offline: None, mini: Path, tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "rows.csv", ["kite", "boat"])
    args = ["recipe", "run", str(mini), "--rows", str(rows), "--out", str(tmp_path / "out")]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "2 done, 0 cached, 0 failed, 0 invalid" in first.stdout
    assert (tmp_path / "out" / "1-kite.mp4").is_file() and (
        tmp_path / "out" / "2-boat.mp4"
    ).is_file()
    again = runner.invoke(app, [*args, "--json"])
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)["summary"]
    assert (summary["done"], summary["cached"], summary["tasks_created"]) == (0, 2, 0)


def test_budget_refuses_before_anything_runs(offline: None, mini: Path, tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "rows.csv", ["kite", "boat"])
    result = runner.invoke(
        app,
        [
            "recipe",
            "run",
            str(mini),
            "--rows",
            str(rows),
            "--out",
            str(tmp_path / "out"),
            "--budget",
            "150",
        ],
    )
    assert result.exit_code == 3
    assert "the estimate (216 credits) exceeds the budget of 150" in result.stderr
    assert not list((tmp_path / "out").glob("*.mp4"))


def test_cluster_without_dask_runs_in_process(
    offline: None, mini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storyboard.cli.recipes.dask_available", lambda: False)
    result = runner.invoke(
        app, ["recipe", "run", str(mini), "--out", str(tmp_path / "out"), "--cluster", "local"]
    )
    assert result.exit_code == 0, result.output
    assert "--cluster needs dask.distributed (pip install 'storyboard[dask]')" in result.stderr
    assert "in-process" in result.stdout


def test_init_scaffolds_a_project_that_renders(offline: None, tmp_path: Path) -> None:
    folder = tmp_path / "film"
    result = runner.invoke(app, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in folder.rglob("*") if p.is_file()} == {
        "storyboard.yaml",
        "README.md",
        "start.png",
    }
    render = runner.invoke(app, ["render", str(folder / "storyboard.yaml")])
    assert render.exit_code == 0, render.output
    assert (folder / "out" / "first-light.mp4").is_file()
    again = runner.invoke(app, ["init", str(folder)])
    assert again.exit_code == 2
    assert "not overwriting existing files" in again.output
    assert "storyboard.yaml" in again.output


def test_values_beyond_the_bmp_reach_the_row_storyboard_intact(
    offline: None, mini: Path, tmp_path: Path
) -> None:
    """``tojson`` writes 😀 as one YAML escape, not two surrogate escapes read back as two
    broken characters (which failed the row, or the batch with an internal error)."""
    rows = tmp_path / "rows.csv"
    rows.write_text("name\nboat 🚤\nkite {{ 😀 }}\nsun ☀\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["recipe", "run", str(mini), "--rows", str(rows), "--out", str(out), "--dry-run", "--json"],
    )
    assert result.exit_code == 0, result.output
    assert "internal error" not in result.output
    plan = json.loads(result.stdout)
    assert [j["status"] for j in plan["jobs"]] == ["to render"] * 3
    from storyboard.load import load_file

    titles = [load_file(p).storyboard.title for p in sorted((out / ".storyboards").rglob("*.yaml"))]
    assert titles == ["boat 🚤", "kite {{ 😀 }}", "sun ☀"]
