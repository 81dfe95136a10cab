"""``storyboard init DIR``: scaffold a project that renders offline at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from storyboard.cli.console import EXIT_INVALID, fail, out, print_diagnostics
from storyboard.load import load_text
from storyboard.recipes.scaffold import ProjectExists, project_files, write_project

__all__ = ["init_command", "register"]


def register(app: typer.Typer) -> None:
    """Add ``init`` to ``app``."""
    app.command("init")(init_command)


def init_command(
    folder: Annotated[
        Path,
        typer.Argument(help="Folder of the new project (created if needed).", show_default=False),
    ],
    title: Annotated[str, typer.Option(help="Title of the storyboard.")] = "First Light",
) -> None:
    """A new storyboard project (a storyboard using a reference image, the image, a
    README); `storyboard render DIR/storyboard.yaml` renders it offline at once. Never
    overwrites a file."""
    text = project_files(title)["storyboard.yaml"]
    assert isinstance(text, str)
    problems = load_text(text, folder / "storyboard.yaml")
    if problems.errors:
        print_diagnostics(problems.errors)
        fail("this --title does not make a valid storyboard; nothing was written", EXIT_INVALID)
    try:
        written = write_project(folder, title)
    except ProjectExists as exc:
        fail(f"not overwriting existing files: {exc}; choose an empty folder", EXIT_INVALID)
    except OSError as exc:
        fail(f"cannot write the project: {exc.strerror or exc}", EXIT_INVALID)
    for path in written:
        out.print(f"[green]+[/] {path}")
    out.print(f"Render it: storyboard render {folder / 'storyboard.yaml'}", markup=False)
