"""Recipes: reusable, parameterised pipelines, run once or fanned out over rows.

::

    from pathlib import Path
    from storyboard.recipes import find_recipe, plan_batch, run_batch

    recipe = find_recipe("product-teaser")               # a built-in, or a recipe.yaml path
    plan = plan_batch(recipe, Path("out"), rows_file=Path("products.csv"))
    for bad in plan.invalid:                              # every row checked before anything runs
        print("\\n".join(bad.diagnostics))                # rows.csv:7:1: tagline: row 6: ...
    print(plan.cost())                                    # each distinct generation counted once
    result = run_batch(plan)                              # or run_batch(plan, client=dask_client)
    print(result.summary())                               # done, cached, failed, invalid, credits

The stages, one module each: :mod:`~storyboard.recipes.model` (the format),
:mod:`~storyboard.recipes.params` (values), :mod:`~storyboard.recipes.load` (finding and
checking recipes), :mod:`~storyboard.recipes.rows` (CSV/JSONL),
:mod:`~storyboard.recipes.instantiate` (the template), :mod:`~storyboard.recipes.workdir`
(files on disk), :mod:`~storyboard.recipes.batch` (plan and run),
:mod:`~storyboard.recipes.jobs` (one storyboard), :mod:`~storyboard.recipes.cluster` and
:mod:`~storyboard.recipes.limits` (Dask), :mod:`~storyboard.recipes.scaffold` (``init``).
"""

from storyboard.recipes.batch import BatchPlan, BatchResult, PlannedJob, plan_batch, run_batch
from storyboard.recipes.cluster import ClusterUnavailable, connect, dask_available
from storyboard.recipes.instantiate import Instance, InstanceInvalid, instantiate
from storyboard.recipes.jobs import Job, JobResult, RenderSettings
from storyboard.recipes.load import (
    LoadedRecipe,
    RecipeInvalid,
    RecipeNotFound,
    available_recipes,
    find_recipe,
    load_recipe,
    load_recipe_text,
)
from storyboard.recipes.model import Recipe, RunSettings
from storyboard.recipes.params import ParamError, coerce
from storyboard.recipes.rows import Row, RowsInvalid, read_rows
from storyboard.recipes.scaffold import ProjectExists, write_project

__all__ = [
    "BatchPlan",
    "BatchResult",
    "ClusterUnavailable",
    "Instance",
    "InstanceInvalid",
    "Job",
    "JobResult",
    "LoadedRecipe",
    "ParamError",
    "PlannedJob",
    "ProjectExists",
    "Recipe",
    "RecipeInvalid",
    "RecipeNotFound",
    "RenderSettings",
    "Row",
    "RowsInvalid",
    "RunSettings",
    "available_recipes",
    "coerce",
    "connect",
    "dask_available",
    "find_recipe",
    "instantiate",
    "load_recipe",
    "load_recipe_text",
    "plan_batch",
    "read_rows",
    "run_batch",
    "write_project",
]
