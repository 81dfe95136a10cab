"""Commands for takes: pick one for the edit (film.lock), or generate more of a scene."""

from __future__ import annotations

from typing import Annotated

import typer

from storyboard.cli.console import err, out, print_json
from storyboard.cli.production import (
    BackendOpt,
    BudgetOpt,
    FileArg,
    JsonOpt,
    StateOpt,
    YesOpt,
    cost_gate,
    generate_or_exit,
    prepare_or_exit,
)
from storyboard.picking import check_take, pick_take
from storyboard.run.progress import JsonLines
from storyboard.run.render import Prepared
from storyboard.run.session import RenderSession

__all__ = ["register"]

SceneArg = Annotated[str, typer.Argument(help="The scene id.", show_default=False)]


def register(app: typer.Typer) -> None:
    """Add ``pick`` and ``reroll`` to ``app``."""
    app.command("pick")(pick_command)
    app.command("reroll")(reroll_command)


def pick_command(
    file: FileArg,
    scene: SceneArg,
    take: Annotated[int, typer.Argument(min=1, help="The take to use in the edit.")],
    backend: BackendOpt = None,
    state: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Use take TAKE of SCENE in the edit: recorded in the lock file beside the storyboard
    (film.yaml → film.lock; commit it). Says which scenes the pick makes stale (their first
    frame follows the pick) and what regenerating them costs; nothing is paid here."""
    prepared = prepare_or_exit(file, backend, state)
    picked = pick_take(prepared, scene, take)
    cost = picked.cost
    if as_json:
        print_json(
            {
                "scene": scene,
                "entry": picked.entry.model_dump(mode="json"),
                "lock": str(picked.lock_path),
                "stale": picked.stale,
                "estimate": cost.__dict__,
            }
        )
        return
    out.print(f"[green]✓[/] picked take {take} of {scene} ({picked.lock_path.name})")
    if picked.stale:
        price = str(cost) if prepared.backend.billed else f"free here; on kie.ai: {cost}"
        err.print(
            f"now to generate: {', '.join(picked.stale)} — {price}; run `storyboard render {file}`",
            markup=False,
        )
    else:
        err.print(f"nothing to generate; `storyboard assemble {file}` uses the pick")


def reroll_command(
    file: FileArg,
    scene: SceneArg,
    n: Annotated[int, typer.Option("--n", min=1, max=4, help="How many more takes.")] = 1,
    backend: BackendOpt = None,
    state: StateOpt = None,
    budget: BudgetOpt = None,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Generate N more takes of SCENE (through the same cost gate as render); pick one with
    `storyboard pick`. Exit: 0 done, 1 a generation failed, 2 invalid input, 3 refused."""
    before = prepare_or_exit(file, backend, state)
    check_take(before, scene, 1)
    have = max(before.plan.takes[scene])
    prepared = prepare_or_exit(file, backend, state, more_takes={scene: n})
    new = {p.name for p in prepared.plan.takes[scene].values() if p.take > have}
    only = new | _upstream_to_generate(prepared, scene)
    cost_gate(prepared, budget, yes, as_json, only=only)
    options = RenderSession(prepared.backend).options()
    result = generate_or_exit(prepared, options, as_json, only=only)
    if as_json:
        JsonLines.write(
            {"event": "summary", "scene": scene, "new_takes": sorted(new), **result.to_json()}
        )
        return
    takes = ", ".join(str(t) for t in range(have + 1, have + n + 1))
    out.print(
        f"[green]✓[/] take(s) {takes} of {scene} generated; pick one with "
        f"`storyboard pick {file} {scene} TAKE`"
    )


def _upstream_to_generate(prepared: Prepared, scene: str) -> set[str]:
    """The picked takes of the scenes ``scene`` needs that have no clip yet."""
    plan, names = prepared.plan, set()
    for upstream, planned in plan.generations.items():
        if scene in plan.downstream(upstream) and prepared.status[upstream].kind != "cached":
            names.add(planned.name)
    return names
