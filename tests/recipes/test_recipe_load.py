"""Recipe files: the built-ins load, and every problem of a bad recipe has a file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.recipes import (
    RecipeInvalid,
    RecipeNotFound,
    available_recipes,
    find_recipe,
    load_recipe_text,
)

BUILTINS = {"product-teaser", "continuity-chain", "social-cutdown"}

GOOD = """\
recipe: 1
name: demo
description: A demo.
parameters:
  title: {type: string, default: Hi}
storyboard: |
  storyboard: 1
  title: {{ title | tojson }}
  scenes: [{id: a, shots: [{prompt: hi, duration: 3}]}]
"""


def problems(text: str, path: Path) -> list[str]:
    with pytest.raises(RecipeInvalid) as caught:
        load_recipe_text(text, path)
    return [str(d) for d in caught.value.diagnostics]


def test_builtins_are_found_and_valid() -> None:
    found = available_recipes(env={})
    assert set(found) >= BUILTINS
    for name in BUILTINS:
        loaded = find_recipe(name, env={})
        assert loaded.builtin and loaded.name == name
        assert loaded.path.name == "recipe.yaml"
        assert all(p.description for p in loaded.recipe.parameters.values()) or name


def test_search_path_adds_user_recipes(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "recipe.yaml").write_text(GOOD)
    assert "demo" in available_recipes(env={"STORYBOARD_RECIPE_PATH": str(tmp_path)})
    assert find_recipe("demo", env={"STORYBOARD_RECIPE_PATH": str(tmp_path)}).name == "demo"
    assert find_recipe(str(tmp_path / "demo")).name == "demo"  # a folder path works too


def test_unknown_name_suggests() -> None:
    with pytest.raises(RecipeNotFound, match="did you mean 'product-teaser'"):
        find_recipe("product-teasr", env={})


def test_schema_problems_have_lines_and_fixes(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  title: {type: string, default: Hi}",
        "  title: {type: strin, default: Hi}\n  n: {type: integer, maximum: 3}",
    )
    text = text.replace("description: A demo.", "descripton: A demo.")
    file = tmp_path / "r.yaml"
    assert problems(text, file) == [
        f"{file}:1:1: description: Field required (fix: rename `descripton` to `description`)",
        f"{file}:3:1: descripton: unknown key 'descripton' (fix: did you mean `description`?)",
        f"{file}:5:11: parameters.title.type: unknown parameter type 'strin' (fix: use one of "
        "string, integer, number, boolean, choice, file, images, strings)",
        f"{file}:6:22: parameters.n.maximum: unknown key 'maximum' (fix: parameter keys: type, "
        "description, default and the type's limits)",
    ]


def test_parameter_names_must_work_in_templates(tmp_path: Path) -> None:
    text = GOOD.replace("  title: {type: string, default: Hi}", "  bad-name: {type: string}")
    assert (
        "parameter name 'bad-name': use lowercase letters" in problems(text, tmp_path / "r.yaml")[0]
    )
    text = GOOD.replace("  title: {type: string, default: Hi}", "  row_number: {type: string}")
    assert "'row_number' is reserved" in problems(text, tmp_path / "r.yaml")[0]


def test_defaults_must_be_valid_values(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  title: {type: string, default: Hi}",
        "  seconds: {type: integer, min: 3, max: 5, default: 9}\n"
        "  image: {type: file, default: missing.png}",
    )
    found = problems(text, tmp_path / "r.yaml")
    assert found[0].startswith(
        f"{tmp_path / 'r.yaml'}:5:1: parameters.seconds: default: 9 is above"
    )
    assert found[1].startswith(
        f"{tmp_path / 'r.yaml'}:6:1: parameters.image: default: file not found"
    )


def test_template_syntax_errors_point_into_the_recipe(tmp_path: Path) -> None:
    text = GOOD.replace("  title: {{ title | tojson }}", "  title: {{ title | tojson }\n  x: 1")
    found = problems(text, tmp_path / "r.yaml")
    assert len(found) == 1 and ":8:1: storyboard: template syntax error" in found[0]


def test_variants_may_not_shadow_parameters(tmp_path: Path) -> None:
    text = GOOD + "variants:\n  big: {title: x}\n"
    assert "variant 'big' sets title" in problems(text, tmp_path / "r.yaml")[0]
