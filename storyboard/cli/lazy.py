"""Command groups imported only when one of their commands runs (fast ``--help``).

Each command lives in a module that imports what it needs (the runner, the emulator's
web server, Dask, ...). :class:`LazyGroup` knows every command's name, module and summary
up front: ``storyboard --help`` lists them from that table, and running a command imports
only its own module.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches
from importlib import import_module

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from storyboard.cli.clicklib import click
from storyboard.cli.console import errors_as_exits

__all__ = ["COMMANDS", "LazyCommand", "LazyGroup", "load_command"]


@dataclass(frozen=True)
class LazyCommand:
    """Where command ``name`` is defined and what ``--help`` says about it."""

    name: str
    module: str
    summary: str
    """The first paragraph of the command's help, on one line (a test keeps it equal)."""
    group: bool = False
    """True when ``module.app`` is a sub-command group; else ``module.register(app)`` adds it."""


COMMANDS: tuple[LazyCommand, ...] = (
    LazyCommand(
        "validate",
        "storyboard.cli.authoring",
        "Check a storyboard: every error and warning at once, as FILE:LINE:COL: field: message.",
    ),
    LazyCommand(
        "compile",
        "storyboard.cli.authoring",
        "Print the exact Kling 3.0 createTask bodies, one per scene (generation).",
    ),
    LazyCommand(
        "schema",
        "storyboard.cli.authoring",
        "Print the storyboard JSON Schema (for editor completion and checks).",
    ),
    LazyCommand(
        "plan",
        "storyboard.cli.production",
        "Show what a render would do: each generation, its dependencies, estimated cost, and "
        "cache status (cached / new / stale because an input changed, and which), with the "
        "takes of each scene and which one is picked (film.lock).",
    ),
    LazyCommand(
        "render",
        "storyboard.cli.production",
        "Generate every scene (only what changed) and assemble the edit.",
    ),
    LazyCommand(
        "assemble",
        "storyboard.cli.production",
        "Re-assemble the edit from the clips already generated (nothing is generated).",
    ),
    LazyCommand(
        "export",
        "storyboard.cli.export",
        "Write the edit as fcp7xml (Premiere, Resolve), fcpxml (Final Cut Pro), edl (CMX 3600), "
        "aaf (Avid) or otio, from the clips already generated (nothing is generated or rendered).",
    ),
    LazyCommand(
        "pick",
        "storyboard.cli.takes",
        "Use take TAKE of SCENE in the edit: recorded in the lock file beside the storyboard "
        "(film.yaml → film.lock; commit it). Says which scenes the pick makes stale (their first "
        "frame follows the pick) and what regenerating them costs; nothing is paid here.",
    ),
    LazyCommand(
        "reroll",
        "storyboard.cli.takes",
        "Generate N more takes of SCENE (through the same cost gate as render); pick one with "
        "`storyboard pick`. Exit: 0 done, 1 a generation failed, 2 invalid input, 3 refused.",
    ),
    LazyCommand(
        "review",
        "storyboard.cli.review",
        "Review the storyboard in the browser: every take of every scene side by side, the "
        "picked take highlighted, the assembled edit on top, the plan as a picture. Pick takes "
        "(written to film.lock), reroll a scene, add notes. Serves on 127.0.0.1 only; the "
        "printed address carries a random token (keep it private). Ctrl-C stops it.",
    ),
    LazyCommand(
        "init",
        "storyboard.cli.init",
        "A new storyboard project (a storyboard using a reference image, the image, a "
        "README); `storyboard render DIR/storyboard.yaml` renders it offline at once. Never "
        "overwrites a file.",
    ),
    LazyCommand(
        "doctor",
        "storyboard.cli.doctor",
        "Check a journal (SQLite integrity, schema version, clips on disk) and repair it.",
    ),
    LazyCommand(
        "emulator",
        "storyboard.cli.emulator",
        "A local kie.ai emulator (same API, free animatic clips, seeded faults).",
        group=True,
    ),
    LazyCommand(
        "recipe",
        "storyboard.cli.recipes",
        "Reusable, parameterised pipelines: list, show and run recipes — one video, or one "
        "per row of a CSV/JSONL file, in-process or on a Dask cluster.",
        group=True,
    ),
)

_BY_NAME = {c.name: c for c in COMMANDS}


def load_command(name: str) -> click.Command:
    """Import the module defining command ``name`` and build its click command."""
    spec = _BY_NAME[name]
    module = import_module(spec.module)
    holder = typer.Typer(add_completion=False, rich_markup_mode="rich")
    if spec.group:
        holder.add_typer(module.app, name=name)
    else:
        module.register(holder)
    holder.callback()(_no_options)  # always a group, even with one command
    command = typer.main.get_group(holder).commands[name]
    return command


def _no_options() -> None:
    """Placeholder callback: forces typer to build a group."""


class LazyGroup(TyperGroup):
    """The root group: commands from :data:`COMMANDS`, each imported on first use."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(c.name for c in COMMANDS)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if (found := super().get_command(ctx, cmd_name)) is not None:
            return found
        if cmd_name not in _BY_NAME:
            return None
        if self._listing:  # help only needs the summary: do not import the module
            return TyperCommand(cmd_name, help=_BY_NAME[cmd_name].summary)
        command = load_command(cmd_name)
        self.add_command(command, cmd_name)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.UsageError as exc:
            close = get_close_matches(args[0], list(_BY_NAME)) if args else []
            if close and "Did you mean" not in exc.message:
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {close[0]!r}?"
            raise

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a :class:`~storyboard.errors.StoryboardError` it raises ends it
        with its message and exit code (the one place the CLI maps errors)."""
        with errors_as_exits():
            return super().invoke(ctx)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
