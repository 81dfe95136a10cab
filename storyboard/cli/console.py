"""Printing for the CLI: diagnostics, JSON, and clean exits instead of tracebacks."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

import typer
from rich.console import Console

from storyboard.diagnostics import Diagnostic

__all__ = [
    "EXIT_FAILED",
    "EXIT_INVALID",
    "EXIT_REFUSED",
    "err",
    "fail",
    "out",
    "print_diagnostics",
    "print_json",
    "terminal_confirm",
]

EXIT_FAILED = 1
"""Something went wrong while running (a generation failed, the service refused, ...)."""
EXIT_INVALID = 2
"""The input is invalid (storyboard, recipe parameters, command-line options)."""
EXIT_REFUSED = 3
"""The cost gate refused: over the budget, or spending not confirmed; nothing was paid."""

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
