"""The ``storyboard`` command line (typer). Each sub-module owns a group of commands.

``app`` and ``main`` are imported on first use, so ``import storyboard.cli.console`` (or
any command module) does not build the whole command line.
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from storyboard.cli.app import app, main

__all__ = ["app", "main"]


def __getattr__(name: str) -> _typing.Any:
    if name in __all__:
        # Importing the submodule ``storyboard.cli.app`` binds it here under the same
        # name as the Typer ``app``: bind the Typer objects over it afterwards.
        module = _importlib.import_module("storyboard.cli.app")
        globals().update(app=module.app, main=module.main)
        return globals()[name]
    raise AttributeError(f"module 'storyboard.cli' has no attribute {name!r}")
