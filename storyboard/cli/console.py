"""Printing for the CLI: diagnostics, JSON, and clean exits instead of tracebacks.

Every :class:`~storyboard.errors.StoryboardError` a command lets through ends here, in
:func:`report_error` (the root command wraps every command in :func:`errors_as_exits`):
its message, or its diagnostics, on stderr, and its class's exit code. Commands do not
map exceptions to exit codes themselves.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console

from storyboard.diagnostics import Diagnostic
from storyboard.errors import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_REFUSED,
    InputError,
    StoryboardError,
)

__all__ = [
    "EXIT_FAILED",
    "EXIT_INVALID",
    "EXIT_REFUSED",
    "err",
    "errors_as_exits",
    "fail",
    "out",
    "print_diagnostics",
    "print_json",
    "report_error",
    "terminal_confirm",
]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Machine-readable output on stdout, one document."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def print_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    """``FILE:LINE:COL: field.path: message`` lines on stderr, errors in red."""
    for item in diagnostics:
        style = "red" if item.severity == "error" else "yellow"
        err.print(str(item), style=style, markup=False, highlight=False)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print a one-line error on stderr and exit with ``code``."""
    err.print(f"storyboard: {message}", style="red", markup=False)
    raise typer.Exit(code)


def terminal_confirm() -> Callable[[str], bool] | None:
    """A yes/no prompt on the terminal; None when stdin is not one (no one to ask)."""
    if not sys.stdin.isatty():
        return None

    def ask(question: str) -> bool:
        return bool(typer.confirm(question))

    return ask


def report_error(exc: StoryboardError) -> int:
    """Print ``exc`` for the user (its diagnostics, file:line each, or one line); its
    exit code."""
    diagnostics: list[Diagnostic] | None = getattr(exc, "diagnostics", None)
    if diagnostics:
        print_diagnostics(diagnostics)
    else:
        err.print(f"storyboard: {exc}", style="red", markup=False)
    return exc.exit_code


@contextmanager
def errors_as_exits() -> Iterator[None]:
    """Turn a :class:`~storyboard.errors.StoryboardError` into its message and exit code."""
    try:
        yield
    except StoryboardError as exc:
        raise typer.Exit(report_error(exc)) from exc
    except sqlite3.Error as exc:  # the journal is the only SQLite file
        problem = InputError(f"the journal cannot be used ({exc}); run `storyboard doctor` on it")
        raise typer.Exit(report_error(problem)) from exc
