"""``storyboard recipe``: list, show and run recipes — one video, or one per row."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from storyboard.cli.console import (
    EXIT_INVALID,
    err,
    fail,
    out,
    print_json,
    terminal_confirm,
)
from storyboard.recipes.batch import BatchPlan, BatchResult, plan_batch, run_batch
from storyboard.recipes.cluster import connect, dask_available
from storyboard.recipes.jobs import JobResult, hold_journals
from storyboard.recipes.load import (
    LoadedRecipe,
    RecipeInvalid,
    available_recipes,
    find_recipe,
    load_recipe,
)
from storyboard.recipes.model import Recipe
from storyboard.recipes.params import parse_assignment
from storyboard.run.backend import BackendName
from storyboard.run.session import RenderSession

__all__ = ["app"]

app = typer.Typer(
    help="Reusable, parameterised pipelines: list, show and run recipes — one video, or one "
    "per row of a CSV/JSONL file, in-process or on a Dask cluster.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
NameArg = Annotated[
    str,
    typer.Argument(
        help="A recipe name (see `storyboard recipe list`) or the path of a recipe.yaml.",
        show_default=False,
    ),
]


# -- list / show -------------------------------------------------------------------------


@app.command("list")
def list_command(as_json: JsonOpt = False) -> None:
    """The recipes: built-ins, then those in STORYBOARD_RECIPE_PATH folders."""
    rows: list[dict[str, Any]] = []
    for name, (file, builtin) in available_recipes().items():
        try:
            description = load_recipe(file, builtin=builtin).recipe.description
            problem = None
        except RecipeInvalid as exc:
            description, problem = "", str(exc.diagnostics[0])
        rows.append(
            {
                "name": name,
                "description": description,
                "builtin": builtin,
                "path": str(file),
                "problem": problem,
            }
        )
    if as_json:
        print_json(rows)
        return
    table = Table(box=None)
    for column in ("name", "description", "from"):
        table.add_column(column)
    for row in rows:
        where = "built-in" if row["builtin"] else row["path"]
        text = row["description"] or f"[red]invalid: {row['problem']}[/]"
        table.add_row(row["name"], text, where)
    out.print(table)
    out.print("Show one: storyboard recipe show NAME · run it: storyboard recipe run NAME")


@app.command("show")
def show_command(name: NameArg, as_json: JsonOpt = False) -> None:
    """A recipe's parameters (type, default, limits, description), variants and settings."""
    loaded = find_recipe(name)
    recipe = loaded.recipe
    if as_json:
        print_json(_recipe_json(loaded))
        return
    out.print(f"[bold]{recipe.name}[/] — {recipe.description}")
    out.print(f"[dim]{loaded.path}[/]")
    table = Table(box=None)
    for column in ("parameter", "type", "default", "allowed", "description"):
        table.add_column(column)
    for pname, param in recipe.parameters.items():
        default = getattr(param, "default", None)
        shown = "[yellow](required)[/]" if default is None else _short(default)
        table.add_row(pname, param.type, shown, param.constraints(), param.description)
    out.print(table)
    if recipe.variants:
        variants = "; ".join(f"{n} ({_short(v)})" for n, v in recipe.variants.items())
        out.print(f"Variants (each storyboard is rendered once per variant): {variants}")
    run = recipe.run
    out.print(
        f"Run: backend {run.backend}, concurrency {run.concurrency}, rate {run.rate:g}/s, "
        f"budget {run.budget if run.budget is not None else 'none'}, output "
        f"{run.output}",
        markup=False,
    )
    example = " ".join(f"--param {n}=..." for n in list(recipe.parameters)[:2])
    out.print(f"Example: storyboard recipe run {recipe.name} {example}", markup=False)


def _recipe_json(loaded: LoadedRecipe) -> dict[str, Any]:
    recipe: Recipe = loaded.recipe
    parameters = {
        n: {**p.model_dump(mode="json"), "required": p.required, "allowed": p.constraints()}
        for n, p in recipe.parameters.items()
    }
    return {
        "name": recipe.name,
        "description": recipe.description,
        "path": str(loaded.path),
        "builtin": loaded.builtin,
        "parameters": parameters,
        "variants": recipe.variants,
        "run": recipe.run.model_dump(mode="json"),
    }


def _short(value: Any) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 48 else text[:45] + "..."


# -- run ---------------------------------------------------------------------------------


@app.command("run")
def run_command(
    name: NameArg,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="A parameter value, NAME=VALUE (repeat it). Lists: a|b|c or a JSON list.",
            show_default=False,
        ),
    ] = None,
    rows: Annotated[
        Path | None,
        typer.Option(
            "--rows",
            help="A .csv or .jsonl file: one video per row, its fields being parameters.",
            show_default=False,
        ),
    ] = None,
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="Folder of the outputs (and of the work folder .storyboards/)."),
    ] = Path("out"),
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            help="Run on Dask: `local` (a LocalCluster) or tcp://HOST:PORT (a running scheduler).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes of --cluster local.")] = (
        os.cpu_count() or 2
    ),
    parallel: Annotated[
        int,
        typer.Option(
            min=1,
            help="Videos rendered at once per process "
            "(in-process: in all; --cluster local: per worker).",
        ),
    ] = 2,
    backend: Annotated[
        BackendName | None,
        typer.Option(
            "--backend",
            help="offline or kie (default: the recipe's; auto = kie when KIE_API_KEY is set).",
            show_default=False,
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Generations in flight at once across the batch (default: the recipe's).",
            show_default=False,
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="API requests per second across the batch (default: the recipe's).",
            show_default=False,
        ),
    ] = None,
    budget: Annotated[
        float | None,
        typer.Option(
            help="Refuse to start when the estimate "
            "exceeds this many credits (default: the recipe's).",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Don't ask before paying.")] = False,
    resubmit_uncertain: Annotated[
        bool,
        typer.Option(
            help="Create again tasks whose createTask was in flight when a process died (may "
            "pay twice)."
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Validate every row and show the plan and cost; generate nothing."
        ),
    ] = False,
    as_json: JsonOpt = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="When another batch or render holds the "
            "batch's journal, wait for it instead of exiting.",
        ),
    ] = False,
) -> None:
    """Run a recipe: with no parameters a built-in renders its shipped example; with
    --rows, one video per row (all rows are validated first; a bad row is reported with
    its row number and the others still run; a re-run skips rows already done).

    Exit: 0 all done, 1 a video failed, 2 invalid input (a bad row, parameter or recipe),
    3 refused by the cost gate.
    """
    loaded = find_recipe(name)
    values = _params(param or [])
    if out_dir.exists() and not out_dir.is_dir():
        fail(
            f"--out {out_dir} is a file, not a folder; give a folder for the videos (it is "
            "created if needed)",
            EXIT_INVALID,
        )
    plan = _plan(
        loaded, out_dir, values, rows, backend, concurrency, rate, budget, resubmit_uncertain
    )
    _report_plan(plan, as_json and dry_run)
    if dry_run:
        if as_json:
            print_json(plan.to_json())
        else:
            _plan_table(plan)
        raise typer.Exit(EXIT_INVALID if plan.invalid else 0)
    _cost_gate(plan, yes)
    result = _run(plan, cluster, workers, parallel, as_json, wait)
    _summary(plan, result, as_json)
    raise typer.Exit(result.exit_code)


def _params(items: list[str]) -> dict[str, str]:
    values = {}
    for item in items:
        try:
            key, value = parse_assignment(item)
        except ValueError as exc:
            fail(str(exc), EXIT_INVALID)
        values[key] = value
    return values


def _plan(
    loaded: LoadedRecipe,
    out_dir: Path,
    values: dict[str, str],
    rows: Path | None,
    backend: BackendName | None,
    concurrency: int | None,
    rate: float | None,
    budget: float | None,
    resubmit_uncertain: bool,
) -> BatchPlan:
    return plan_batch(
        loaded,
        out_dir,
        params=values,
        rows_file=rows,
        backend=backend,
        concurrency=concurrency,
        rate=rate,
        budget=budget,
        resubmit_uncertain=resubmit_uncertain,
    )


def _report_plan(plan: BatchPlan, quiet: bool) -> None:
    for result in plan.invalid:
        _print_invalid(result)
    if quiet:
        return
    for planned in plan.jobs:
        for warning in planned.warnings:
            err.print(f"! {planned.job.label}: {warning}", style="yellow", markup=False)
    cost = plan.cost()
    done = len(plan.jobs) - len(plan.to_run)
    err.print(
        f"{plan.recipe.name} on {plan.backend.description}: {len(plan.jobs) + len(plan.invalid)}"
        f" video(s): {len(plan.to_run)} to render, {done} already done, {len(plan.invalid)} "
        f"invalid; to pay: ~{cost['credits']} credits (~${cost['usd']:.2f}) for "
        f"{cost['generations']} generation(s) — estimate",
        markup=False,
    )


def _plan_table(plan: BatchPlan) -> None:
    table = Table(box=None)
    for column in ("row", "from", "storyboard", "output", "status", "estimate"):
        table.add_column(column)
    for job in plan.to_json()["jobs"]:
        label = f"{job['row']}" + (f" ({job['variant']})" if job["variant"] else "")
        story = Path(job["storyboard"]).relative_to(plan.out_dir)
        output = Path(job["output"]).relative_to(plan.out_dir)
        table.add_row(
            label, job["where"], str(story), str(output), job["status"], f"{job['credits']} cr"
        )
    out.print(table)


def _print_invalid(result: JobResult) -> None:
    err.print(f"✗ {result.label} ({result.where}) is invalid:", style="red", markup=False)
    for line in result.diagnostics:
        err.print(f"  {line}", style="red", markup=False)


def _cost_gate(plan: BatchPlan, yes: bool) -> None:
    cost = plan.cost()
    RenderSession(plan.backend).check_cost(
        cost["credits"], usd=cost["usd"], budget=plan.budget, yes=yes, confirm=terminal_confirm()
    )


def _run(
    plan: BatchPlan, cluster: str | None, workers: int, parallel: int, as_json: bool, wait: bool
) -> BatchResult:
    show = (lambda result: None) if as_json else _progress
    if cluster is not None and not plan.to_run:
        cluster = None  # nothing to render: no need to start a cluster
    if cluster is not None and not dask_available():
        err.print(
            "storyboard: --cluster needs dask.distributed (pip install "
            "'storyboard[dask]'); running the batch in-process instead",
            style="yellow",
            markup=False,
        )
        cluster = None
    jobs = [planned.job for planned in plan.to_run]
    try:
        with hold_journals(jobs, plan.settings, wait=wait, on_wait=_waiting):
            if cluster is None:
                return run_batch(plan, parallel=parallel, on_result=show)
            with connect(cluster, workers=workers, threads=parallel) as client:
                return run_batch(plan, client=client, on_result=show)
    except KeyboardInterrupt:
        err.print(
            "storyboard: interrupted — tasks already created are in the journal; run "
            "the same command again to resume without paying twice"
        )
        raise typer.Exit(130) from None


def _waiting(holder: str) -> None:
    err.print(f"waiting for {holder} to release the batch's journal…", markup=False)


def _progress(result: JobResult) -> None:
    if result.status == "invalid":
        return
    if result.status == "failed":
        err.print(f"✗ {result.label} ({result.where}): {result.error}", style="red", markup=False)
        for line in result.diagnostics:
            err.print(f"  {line}", style="red", markup=False)
        return
    how = (
        "already done"
        if result.status == "cached"
        else f"{result.tasks_created} task(s), {result.credits:g} credits, {result.elapsed:.1f} s"
    )
    err.print(f"✓ {result.label}: {result.output} ({how})", markup=False)


def _summary(plan: BatchPlan, result: BatchResult, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "recipe": plan.recipe.name,
                "out": str(plan.out_dir),
                "estimate": plan.cost(),
                **result.to_json(),
            }
        )
        return
    s = result.summary()
    style = "green" if result.exit_code == 0 else "red"
    out.print(
        f"{s['done']} done, {s['cached']} cached, {s['failed']} failed, {s['invalid']} "
        f"invalid; {s['credits']:g} credits, {s['tasks_created']} task(s) created; "
        f"{s['elapsed_s']:.1f} s on {s['runner']}",
        style=style,
        markup=False,
    )
