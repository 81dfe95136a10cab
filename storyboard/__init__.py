"""storyboard: a declarative storyboard file in, an assembled Kling 3.0 video out.

The public Python API::

    import storyboard

    report = storyboard.validate("film.yaml")        # every problem, with file:line
    for generation in storyboard.compile("film.yaml"):
        print(generation.scene_id, generation.body)  # exact Kling 3.0 createTask bodies
    outcome = storyboard.render("film.yaml")          # offline animatic without KIE_API_KEY
    print(outcome.edit.path)
"""

from storyboard.compile import AssetSlot, Generation
from storyboard.diagnostics import Diagnostic
from storyboard.load import LoadedStoryboard, load_text
from storyboard.load import load_file as load
from storyboard.run.render import BudgetExceeded, RenderOutcome, render, render_async
from storyboard.spec import Element, Scene, Shot, Storyboard
from storyboard.validate import Report, StoryboardInvalid, validate
from storyboard.validate import compile_file as compile

__version__ = "0.1.0"

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
    "StoryboardInvalid",
    "__version__",
    "compile",
    "load",
    "load_text",
    "render",
    "render_async",
    "validate",
]
