"""``storyboard.edit.to_moviepy``: a storyboard's edit as a moviepy clip, from its clips.

Nothing is generated: the clips come from the journal of earlier renders (as
``storyboard assemble`` finds them); a scene without a clip yet is an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import EditError

if TYPE_CHECKING:
    from storyboard.run.backend import BackendName

__all__ = ["to_moviepy"]


def to_moviepy(
    path: str | Path, *, backend: BackendName | None = None, state_path: Path | None = None
) -> Any:
    """The edit of the storyboard at ``path`` as a ``CompositeVideoClip`` with its audio.

    The clips are the ones already generated (by ``storyboard render``) with the same
    backend (offline unless ``KIE_API_KEY`` is set, or ``backend``). Raises
    :class:`~storyboard.validate.StoryboardInvalid` for an invalid storyboard and
    :class:`EditError` when a scene has no clip yet. Close the clip when done
    (``clip.close()``): its readers hold ffmpeg processes.
    """
    from storyboard.run.backend import choose_backend
    from storyboard.run.render import edit_clips, prepare
    from storyboard.store import StateStore

    from .moviepy_clip import edit_clip

    prepared = prepare(Path(path), choose_backend(backend), state_path=state_path)
    clips: dict[str, Path] = {}
    with StateStore(prepared.state_path) as store:
        for scene, planned in prepared.plan.generations.items():
            record = store.generation(planned.key)
            if record and record.clip:
                clips[scene] = record.clip
    missing = [s for s in prepared.plan.generations if s not in clips]
    if missing:
        raise EditError([f"no clip yet for {', '.join(missing)}; run `storyboard render` first"])
    board = prepared.storyboard
    return edit_clip(
        edit_clips(prepared, clips), board.edit, board.output, base_dir=prepared.base_dir
    )
