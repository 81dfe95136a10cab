"""Recipe values are data: parameters and row cells never run as template code, and a
dry run over many rows writes the storyboards but no journals."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.compile import compile_storyboard
from storyboard.load import load_file, load_text
from storyboard.recipes import RowsInvalid, load_recipe, plan_batch
from storyboard.recipes.literal import escape_jinja, literal_prompts
from storyboard.recipes.rows import parse_csv
from storyboard.templating import make_environment, render_string

from .recipe_helpers import write_rows

HOSTILE = [
    "{{ 7*7 }}",
    "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}",
    "{{ 'x' * 10**8 }}",
    "{% raw %}a{% endraw %} {{ b }}",
    "{#",
    "{{{",
    "}} {% endraw %} {{ x }}",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_renders_to_itself(text: str) -> None:
    assert render_string(make_environment(), escape_jinja(text), {}) == text


def test_literal_prompts_only_touch_prompts_with_jinja() -> None:
    board = (
        'storyboard: 1\ntitle: "{{ 7*7 }}"\nscenes:\n'
        "  - id: a\n    shots:\n      - prompt: |\n          Tagline {{ 7*7 }}\n"
        "        duration: 4\n      - {prompt: plain, duration: 4}\n"
    )
    text = literal_prompts(board)
    assert 'title: "{{ 7*7 }}"' in text and "{prompt: plain, duration: 4}" in text
    loaded = load_text(text, Path("row.yaml"))
    compiled = compile_storyboard(loaded)
    prompts = [s["prompt"] for s in compiled.generations[0].body["input"]["multi_prompt"]]
    assert prompts[0].startswith("Tagline {{ 7*7 }}") and prompts[1].startswith("plain")
    assert literal_prompts("title: x\n") == "title: x\n"


def test_param_and_cells_reach_the_prompt_verbatim(mini: Path, tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "rows.csv", ["{{ 7*7 }}", "{{ 'x' * 10**8 }}"])
    plan = plan_batch(load_recipe(mini), tmp_path / "out", rows_file=rows, backend="offline")
    assert not plan.invalid
    for planned, cell in zip(plan.jobs, ["{{ 7*7 }}", "{{ 'x' * 10**8 }}"], strict=True):
        loaded = load_file(planned.job.storyboard)
        prompt = compile_storyboard(loaded).generations[0].body["input"]["prompt"]
        assert prompt == f"{cell}, shot 1"


def test_dry_run_plans_without_creating_journals(mini: Path, tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "rows.csv", [f"kite {i}" for i in range(5)])
    plan = plan_batch(load_recipe(mini), tmp_path / "out", rows_file=rows, backend="offline")
    assert len(plan.jobs) == 5 and all(not j.cached for j in plan.jobs)
    assert all(j.job.storyboard.is_file() for j in plan.jobs)
    assert not list((tmp_path / "out").rglob("*.sqlite"))
    assert plan.cost()["generations"] == 5


def test_unclosed_quote_is_reported_at_its_row() -> None:
    text = 'name,seconds\nkite,3\n"open,3\nnext,4\n'
    with pytest.raises(RowsInvalid) as caught:
        parse_csv(text, Path("rows.csv"))
    problem = caught.value.diagnostics[0]
    assert (problem.line, "unexpected end of data" in problem.message) == (3, True)


def test_multiline_quoted_cell_still_reads() -> None:
    rows = parse_csv('name,seconds\n"two\nlines",3\nnext,4\n', Path("rows.csv"))
    assert [(r.line, r.values["name"]) for r in rows] == [(2, "two\nlines"), (4, "next")]
