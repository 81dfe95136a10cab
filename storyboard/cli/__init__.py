"""The ``storyboard`` command line (typer). Each sub-module owns a group of commands."""

from storyboard.cli.app import app, main

__all__ = ["app", "main"]
