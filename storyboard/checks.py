"""Cross-references a schema cannot check: scene ids, continuity, element use.

The edit's references to scenes are checked with the rest of the edit's rules by
:mod:`storyboard.edit_checks`.

Pure: works on the validated :class:`~storyboard.spec.Storyboard` and its source map.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from storyboard.diagnostics import Diagnostic, FieldPath
from storyboard.kling import element_refs
from storyboard.source import SourceMap
from storyboard.spec import FrameSource, Storyboard

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["check_references", "continuity_graph"]


def check_references(board: Storyboard, source: SourceMap) -> list[Diagnostic]:
    """Every broken reference between scenes, elements and the edit."""
    return [
        *_duplicate_scenes(board, source),
        *_scene_sources(board, source),
        *_cycles(board, source),
        *_unused_elements(board, source),
        *_export_plugins(board, source),
    ]


def _scene_links(board: Storyboard) -> Iterator[tuple[str, str, FieldPath]]:
    """(scene that needs, scene it needs, where) for continuity frames and clip elements."""
    for index, scene in enumerate(board.scenes):
        for name in ("first_frame", "last_frame"):
            frame: FrameSource | None = getattr(scene, name)
            if frame and frame.from_scene:
                yield scene.id, frame.from_scene, ("scenes", index, name, "from")
        for name in _scene_refs(board, index):
            video = board.elements[name].video
            if video and video.from_scene:
                yield scene.id, video.from_scene, ("elements", name, "video", "from")


def continuity_graph(board: Storyboard) -> nx.DiGraph:
    """Scenes as nodes; an edge A -> B when B needs A's clip (frame or element)."""
    import networkx as nx  # imported where used: `storyboard validate` starts faster

    graph = nx.DiGraph()
    graph.add_nodes_from(scene.id for scene in board.scenes)
    ids = set(graph.nodes)
    for needs, needed, _ in _scene_links(board):
        if needed in ids:
            graph.add_edge(needed, needs)
    return graph


def _scene_refs(board: Storyboard, index: int) -> list[str]:
    refs = (ref for shot in board.scenes[index].shots for ref in element_refs(shot.prompt))
    return [ref for ref in dict.fromkeys(refs) if ref in board.elements]


def _duplicate_scenes(board: Storyboard, source: SourceMap) -> Iterator[Diagnostic]:
    seen: set[str] = set()
    for index, scene in enumerate(board.scenes):
        if scene.id in seen:
            yield source.diagnostic(
                ("scenes", index, "id"),
                f"scene id {scene.id!r} is used twice",
                hint="give every scene its own id",
            )
        seen.add(scene.id)


def _scene_sources(board: Storyboard, source: SourceMap) -> Iterator[Diagnostic]:
    ids = [scene.id for scene in board.scenes]
    known = set(ids)
    for needs, needed, path in _scene_links(board):
        if needed == needs:
            yield source.diagnostic(path, f"scene {needs!r} cannot continue from itself")
        elif needed not in known:
            yield source.diagnostic(
                path, f"no scene with id {needed!r}", hint=f"use one of: {', '.join(ids)}"
            )
    for index, scene in enumerate(board.scenes):
        if scene.last_frame and scene.last_frame.from_scene:
            yield source.diagnostic(
                ("scenes", index, "last_frame"),
                "a last frame must be an image file or URL; {from: ...} works for first_frame",
            )


def _cycles(board: Storyboard, source: SourceMap) -> Iterator[Diagnostic]:
    cycle = _find_cycle(board)
    if not cycle:
        return
    names = [*cycle, cycle[0]]
    index = next(i for i, s in enumerate(board.scenes) if s.id == cycle[1 % len(cycle)])
    yield source.diagnostic(
        ("scenes", index),
        f"scenes depend on each other in a cycle: {' -> '.join(names)}",
        hint="one scene of the cycle must start from a file or URL instead of {from: ...}",
    )


def _find_cycle(board: Storyboard) -> list[str]:
    """The first cycle of :func:`continuity_graph` as its scenes in order, or ``[]``.

    A depth-first search in scene and link order (the order ``nx.find_cycle`` uses), in
    plain Python: networkx costs ~0.15 s of start-up, more than validating a small file.
    """
    ids = {scene.id for scene in board.scenes}
    after: dict[str, dict[str, None]] = {scene.id: {} for scene in board.scenes}
    for needs, needed, _ in _scene_links(board):
        if needed in ids:
            after[needed][needs] = None
    done: set[str] = set()
    for start in after:
        if start in done:
            continue
        path, todo = [start], [iter(after[start])]
        on_path = {start}
        while todo:
            step = next(todo[-1], None)
            if step is None:
                on_path.discard(path[-1])
                done.add(path.pop())
                todo.pop()
            elif step in on_path:
                return path[path.index(step) :]
            elif step not in done:
                path.append(step)
                on_path.add(step)
                todo.append(iter(after[step]))
    return []


def _unused_elements(board: Storyboard, source: SourceMap) -> Iterator[Diagnostic]:
    used = Counter(ref for shot in _shots(board) for ref in element_refs(shot))
    for name in board.elements:
        if not used[name]:
            yield source.diagnostic(
                ("elements", name),
                f"element {name!r} is defined but no prompt uses @{name}",
                severity="warning",
            )


def _shots(board: Storyboard) -> Iterator[str]:
    return (shot.prompt for scene in board.scenes for shot in scene.shots)


def _export_plugins(board: Storyboard, source: SourceMap) -> Iterator[Diagnostic]:
    if not board.edit.exports:  # the exports module imports OpenTimelineIO: only if needed
        return
    from storyboard.edit.exports import EXPORTS, INSTALL_HINT, missing_plugins

    missing = set(missing_plugins(board.edit.exports))
    for index, fmt in enumerate(board.edit.exports):
        if fmt in missing:
            yield source.diagnostic(
                ("edit", "exports", index),
                f"exporting {fmt} needs the OpenTimelineIO plugin {EXPORTS[fmt].package}",
                hint=f"install it with {INSTALL_HINT}",
            )
