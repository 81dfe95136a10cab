"""Commands for producing: plan, render, assemble."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from storyboard.cli.console import (
    EXIT_FAILED,
    EXIT_INVALID,
    err,
    fail,
    out,
    print_json,
    terminal_confirm,
)
from storyboard.picking import refresh_lock
from storyboard.plan import to_dot, to_mermaid
from storyboard.run.backend import BackendName
from storyboard.run.callbacks import parse_listen
from storyboard.run.progress import JsonLines, LiveProgress
from storyboard.run.render import AssembledEdit, Prepared, RunResult
from storyboard.run.session import RenderSession, take_label
from storyboard.run.steps import RunOptions
from storyboard.run.watch import WatchPass, watch_render

__all__ = [
    "BudgetOpt",
    "TakesOpt",
    "YesOpt",
    "cost_gate",
    "generate_or_exit",
    "prepare_or_exit",
    "register",
]

FileArg = Annotated[Path, typer.Argument(help="The storyboard file.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
BackendOpt = Annotated[
    BackendName | None,
    typer.Option(
        "--backend",
        help="offline (free animatic) or kie. Default: kie when KIE_API_KEY is set, else offline.",
        show_default=False,
    ),
]
StateOpt = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="State store file. Default: .storyboard/state.sqlite beside the storyboard.",
        show_default=False,
    ),
]
TakesOpt = Annotated[
    int | None,
    typer.Option(
        "--takes",
        min=1,
        max=4,
        help="Takes per scene (1-4), overriding the storyboard's `takes`.",
        show_default=False,
    ),
]
BudgetOpt = Annotated[
    float | None,
    typer.Option(
        help="Refuse to start when the estimate exceeds this many credits.", show_default=False
    ),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Don't ask before paying.")]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output",
        help="Output video. Default: the storyboard's output.path.",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add the production commands to ``app``."""
    app.command("plan")(plan_command)
    app.command("render")(render_command)
    app.command("assemble")(assemble_command)


OutsideOpt = Annotated[
    bool,
    typer.Option(
        "--allow-outside", help="Allow asset and output paths outside the storyboard's folder."
    ),
]
WaitOpt = Annotated[
    bool,
    typer.Option(
        "--wait",
        help="When another render or assemble holds the journal, wait for it instead of exiting.",
    ),
]


def _prepare(
    session: RenderSession,
    file: Path,
    state: Path | None,
    allow_outside: bool = False,
    read_journal: bool = True,
    **options: Any,
) -> Prepared:
    return session.prepare(
        file, state_path=state, allow_outside=allow_outside, read_journal=read_journal, **options
    )


def _output(
    session: RenderSession,
    prepared: Prepared,
    override: Path | None,
    allow_outside: bool,
    as_json: bool,
) -> Path:
    """The checked output path (exit 2 before anything is generated when refused)."""
    choice = session.output(prepared, override, allow_outside=allow_outside)
    for note in choice.notes:
        if as_json:
            JsonLines.write({"event": "note", "message": note})
        else:
            err.print(note, markup=False)
    return choice.path


@contextmanager
def _locked(
    session: RenderSession, prepared: Prepared, wait: bool, as_json: bool
) -> Iterator[Prepared]:
    """Hold the journal's lock, then read the cache status again under it."""

    def waiting(holder: str) -> None:
        message = f"waiting for {holder} to release the journal {prepared.state_path}…"
        if as_json:
            JsonLines.write({"event": "waiting", "message": message})
        else:
            err.print(message, markup=False)

    with session.locked(prepared, wait=wait, on_wait=waiting):
        yield prepared


def prepare_or_exit(
    file: Path, backend: BackendName | None, state: Path | None, **options: Any
) -> Prepared:
    """:func:`prepare` on ``backend`` (bad input raises; the CLI prints it, exit 2)."""
    return _prepare(RenderSession.choose(backend), file, state, **options)


# -- plan -------------------------------------------------------------------------------


def plan_command(
    file: FileArg,
    backend: BackendOpt = None,
    as_json: JsonOpt = False,
    state: StateOpt = None,
    graph: Annotated[
        str | None,
        typer.Option("--graph", help="Print the DAG as dot or mermaid.", show_default=False),
    ] = None,
    allow_outside: OutsideOpt = False,
    takes: TakesOpt = None,
) -> None:
    """Show what a render would do: each generation, its dependencies, estimated cost, and
    cache status (cached / new / stale because an input changed, and which), with the
    takes of each scene and which one is picked (film.lock)."""
    prepared = _prepare(RenderSession.choose(backend), file, state, allow_outside, takes=takes)
    if graph is not None:
        if graph not in {"dot", "mermaid"}:
            fail("--graph takes dot or mermaid", EXIT_INVALID)
        sys.stdout.write(to_dot(prepared.plan) if graph == "dot" else to_mermaid(prepared.plan))
        return
    rows = _plan_rows(prepared)
    cost = prepared.cost()
    if as_json:
        print_json(
            {
                "backend": prepared.backend.name,
                "generations": rows,
                "totals": {**cost.__dict__, "all_generations": len(rows)},
            }
        )
        return
    table = Table(title=f"{prepared.storyboard.title} — {prepared.backend.description}")
    for column in ("scene", "shots", "s", "mode", "sound", "needs", "takes", "estimate", "status"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["scene"],
            str(row["shots"]),
            str(row["duration"]),
            row["mode"],
            "on" if row["sound"] else "off",
            ", ".join(row["depends_on"]) or "—",
            _takes_cell(row),
            f"{row['credits']} cr / ${row['usd']:.2f}",
            _status_cell(row),
        )
    out.print(table)
    out.print(f"To pay: {cost}")


def _takes_cell(row: dict[str, Any]) -> str:
    count = len(row["takes"])
    return "1" if count == 1 else f"{count} (picked {row['take']})"


def _status_cell(row: dict[str, Any]) -> str:
    text = str(row["status"])
    if row["reasons"]:
        text += ": " + "; ".join(row["reasons"])
    others = [f"take {t['take']} {t['status']}" for t in row["takes"] if not t["picked"]]
    if others:
        text += f" ({', '.join(others)})"
    if row["lock"]["state"] == "stale":
        text += f"; lock stale: {row['lock']['message']}"
    return text


def _plan_rows(prepared: Prepared) -> list[dict[str, Any]]:
    rows = []
    every = prepared.all_status()
    for scene, planned in prepared.plan.generations.items():
        data = planned.generation.body["input"]
        status = prepared.status[scene]
        takes = [
            {
                "take": p.take,
                "key": p.key,
                "status": every[p.name].kind,
                "reasons": every[p.name].reasons,
                "task_id": every[p.name].task_id,
                "credits": p.estimate.credits,
                "picked": p.take == planned.take,
            }
            for p in prepared.plan.takes[scene].values()
        ]
        rows.append(
            {
                "scene": scene,
                "shots": planned.generation.shot_count,
                "duration": planned.generation.duration,
                "mode": data["mode"],
                "sound": data["sound"],
                "depends_on": list(planned.generation.depends_on),
                "credits": planned.estimate.credits,
                "usd": planned.estimate.usd,
                "key": planned.key,
                "status": status.kind,
                "reasons": status.reasons,
                "task_id": status.task_id,
                "take": planned.take,
                "takes": takes,
                "lock": prepared.lock_states[scene].to_json(),
            }
        )
    return rows


# -- render -----------------------------------------------------------------------------


def render_command(
    file: FileArg,
    output: OutOpt = None,
    backend: BackendOpt = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Generations in flight at once.")] = 4,
    rate: Annotated[
        float, typer.Option("--rate", min=0.1, help="API requests per second, at most.")
    ] = 5.0,
    budget: BudgetOpt = None,
    yes: YesOpt = False,
    retry_budget: Annotated[
        int, typer.Option(min=0, help="New tasks allowed per failed generation.")
    ] = 2,
    resubmit_uncertain: Annotated[
        bool,
        typer.Option(
            help="Create again tasks whose createTask was in flight when a run died (may pay "
            "twice)."
        ),
    ] = False,
    state: StateOpt = None,
    callback_url: Annotated[
        str | None,
        typer.Option(
            help="Public URL kie.ai should POST completions to (forwarded to --callback-listen); "
            "polling stays as a slow safety net.",
            show_default=False,
        ),
    ] = None,
    callback_listen: Annotated[
        str, typer.Option(help="HOST:PORT the callback receiver listens on.")
    ] = "127.0.0.1:8787",
    assemble: Annotated[bool, typer.Option(help="Assemble the edit after generating.")] = True,
    as_json: JsonOpt = False,
    allow_outside: OutsideOpt = False,
    wait: WaitOpt = False,
    takes: TakesOpt = None,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Keep watching: re-validate on every save of the storyboard or its "
            "files and render again (only what changed). Offline by default; against kie.ai "
            "only with --yes and --budget.",
        ),
    ] = False,
) -> None:
    """Generate every scene (only what changed) and assemble the edit.

    Offline by default (a free animatic through the in-process emulator); with KIE_API_KEY
    set, Kling 3.0 on kie.ai. Exit: 0 done, 1 a generation or the assembly failed,
    2 invalid input (or the journal is in use: see --wait), 3 refused by the cost gate.
    """
    session = RenderSession.choose(backend)
    prepared = _prepare(session, file, state, allow_outside, read_journal=False, takes=takes)
    if watch:
        _watch(prepared, budget, yes, output, state, takes, as_json)
        return
    out_file = _output(session, prepared, output, allow_outside, as_json) if assemble else None
    try:
        listen = parse_listen(callback_listen)
    except ValueError as exc:
        fail(f"--callback-listen: {exc}", EXIT_INVALID)
    with _locked(session, prepared, wait, as_json):
        _render_locked(
            session,
            prepared,
            out_file,
            listen,
            as_json,
            budget=budget,
            yes=yes,
            retry_budget=retry_budget,
            concurrency=concurrency,
            rate=rate,
            resubmit_uncertain=resubmit_uncertain,
            callback_url=callback_url,
        )


def _render_locked(
    session: RenderSession,
    prepared: Prepared,
    out_file: Path | None,
    listen: tuple[str, int],
    as_json: bool,
    *,
    budget: float | None,
    yes: bool,
    retry_budget: int,
    concurrency: int,
    rate: float,
    resubmit_uncertain: bool,
    callback_url: str | None,
) -> None:
    cost_gate(prepared, budget, yes, as_json, session=session)
    options = session.options(
        resubmit_uncertain=resubmit_uncertain,
        concurrency=concurrency,
        requests_per_second=rate,
        retry_budget=retry_budget,
        callback_url=callback_url,
        callback_listen=listen,
    )
    result = _generate(session, prepared, options, as_json)
    if not result.ok:
        _fail_summary(result, as_json)
    if out_file is None:
        _done(prepared, result, None, as_json)
        return
    edit = _assemble(session, prepared, result.clips(), out_file, as_json)
    _relock(prepared, result.clips(), as_json)
    _done(prepared, result, edit, as_json)


def cost_gate(
    prepared: Prepared,
    budget: float | None,
    yes: bool,
    as_json: bool,
    only: set[str] | None = None,
    *,
    session: RenderSession | None = None,
) -> None:
    """Say what will be paid for; refuse (exit 3) over ``budget`` or when not confirmed.
    ``only``: the takes (``scene#take``) this run generates, default all."""
    session = session or RenderSession(prepared.backend)
    quote = session.quote(prepared, only)
    if as_json:
        JsonLines.write(
            {
                "event": "plan",
                "to_generate": quote.paying,
                "estimate": quote.cost.__dict__,
                "warnings": quote.warnings,
            }
        )
    else:
        for warning in quote.warnings:
            err.print(f"warning: {warning}", style="yellow", markup=False)
        err.print(quote.message(prepared.backend), markup=False)
    session.check_cost(
        quote.cost.credits, usd=quote.cost.usd, budget=budget, yes=yes, confirm=terminal_confirm()
    )


def generate_or_exit(
    prepared: Prepared, options: RunOptions, as_json: bool, only: set[str] | None = None
) -> RunResult:
    """Generate with progress shown; a failure prints its summary and exits 1."""
    result = _generate(RenderSession(prepared.backend), prepared, options, as_json, only)
    if not result.ok:
        _fail_summary(result, as_json)
    return result


def _generate(
    session: RenderSession,
    prepared: Prepared,
    options: RunOptions,
    as_json: bool,
    only: set[str] | None = None,
) -> RunResult:
    plan = prepared.plan
    scenes = [
        plan.take_node(p).name
        for t in plan.takes.values()
        for p in t.values()
        if only is None or p.name in only
    ]
    try:
        if as_json:
            return session.generate(prepared, options, JsonLines(), only=only)
        with LiveProgress(scenes, err) as progress:
            result = session.generate(prepared, options, progress, only=only)
            for scene, gen in result.generations.items():
                if not gen.ok:
                    progress.fail(scene, (gen.error or "")[:80])
            return result
    except KeyboardInterrupt:
        err.print(
            "storyboard: interrupted — tasks already created are in the journal; run "
            "the same command again to resume without paying twice"
        )
        raise typer.Exit(130) from None


def _assemble(
    session: RenderSession,
    prepared: Prepared,
    clips: dict[str, Path],
    out_file: Path,
    as_json: bool,
    force: bool = False,
) -> AssembledEdit:
    if as_json:
        return session.assemble(prepared, clips, out_file, progress=_json_progress, force=force)
    with err.status("assembling the edit…") as status:

        def show(step: str, fraction: float) -> None:
            status.update(f"assembling the edit: {step} {fraction:.0%}")

        return session.assemble(prepared, clips, out_file, progress=show, force=force)


def _watch(
    prepared: Prepared,
    budget: float | None,
    yes: bool,
    output: Path | None,
    state: Path | None,
    takes: int | None,
    as_json: bool,
) -> None:
    if prepared.backend.name != "offline" and not (yes and budget is not None):
        fail(
            "--watch against kie.ai needs --yes and --budget CREDITS (every save may pay); "
            "use --backend offline for a free animatic",
            EXIT_INVALID,
        )
    if not as_json:
        err.print(f"watching {prepared.path.name} and its files; Ctrl-C stops", markup=False)
    try:
        watch_render(
            prepared.path,
            prepared.backend,
            on_pass=lambda p: _report_pass(p, as_json),
            budget=budget,
            state_path=state,
            output=output,
            takes=takes,
        )
    except KeyboardInterrupt:
        err.print("storyboard: stopped watching")


def _report_pass(done: WatchPass, as_json: bool) -> None:
    outcome = done.outcome
    if as_json:
        summary = outcome.result.to_json() if outcome else None
        edit = str(outcome.edit.path) if outcome and outcome.edit else None
        JsonLines.write(
            {
                "event": "watch",
                "pass": done.number,
                "ok": done.ok,
                "diagnostics": done.diagnostics,
                "refused": done.refused,
                "error": done.error,
                "summary": summary,
                "edit": edit,
            }
        )
        return
    if done.diagnostics:
        err.print(f"pass {done.number}: the storyboard is invalid; fix it and save:")
        for line in done.diagnostics:
            err.print(f"  {line}", style="red", markup=False)
    elif done.refused or done.error:
        err.print(f"pass {done.number}: {done.refused or done.error}", style="red", markup=False)
    elif outcome is not None:
        result = outcome.result
        made = [
            f"{g.scene_id}#{g.take}".removesuffix("#1")
            for g in result.all_results()
            if g.status_before != "cached" and g.ok
        ]
        failed = [g.scene_id for g in result.all_results() if not g.ok]
        line = f"pass {done.number}: generated {', '.join(made) or 'nothing'}"
        line += f"; failed: {', '.join(failed)}" if failed else ""
        line += f"; edit: {outcome.edit.summary}" if outcome.edit else ""
        err.print(line, markup=False)


def _relock(prepared: Prepared, clips: dict[str, Path], as_json: bool) -> None:
    """Keep the lock file (if the storyboard has one) naming the clips of the edit."""
    changed = refresh_lock(prepared, clips)
    if changed and not as_json:
        name = prepared.path.with_suffix(".lock").name
        err.print(
            f"{name}: locked the clips of {', '.join(changed)} (new, or their request changed)",
            markup=False,
        )


def _json_progress(step: str, fraction: float) -> None:
    JsonLines.write({"event": "assemble", "step": step, "fraction": round(fraction, 3)})


def _fail_summary(result: RunResult, as_json: bool) -> None:
    failed = {
        take_label(f"{g.scene_id}#{g.take}", g.take): g.error
        for g in result.all_results()
        if not g.ok
    }
    if as_json:
        JsonLines.write({"event": "summary", **result.to_json()})
    else:
        for scene, error in failed.items():
            err.print(f"✗ {scene}: {error}", style="red", markup=False)
        for node, error in result.other_failures.items():
            err.print(f"✗ {node}: {error}", style="red", markup=False)
        done = len(result.all_results()) - len(failed)
        err.print(
            f"{done} of {len(result.all_results())} generation(s) done; "
            f"{result.credits:g} credits spent this run{_actual(result)}. Fix the cause "
            "and run again: "
            "finished clips and created tasks are reused."
        )
    raise typer.Exit(EXIT_FAILED)


def _actual(result: RunResult) -> str:
    actual = result.credits_actual
    return "" if actual is None else f" (estimate; {actual:g} actual, from creditsConsumed)"


def _done(prepared: Prepared, result: RunResult, edit: AssembledEdit | None, as_json: bool) -> None:
    if as_json:
        assembly = {**edit.report, "reused": edit.reused} if edit else None
        JsonLines.write({"event": "summary", **result.to_json(), "assembly": assembly})
        return
    created = len(result.submitted)
    every = result.all_results()
    cached = sum(1 for g in every if g.status_before == "cached")
    spent = (
        f"{result.credits:g} credits"
        if prepared.backend.billed
        else (f"{result.credits:g} emulated credits")
    )
    if result.credits_actual is not None:
        spent += f" estimated, {result.credits_actual:g} actual (creditsConsumed)"
    err.print(
        f"✓ {len(every)} generation(s): {cached} cached, {created} task(s) "
        f"created, {spent}; {result.elapsed:.1f} s"
    )
    if result.failed_tasks:
        failed = sum(result.failed_tasks.values())
        err.print(
            f"  {len(result.failed_tasks)} task(s) failed and were created again "
            f"({result.retries} retries); {failed:g} of the credits are for the failed "
            "tasks (kie.ai may refund them)"
        )
    if result.api_retries:
        err.print(f"  {result.api_retries} request(s) repeated after a service or network error")
    if edit is not None:
        out.print(f"[green]✓[/] {edit.summary}")
        _warn(edit)


def _warn(edit: AssembledEdit) -> None:
    for warning in edit.report.get("warnings", []):
        err.print(f"storyboard: warning: {warning}", style="yellow", markup=False)


# -- assemble ---------------------------------------------------------------------------


def assemble_command(
    file: FileArg,
    output: OutOpt = None,
    backend: BackendOpt = None,
    state: StateOpt = None,
    as_json: JsonOpt = False,
    allow_outside: OutsideOpt = False,
    wait: WaitOpt = False,
) -> None:
    """Re-assemble the edit from the clips already generated (nothing is generated)."""
    session = RenderSession.choose(backend)
    prepared = _prepare(session, file, state, allow_outside, read_journal=False)
    out_file = _output(session, prepared, output, allow_outside, as_json)
    with _locked(session, prepared, wait, as_json):
        clips = prepared.stored_clips()
        missing = [s for s in prepared.plan.generations if s not in clips]
        if missing:
            fail(
                f"no clip yet for {', '.join(missing)}; run `storyboard render {file}` first",
                EXIT_FAILED,
            )
        edit = _assemble(session, prepared, clips, out_file, as_json, force=True)
        _relock(prepared, clips, as_json)
    if as_json:
        print_json(edit.report)
    else:
        out.print(f"[green]✓[/] {edit.summary}")
        _warn(edit)
