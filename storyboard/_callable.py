"""Make a module callable, so ``storyboard.validate`` is both a submodule and a function.

The package re-exports ``validate``, ``compile`` and ``load`` under the names of their
own submodules. A package attribute can hold only one object, and importing a submodule
binds the module there; so the module itself forwards calls to the function.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

__all__ = ["make_callable"]


class _CallableModule(types.ModuleType):
    """A module whose calls go to its ``__call_target__`` (resolved on each call)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        target: Callable[..., Any] = self.__dict__["__call_target__"]()
        return target(*args, **kwargs)


def make_callable(module_name: str, target: Callable[[], Callable[..., Any]]) -> None:
    """Calling module ``module_name`` calls ``target()`` (a thunk, so imports stay lazy)."""
    module = sys.modules[module_name]
    module.__dict__["__call_target__"] = target
    module.__class__ = _CallableModule
