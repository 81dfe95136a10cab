"""Filling the template and planning a batch: files staged inside the work folder,
storyboard errors with the instantiated file's line, bad rows named, nothing generated."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from storyboard.recipes import (
    InstanceInvalid,
    RecipeInvalid,
    find_recipe,
    instantiate,
    load_recipe,
    load_recipe_text,
    plan_batch,
)
from storyboard.recipes.batch import chain_jobs
from storyboard.recipes.templates import slug

from .recipe_helpers import write_rows


def test_slug() -> None:
    assert slug("AURORA Water Bottle!") == "aurora-water-bottle"
    assert slug("Crème brûlée") == "creme-brulee"
    assert slug("!!!") == "untitled"


def test_instance_uses_staged_names_and_renders_output() -> None:
    loaded = find_recipe("product-teaser", env={})
    values = {n: getattr(p, "default", None) for n, p in loaded.recipe.parameters.items()}
    folder = loaded.folder
    values["images"] = [folder / "assets/bottle.png", folder / "assets/bottle-2.png"]
    values["music"] = folder / "assets/music.mp3"
    staged = {p: f"assets/x-{p.name}" for p in [*values["images"], values["music"]]}
    instance = instantiate(loaded, values, staged, row_number=7)
    board = yaml.safe_load(instance.text)
    assert board["title"] == "AURORA water bottle"
    assert board["elements"]["product"]["images"] == [
        "assets/x-bottle.png",
        "assets/x-bottle-2.png",
    ]
    assert board["edit"]["music"]["path"] == "assets/x-music.mp3"
    assert instance.output == "7-aurora-water-bottle.mp4"
    assert instance.file_name == "row-0007.yaml"
    assert set(instance.assets) == set(staged.values())


def test_output_name_must_stay_inside_out(tmp_path: Path) -> None:
    text = (Path(__file__).parent / "fixtures/mini/recipe.yaml").read_text()
    bad = text.replace(
        'output: "{{ row_number }}-{{ name | slug }}.mp4"', 'output: "../{{ name }}.mp4"'
    )
    loaded = load_recipe_text(bad, tmp_path / "recipe.yaml")
    with pytest.raises(InstanceInvalid, match="must be a relative path inside --out"):
        instantiate(loaded, {"name": "x", "seconds": 3, "scenes": 1}, {}, row_number=1)


def test_plan_validates_every_row_first(offline: None, mini: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("name,seconds\nkite,3\nboat,9\nkite,3\n,4\n")
    plan = plan_batch(load_recipe(mini), tmp_path / "out", rows_file=rows)
    assert [j.job.row_number for j in plan.jobs] == [1, 3, 4]  # row 4: the default name
    [bad] = plan.invalid
    assert (bad.row_number, bad.status, bad.where) == (2, "invalid", f"{rows}:3")
    assert bad.diagnostics == [
        f"{rows}:3:1: seconds: row 2: 9 is above the maximum 5 (fix: "
        "use a whole number from 3 to 5)"
    ]
    assert plan.jobs[2].job.output.name == "4-a-red-kite.mp4"
    work = tmp_path / "out" / ".storyboards" / "mini"
    assert (work / "row-0001.yaml").is_file() and not (tmp_path / "out" / "1-kite.mp4").exists()
    cost = plan.cost()
    assert cost["generations"] == 2 and cost["credits"] > 0  # rows 1 and 3 share one


def test_storyboard_errors_name_the_instantiated_file(offline: None, tmp_path: Path) -> None:
    text = (Path(__file__).parent / "fixtures/mini/recipe.yaml").read_text()
    loaded = load_recipe_text(text.replace("max: 5", "max: 20"), tmp_path / "recipe.yaml")
    rows = write_rows(tmp_path / "rows.csv", ["ok", "long"], seconds=3)
    rows.write_text("name,seconds\nok,3\nlong,20\n")
    plan = plan_batch(loaded, tmp_path / "out", rows_file=rows)
    [bad] = plan.invalid
    assert bad.row_number == 2 and bad.where == f"{rows}:3"
    story = tmp_path / "out" / ".storyboards" / "mini" / "row-0002.yaml"
    assert bad.diagnostics[0].startswith(f"{story}:7:")
    assert "scenes[0].shots[0].duration" in bad.diagnostics[0]


def test_bad_cli_params_stop_the_batch_before_any_row(
    offline: None, mini: Path, tmp_path: Path
) -> None:
    with pytest.raises(RecipeInvalid) as caught:
        plan_batch(load_recipe(mini), tmp_path / "out", params={"seconds": "x", "nme": "a"})
    shown = [str(d) for d in caught.value.diagnostics]
    assert any(
        "mini/recipe.yaml:12:1: parameters.seconds: --param: 'x' is not a whole number" in s
        for s in shown
    )
    assert any("has no parameter 'nme' (fix: did you mean 'name'?)" in s for s in shown)


def test_variants_make_one_job_each(offline: None, tmp_path: Path) -> None:
    plan = plan_batch(find_recipe("social-cutdown", env={}), tmp_path / "out")
    outputs = sorted(Path(j.job.output).name for j in plan.jobs)
    assert outputs == ["1-good-boy-square.mp4", "1-good-boy-vertical.mp4"]
    ratios = {
        yaml.safe_load(j.job.storyboard.read_text())["defaults"]["aspect_ratio"] for j in plan.jobs
    }
    assert ratios == {"9:16", "1:1"}


def test_jobs_sharing_a_generation_are_chained(offline: None, mini: Path, tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "rows.csv", ["kite", "boat", "kite", "sun"])
    plan = plan_batch(load_recipe(mini), tmp_path / "out", rows_file=rows)
    chains = sorted([j.row_number for j in chain] for chain in chain_jobs(plan.jobs))
    assert chains == [[1, 3], [2], [4]]
