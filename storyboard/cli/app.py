"""The root ``storyboard`` command: wires the command groups and guards against tracebacks."""

from __future__ import annotations

import os
import signal
import sys
from importlib import import_module
from types import FrameType

import typer

from storyboard.cli import authoring, doctor, export, init, production, review, takes
from storyboard.cli.console import EXIT_FAILED, err

__all__ = ["app", "main"]

app = typer.Typer(
    name="storyboard",
    help="Turn a storyboard file into an assembled Kling 3.0 video — or, without an API "
    "key, a free offline animatic of the same edit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)
authoring.register(app)
production.register(app)
export.register(app)
takes.register(app)
review.register(app)
init.register(app)
doctor.register(app)

_GROUPS = [("storyboard.cli.emulator", "emulator"), ("storyboard.cli.recipes", "recipe")]
for _module, _name in _GROUPS:
    try:
        _group = import_module(_module)
    except ModuleNotFoundError:  # pragma: no cover - a command group not built yet
        continue
    app.add_typer(_group.app, name=_name)


def _terminated(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so every temp file is removed on the way out."""
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point: no traceback reaches the user unless STORYBOARD_DEBUG=1."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        app()
    except KeyboardInterrupt:
        err.print("storyboard: interrupted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("STORYBOARD_DEBUG"):
            raise
        err.print(f"storyboard: internal error: {type(exc).__name__}: {exc}", markup=False)
        err.print("Run again with STORYBOARD_DEBUG=1 to see the traceback, and please report it.")
        sys.exit(EXIT_FAILED)
