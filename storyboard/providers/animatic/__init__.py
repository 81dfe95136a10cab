"""The animatic renderer: a free, offline preview clip for a Kling 3.0 createTask body.

>>> from storyboard.providers.animatic import render_animatic, animatic_size
>>> body = {"model": "kling-3.0/video", "input": {"prompt": "a red kite", "duration": "5",
...         "mode": "std", "aspect_ratio": "16:9", "sound": False, "multi_shots": False}}
>>> animatic_size(body)
(1280, 720)

Modules, in data-flow order: :mod:`.spec` reads the body, :mod:`.timing` places shots
and stills on the frame grid, :mod:`.layout` and :mod:`.text` do the (pure) geometry and
text fitting, :mod:`.assets` fetches images, :mod:`.cards` paints the stills, and
:mod:`.render` encodes them with ffmpeg.
"""

from __future__ import annotations

import typing as _typing

from .layout import animatic_size

if _typing.TYPE_CHECKING:
    from .render import render_animatic

__all__ = ["ANIMATIC_VERSION", "animatic_size", "render_animatic"]

ANIMATIC_VERSION = 2
"""The version of the animatic's look. Bump it whenever a change here changes the clips
rendered for the same body: it is part of every offline content key (the ``renderer``
of :func:`storyboard.run.backend.choose_backend`), so the next offline render draws every
clip again instead of reusing the old ones. kie.ai content keys never include it."""


def __getattr__(name: str) -> _typing.Any:
    # The renderer (Pillow's drawing and fonts) is imported on first use: validating a
    # storyboard needs only the layout (``storyboard validate`` starts faster).
    if name == "render_animatic":
        from .render import render_animatic

        return render_animatic
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
