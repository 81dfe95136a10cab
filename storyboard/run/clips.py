"""A storyboard's edit as a moviepy clip, from the clips already generated.

This is ``storyboard.edit.to_moviepy`` (re-exported there by name). It lives in ``run/``
because finding a storyboard's clips needs the run's machinery (validate and plan with
:func:`~storyboard.run.render.prepare`, the backend's namespace, the journal); ``edit/``
keeps only the clip-building part, :func:`storyboard.edit.moviepy_clip.edit_clip`, which
takes clips and the edit and knows nothing of storyboards.

Nothing is generated: the clips come from the journal of earlier renders (as
``storyboard assemble`` finds them); a scene without a clip yet is an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storyboard.edit.errors import EditError
from storyboard.run.backend import BackendName, choose_backend
from storyboard.run.render import edit_clips, prepare

__all__ = ["to_moviepy"]


def to_moviepy(
    path: str | Path, *, backend: BackendName | None = None, state_path: Path | None = None
) -> Any:
    """The edit of the storyboard at ``path`` as a ``CompositeVideoClip`` with its audio.

    The clips are the ones already generated (by ``storyboard render``) with the same
    backend (offline unless ``KIE_API_KEY`` is set, or ``backend``). Raises
    :class:`~storyboard.validate.StoryboardInvalid` for an invalid storyboard and
    :class:`~storyboard.edit.EditError` when a scene has no clip yet. Close the clip when
    done (``clip.close()``): its readers hold ffmpeg processes.
    """
    from storyboard.edit.moviepy_clip import edit_clip

    prepared = prepare(Path(path), choose_backend(backend), state_path=state_path)
    clips = prepared.stored_clips(on_disk=True)
    missing = [s for s in prepared.plan.generations if s not in clips]
    if missing:
        raise EditError([f"no clip yet for {', '.join(missing)}; run `storyboard render` first"])
    board = prepared.storyboard
    return edit_clip(
        edit_clips(prepared, clips), board.edit, board.output, base_dir=prepared.base_dir
    )
