"""A batch's rows loaded from the recipe's skeleton are exactly what parsing their text
gives (data, lines and columns, diagnostics); rows whose text is not the skeleton's with
their values in place are parsed in full. And the shortcuts of a dry run (keys without
the plan's graph, defaults coerced once) give what the full path gives."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from storyboard.load import LoadedStoryboard, load_text
from storyboard.plan import build_plan, picked_generations
from storyboard.recipes import InstanceInvalid, find_recipe, instantiate, load_recipe_text
from storyboard.recipes.instantiate import Instance, file_values
from storyboard.recipes.load import LoadedRecipe
from storyboard.recipes.params import FixedLayers, Layer, resolve_values
from storyboard.recipes.skeleton import Skeletons
from storyboard.recipes.workdir import staged_names
from storyboard.validate import validate_loaded

TRICKY = [
    "Bottle 1",
    "Café «Zürich»",
    'quote " and \\ back',
    "{{ 7*7 }}",
    "tab\there",
    "true",
    "12",
    "a: b",
    "- item",
    "#hash",
    "'single'",
    "<b>&amp;</b>",
    "line\nbreak",
    "null",
    "*alias",
    "&anchor",
    "!!python/object x",
    "",
    "  spaced  ",
    "x" * 200,
    "del\x7f",
    "emoji 😀",
    "lone \ud800 surrogate",
    "Qsb0vQ",
    "Qsb1vQ and Qsb01vQ",
    "\\u0041",
]


def _rows(loaded: LoadedRecipe, rows: list[dict[str, Any]], tmp_path: Path) -> Skeletons:
    """Each row through the skeleton and through load_text: the same storyboard."""
    skeletons = Skeletons(loaded)
    for number, row in enumerate(rows, start=1):
        instance = _instance(loaded, row, number)
        path = tmp_path / instance.file_name
        fast = skeletons.load(instance.text, instance.context, path)
        slow = load_text(instance.text, path)
        assert fast == slow, row
        assert _shown(fast) == _shown(slow), row
    return skeletons


def _instance(
    loaded: LoadedRecipe, row: dict[str, Any], number: int = 1, skeletons: Skeletons | None = None
) -> Instance:
    """The row's instance; with ``skeletons``, its text from them where they know it,
    which must be the text rendering gives (or fail as rendering fails)."""
    values, problems = resolve_values(loaded.recipe, [loaded.defaults_layer()])
    assert not problems
    values |= row
    staged = staged_names(file_values(values))
    try:
        rendered = instantiate(loaded, values, staged, row_number=number)
    except InstanceInvalid as exc:
        with pytest.raises(InstanceInvalid) as caught:
            instantiate(
                loaded,
                values,
                staged,
                row_number=number,
                known_text=skeletons.text if skeletons else None,
            )
        assert caught.value.diagnostics == exc.diagnostics
        raise
    if skeletons is not None:
        fast = instantiate(loaded, values, staged, row_number=number, known_text=skeletons.text)
        assert fast == rendered and fast.context == rendered.context
    return rendered


def _shown(loaded: LoadedStoryboard) -> list[str]:
    return [str(d) for d in validate_loaded(loaded, check_files=False).diagnostics]


def test_product_rows_are_loaded_from_the_skeleton(tmp_path: Path) -> None:
    loaded = find_recipe("product-teaser", env={})
    rows = [
        {"product": p, "tagline": t}
        for p in TRICKY
        for t in ("Cold.", TRICKY[len(p) % len(TRICKY)])
    ]
    skeletons = _rows(loaded, rows, tmp_path)
    assert skeletons.reused > len(rows) // 2  # the rest: values YAML reads otherwise
    assert skeletons.parsed >= 1 and skeletons.kept == {"mode"}  # mode is written unquoted


RECIPE = """\
recipe: 1
name: lines
description: values before other fields on the same line
parameters:
  name: {type: string, default: kite}
  word: {type: string, default: plain}
run:
  output: "{{ row_number }}.mp4"
storyboard: |
  storyboard: 1
  title: {{ (name ~ " / " ~ name) | tojson }}
  defaults: {mode: std, aspect_ratio: "1:1", sound: false}
  scenes:
    - {id: s1, shots: [{prompt: {{ name | tojson }}, duration: 3}, {prompt: {{ word | tojson }}, duration: 99}]}
  {%- if name | length > 30 %}
    - {id: long, shots: [{prompt: "long", duration: 3}]}
  {%- endif %}
  edit:
    titles:
      - {text: {{ name | tojson }}, start: 0.3, duration: 2, bogus: {{ word }}}
"""


def test_columns_after_a_value_move_with_its_length(tmp_path: Path) -> None:
    loaded = load_recipe_text(RECIPE, tmp_path / "recipe.yaml")
    rows = [{"name": n} for n in ["k", "a much longer kite name", 'q"q', "é" * 5, "z" * 40]]
    skeletons = _rows(loaded, rows, tmp_path)
    assert skeletons.kept == {"word"}  # unquoted in the edit
    assert skeletons.reused == 4 and skeletons.parsed == 1  # the long name adds a scene
    instance = _instance(loaded, {"name": "a much longer kite name"})
    fast = Skeletons(loaded)
    fast.load(instance.text, instance.context, tmp_path / "a.yaml")  # makes the skeleton
    board = fast.load(instance.text, instance.context, tmp_path / "b.yaml")
    assert fast.reused == 2
    duration = next(d for d in _shown(board) if "duration" in d and "scenes" in d)
    line = instance.text.splitlines()[4]
    assert f"b.yaml:5:{line.index('duration: 99') + 1}:" in duration


def test_stand_ins_are_only_trusted_where_values_are_quoted(tmp_path: Path) -> None:
    text = RECIPE.replace("title: {{ (name", "title: {{ (word").replace(
        "bogus: {{ word }}", "bogus: 1"
    )
    text = text.replace("storyboard: 1\n", "storyboard: 1\n  # {{ name }}\n", 1)
    loaded = load_recipe_text(text, tmp_path / "recipe.yaml")
    skeletons = _rows(loaded, [{"name": f"n{i}", "word": f"w{i}"} for i in range(4)], tmp_path)
    assert skeletons.kept == {"name"}  # also written in a comment
    assert len(skeletons.made) == 4  # every row has its own name, so its own skeleton


def test_product_rows_are_written_from_the_skeleton(tmp_path: Path) -> None:
    loaded = find_recipe("product-teaser", env={})
    skeletons = Skeletons(loaded)
    for number, product in enumerate(TRICKY, start=1):
        _instance(loaded, {"product": product, "tagline": product[::-1]}, number, skeletons)
    assert skeletons.written == len(TRICKY) - 1  # "{{ 7*7 }}" is escaped in the prompts


WRITES = """\
recipe: 1
name: writes
description: ways of writing a value
parameters:
  name: {type: string, default: kite}
  tags: {type: strings, default: [a, b]}
run:
  output: "{{ row_number }}.mp4"
storyboard: |
  storyboard: 1
  title: %s
  defaults: {mode: std, aspect_ratio: "1:1", sound: false}
  scenes:
    - {id: s1, shots: [{prompt: "a kite", duration: 3}]}
"""


@pytest.mark.parametrize(
    ("title", "written"),
    [
        ("{{ name | tojson }}", True),
        ('{{ ("The " ~ name ~ " " ~ tags[-1]) | tojson }}', True),
        ("{{ tags | tojson }}", True),  # a list: not a title, but written as JSON
        ("{{ name | upper | tojson }}", False),
        ("{{ name[0] | tojson }}", False),
        ("{{ (name ~ tags) | tojson }}", False),
        ("{{ name | tojson(indent=2) }}", False),
        ('"{{ name }}"', False),
        ("{% set x = name %}{{ x | tojson }}", False),
        ("{% for name in tags %}{{ name | tojson }}{% endfor %}", False),
        ("{% if name %}{{ name | tojson }}{% endif %}", False),
        ("{% filter upper %}{{ name | tojson }}{% endfilter %}", False),
        ("{% macro m(v) %}{{ v | tojson }}{% endmacro %}{{ m(name) }}", False),
        ("{{ name | tojson }}{# {{ name }} #}", True),
    ],
)
def test_rows_are_written_without_rendering_only_when_values_are_json(
    title: str, written: bool, tmp_path: Path
) -> None:
    loaded = load_recipe_text(WRITES % title, tmp_path / "recipe.yaml")
    skeletons = Skeletons(loaded)
    for number, name in enumerate(["kite", "", 'q"q', "x" * 300, "😀", "{{ 1 }}"], start=1):
        with contextlib.suppress(InstanceInvalid):  # when rendering fails too
            _instance(loaded, {"name": name, "tags": ["a", name]}, number, skeletons)
    made = [found for found in skeletons.made.values() if found is not None]
    assert any(found.written and found.names for found in made) == written


@pytest.mark.parametrize("recipe", ["continuity-chain", "product-teaser"])
def test_picked_generations_match_the_plan(recipe: str) -> None:
    loaded = find_recipe(recipe, env={})
    instance = _instance(loaded, {})
    report = validate_loaded(load_text(instance.text, Path("row.yaml")), check_files=False)
    assert report.ok, report.errors
    hashes = {a.source: "0" * 64 for g in report.generations for a in g.assets}
    for renderer in (None, "animatic 1"):
        plan = build_plan(report.generations, hashes, namespace="n", renderer=renderer)
        picked = picked_generations(report.generations, hashes, namespace="n", renderer=renderer)
        assert picked == plan.generations


def test_fixed_layers_give_what_resolving_each_time_gives(tmp_path: Path) -> None:
    loaded = find_recipe("product-teaser", env={})
    bad = Layer({"seconds": "99", "nope": 1}, tmp_path, "--param", "cli")
    base = [loaded.defaults_layer(), bad]
    fixed = FixedLayers(base)
    for product in ["a", "b"]:
        row = Layer({"product": product}, tmp_path, "row 1", "rows.csv")
        assert resolve_values(loaded.recipe, [*base, row], fixed) == resolve_values(
            loaded.recipe, [*base, row]
        )
