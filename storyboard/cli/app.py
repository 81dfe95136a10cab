"""The root ``storyboard`` command: wires the command groups and guards against tracebacks.

The commands are loaded lazily (:mod:`storyboard.cli.lazy`): ``storyboard --help`` and
``storyboard validate`` never import the runner, the emulator's web server or Dask.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

import typer

from storyboard.cli.console import EXIT_FAILED, err, report_error
from storyboard.cli.lazy import LazyGroup
from storyboard.errors import StoryboardError

__all__ = ["app", "main"]

app = typer.Typer(
    name="storyboard",
    cls=LazyGroup,
    help="Turn a storyboard file into an assembled Kling 3.0 video — or, without an API "
    "key, a free offline animatic of the same edit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root() -> None:
    """The commands are listed by :class:`~storyboard.cli.lazy.LazyGroup`."""


def _terminated(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so every temp file is removed on the way out."""
    raise KeyboardInterrupt


def _debug() -> bool:
    """STORYBOARD_DEBUG is set (not when the environment is unreadable: the error being
    reported matters more). Imported here, on the way out, for the start-up cost."""
    from storyboard.settings import Settings, SettingsError

    try:
        return Settings.from_env().debug
    except SettingsError:
        return False


def main() -> None:
    """Console-script entry point: no traceback reaches the user unless STORYBOARD_DEBUG=1."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        app()
    except KeyboardInterrupt:
        err.print("storyboard: interrupted")
        sys.exit(130)
    except StoryboardError as exc:  # raised outside a command (commands map their own)
        sys.exit(report_error(exc))
    except Exception as exc:
        if _debug():
            raise
        err.print(f"storyboard: internal error: {type(exc).__name__}: {exc}", markup=False)
        err.print("Run again with STORYBOARD_DEBUG=1 to see the traceback, and please report it.")
        sys.exit(EXIT_FAILED)
