"""storyboard: a declarative storyboard file in, an assembled Kling 3.0 video out.

The public Python API::

    import storyboard

    report = storyboard.validate("film.yaml")        # every problem, with file:line
    for generation in storyboard.compile("film.yaml"):
        print(generation.scene_id, generation.body)  # exact Kling 3.0 createTask bodies
    outcome = storyboard.render("film.yaml")          # offline animatic without KIE_API_KEY
    print(outcome.edit.path)

Names are imported on first use (module ``__getattr__``), so ``import storyboard`` stays
cheap. ``storyboard.validate``, ``storyboard.compile`` and ``storyboard.load`` are also
submodules: they are the modules, made callable (see :mod:`storyboard._callable`), so
``import storyboard.compile as m`` gives the module and ``storyboard.compile(path)`` still
compiles a file.
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from storyboard.compile import AssetSlot, Generation
    from storyboard.diagnostics import Diagnostic
    from storyboard.errors import StoryboardError
    from storyboard.load import LoadedStoryboard, load_text
    from storyboard.load import load_file as load
    from storyboard.run.render import BudgetExceeded, RenderOutcome, render, render_async
    from storyboard.spec import Element, Scene, Shot, Storyboard
    from storyboard.validate import Report, StoryboardInvalid, validate
    from storyboard.validate import compile_file as compile

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "AssetSlot": "storyboard.compile",
    "Generation": "storyboard.compile",
    "Diagnostic": "storyboard.diagnostics",
    "StoryboardError": "storyboard.errors",
    "LoadedStoryboard": "storyboard.load",
    "load_text": "storyboard.load",
    "BudgetExceeded": "storyboard.run.render",
    "RenderOutcome": "storyboard.run.render",
    "render": "storyboard.run.render",
    "render_async": "storyboard.run.render",
    "Element": "storyboard.spec",
    "Scene": "storyboard.spec",
    "Shot": "storyboard.spec",
    "Storyboard": "storyboard.spec",
    "Report": "storyboard.validate",
    "StoryboardInvalid": "storyboard.validate",
}
"""Public name -> the module that defines it."""

_CALLABLE_SUBMODULES = ("compile", "load", "validate")
"""Submodules that double as the public functions of the same name."""

__all__ = [
    "AssetSlot",
    "BudgetExceeded",
    "Diagnostic",
    "Element",
    "Generation",
    "LoadedStoryboard",
    "RenderOutcome",
    "Report",
    "Scene",
    "Shot",
    "Storyboard",
    "StoryboardError",
    "StoryboardInvalid",
    "__version__",
    "compile",
    "load",
    "load_text",
    "render",
    "render_async",
    "validate",
]


def __getattr__(name: str) -> _typing.Any:
    if name in _CALLABLE_SUBMODULES:
        return _importlib.import_module(f"storyboard.{name}")  # importing binds it here too
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'storyboard' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
