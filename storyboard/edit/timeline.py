"""Resolve an :class:`Edit` against the probed clips into a frame-exact timeline (pure).

Everything is counted in output frames: a scene starts at ``start`` and lasts ``frames``;
a crossfade of ``n`` frames overlaps the two scenes by ``n`` frames (the edit gets shorter
by ``n``); a fade through black of ``n`` frames fades the outgoing scene out over its last
``n // 2`` frames and the incoming one in over its first ``n - n // 2`` frames, without
overlap (the edit keeps its length). Every problem is collected and raised once as an
:class:`~storyboard.edit.errors.EditError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .clips import ClipInfo
from .errors import EditError, EditProblem
from .model import (
    Conform,
    Edit,
    Output,
    Overlay,
    SlideDirection,
    Title,
    Transition,
    TransitionType,
    frame_size_problem,
)

__all__ = ["CUT", "Join", "OverlaySpan", "Scene", "Timeline", "TitleSpan", "resolve_timeline"]


@dataclass(frozen=True)
class Join:
    """How one scene hands over to the next."""

    kind: TransitionType = "cut"
    frames: int = 0
    """Length of the transition in output frames (0 for a cut)."""
    direction: SlideDirection = "left"
    """slide only: the way the incoming scene moves."""

    @property
    def overlap(self) -> int:
        """Frames the two scenes share on the output timeline (crossfade, slide)."""
        return self.frames if self.kind in ("crossfade", "slide") else 0

    @property
    def fade_out(self) -> int:
        """Frames at the end of the outgoing scene that fade to black."""
        return self.frames // 2 if self.kind == "fade" else 0

    @property
    def fade_in(self) -> int:
        """Frames at the start of the incoming scene that fade up from black."""
        return self.frames - self.frames // 2 if self.kind == "fade" else 0


CUT = Join()


@dataclass(frozen=True)
class Scene:
    """One scene placed on the output timeline."""

    scene_id: str
    clip: int
    """Index of the scene's clip in the list given to :func:`resolve_timeline`."""
    src_in: int
    """First source frame used."""
    src_out: int
    """One past the last source frame used."""
    src_fps: float
    start: int
    """Output frame where the scene starts."""
    frames: int
    """Output frames the scene lasts (including transition overlaps)."""
    head: Join = CUT
    """The join with the previous scene."""
    tail: Join = CUT
    """The join with the next scene."""
    speed: float = 1.0
    """Source seconds shown per output second (an effect such as MultiplySpeed)."""
    composite: bool = False
    """The scene needs moviepy (a still, footage, effects): it is never stream-copied."""

    @property
    def end(self) -> int:
        return self.start + self.frames

    @property
    def head_busy(self) -> int:
        """Leading frames that belong to a transition."""
        return self.head.overlap + self.head.fade_in

    @property
    def tail_busy(self) -> int:
        """Trailing frames that belong to a transition."""
        return self.tail.overlap + self.tail.fade_out

    def src_time(self, frame: int, fps: int) -> float:
        """Source time (s from the clip's first frame) shown at scene-local output frame."""
        return self.src_in / self.src_fps + frame * self.speed / fps


@dataclass(frozen=True)
class TitleSpan:
    """A title placed on the output timeline (frames)."""

    index: int
    title: Title
    start: int
    end: int
    fade: int

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class OverlaySpan:
    """An overlay placed on the output timeline (frames)."""

    index: int
    overlay: Overlay
    start: int
    end: int
    fade_in: int
    fade_out: int

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Timeline:
    """The resolved edit: scenes and titles on a frame grid of the output."""

    fps: int
    width: int
    height: int
    conform: Conform
    scenes: tuple[Scene, ...]
    titles: tuple[TitleSpan, ...] = ()
    overlays: tuple[OverlaySpan, ...] = ()

    @property
    def total_frames(self) -> int:
        return self.scenes[-1].end if self.scenes else 0

    @property
    def duration(self) -> float:
        return self.total_frames / self.fps

    def seconds(self, frame: int) -> float:
        return frame / self.fps

    @property
    def joins(self) -> tuple[Join, ...]:
        """The joins between consecutive scenes."""
        return tuple(s.tail for s in self.scenes[:-1])


def resolve_timeline(
    scene_ids: Sequence[str],
    infos: Sequence[ClipInfo],
    edit: Edit,
    output: Output,
    *,
    speeds: Mapping[str, float] | None = None,
    composite: frozenset[str] = frozenset(),
) -> Timeline:
    """Place the clips (``scene_ids[i]`` is shot in ``infos[i]``) on the output timeline.

    Raises :class:`EditError` listing every problem, each an :class:`EditProblem` naming
    the storyboard field it is about (validation runs this on nominal clips).
    ``speeds``: scenes that play faster or slower than their source (effects);
    ``composite``: scenes that need moviepy (stills, footage, effects).
    """
    speeds = speeds or {}
    problems: list[EditProblem] = []
    fps = output.fps
    order = _resolve_order(scene_ids, edit.order, problems)
    index = {sid: i for i, sid in enumerate(scene_ids)}
    _check_keys(("edit", "trims"), edit.trims, index, problems)
    spans = {
        sid: _trimmed_span(sid, infos[index[sid]], edit, fps, problems, speeds.get(sid, 1.0))
        for sid in order
    }
    joins = _resolve_joins(order, index, edit.transitions, fps, problems)
    size = _output_size(order, index, infos, output, problems)
    if problems:
        raise EditError(problems)
    scenes = _layout(order, index, spans, joins, infos, speeds, composite)
    _check_fit(scenes, edit.transitions, fps, problems)
    titles = _resolve_titles(edit.titles, scenes, fps, problems)
    overlays = _resolve_overlays(edit.overlays, scenes, fps, problems)
    if problems:
        raise EditError(problems)
    return Timeline(fps, size[0], size[1], output.conform, scenes, titles, overlays)


def _resolve_order(
    scene_ids: Sequence[str], order: list[str] | None, problems: list[EditProblem]
) -> list[str]:
    seen: set[str] = set()
    for sid in scene_ids:
        if sid in seen:
            problems.append(EditProblem((), f"two clips are given for scene {sid!r}"))
        seen.add(sid)
    if order is None:
        return list(dict.fromkeys(scene_ids))
    resolved: list[str] = []
    for i, sid in enumerate(order):
        if sid not in seen:
            problems.append(_unknown(("edit", "order", i), sid, scene_ids))
        elif sid in resolved:
            problems.append(EditProblem(("edit", "order", i), f"scene {sid!r} is listed twice"))
        else:
            resolved.append(sid)
    if not resolved and not problems:
        problems.append(EditProblem(("edit", "order"), "the edit needs at least one scene"))
    return resolved


def _unknown(path: tuple[str | int, ...], sid: str, known: Sequence[str]) -> EditProblem:
    return EditProblem(path, f"no scene {sid!r}", hint=f"scene ids: {', '.join(known)}")


def _check_keys(
    field: tuple[str, ...],
    mapping: Mapping[str, object],
    index: dict[str, int],
    problems: list[EditProblem],
) -> None:
    for key in mapping:
        if key not in index:
            problems.append(_unknown((*field, key), key, list(index)))


def _trimmed_span(
    sid: str,
    info: ClipInfo,
    edit: Edit,
    fps: int,
    problems: list[EditProblem],
    speed: float = 1.0,
) -> tuple[int, int, int]:
    """(src_in, src_out, output frames) of a scene after its trim."""
    trim = edit.trims.get(sid)
    src_in, src_out = 0, info.frames
    if trim is not None:
        src_in = round(trim.start * info.fps)
        if trim.end is not None:
            if trim.end > info.duration + 1 / info.fps:
                problems.append(
                    EditProblem(
                        ("edit", "trims", sid, "out"),
                        f"{trim.end:g} s is past the end of the scene's clip ({info.duration:g} s)",
                    )
                )
            src_out = min(info.frames, round(trim.end * info.fps))
        if src_in >= src_out:
            problems.append(
                EditProblem(
                    ("edit", "trims", sid, "in"),
                    f"nothing is left of the {info.duration:g} s clip "
                    f"after cutting {trim.start:g} s",
                )
            )
    frames = round((src_out - src_in) * fps / info.fps / speed)
    return src_in, src_out, frames


def _resolve_joins(
    order: list[str],
    index: dict[str, int],
    transitions: list[Transition],
    fps: int,
    problems: list[EditProblem],
) -> dict[tuple[str, str], Join]:
    joins: dict[tuple[str, str], Join] = {}
    position = {sid: i for i, sid in enumerate(order)}
    for i, tr in enumerate(transitions):
        a, b = tr.between
        where = ("edit", "transitions", i, "between")
        if unknown := [s for s in (a, b) if s not in index]:
            problems.append(_unknown(where, unknown[0], list(index)))
        elif missing := [s for s in (a, b) if s not in position]:
            problems.append(EditProblem(where, f"scene {missing[0]!r} is not in edit.order"))
        elif position[b] != position[a] + 1:
            problems.append(
                EditProblem(
                    where,
                    f"{a!r} and {b!r} are not adjacent in the edit",
                    hint="a transition joins a scene to the one right after it",
                )
            )
        elif (a, b) in joins:
            problems.append(EditProblem(where, "a second transition for the same join"))
        else:
            frames = 0 if tr.type == "cut" else max(1, round(tr.duration * fps))
            joins[(a, b)] = Join(tr.type, frames, tr.direction)
    return joins


def _output_size(
    order: list[str],
    index: dict[str, int],
    infos: Sequence[ClipInfo],
    output: Output,
    problems: list[EditProblem],
) -> tuple[int, int]:
    if output.size is not None:
        size = output.size
    elif order:  # the first video's size (a still's image size is arbitrary)
        videos = [sid for sid in order if infos[index[sid]].params.codec != "still"]
        size = infos[index[(videos or order)[0]]].size
    else:
        return (0, 0)
    if problem := frame_size_problem(size):
        problems.append(EditProblem(("output", "size"), problem))
    return size


def _layout(
    order: list[str],
    index: dict[str, int],
    spans: dict[str, tuple[int, int, int]],
    joins: dict[tuple[str, str], Join],
    infos: Sequence[ClipInfo],
    speeds: Mapping[str, float],
    composite: frozenset[str],
) -> tuple[Scene, ...]:
    scenes: list[Scene] = []
    start = 0
    for i, sid in enumerate(order):
        src_in, src_out, frames = spans[sid]
        head = joins.get((order[i - 1], sid), CUT) if i else CUT
        tail = joins.get((sid, order[i + 1]), CUT) if i + 1 < len(order) else CUT
        if scenes:
            start = scenes[-1].end - head.overlap
        clip = index[sid]
        scenes.append(
            Scene(
                sid,
                clip,
                src_in,
                src_out,
                infos[clip].fps,
                start,
                frames,
                head,
                tail,
                speed=speeds.get(sid, 1.0),
                composite=sid in composite,
            )
        )
    return tuple(scenes)


def _check_fit(
    scenes: tuple[Scene, ...],
    transitions: list[Transition],
    fps: int,
    problems: list[EditProblem],
) -> None:
    for i, s in enumerate(scenes):
        if s.head_busy + s.tail_busy > s.frames:
            joins = [(scenes[i - 1].scene_id, s.scene_id)] if i else []
            joins += [(s.scene_id, scenes[i + 1].scene_id)] if i + 1 < len(scenes) else []
            which = [j for j, t in enumerate(transitions) if tuple(t.between) in joins]
            problems.append(
                EditProblem(
                    ("edit", "transitions", *which[-1:], "duration"),
                    f"the transitions of scene {s.scene_id!r} ({s.head_busy / fps:g} s + "
                    f"{s.tail_busy / fps:g} s) are longer than the scene ({s.frames / fps:g} s"
                    f"{' after its trim' if s.src_in or s.src_out else ''})",
                    hint="shorten the transition, or trim less of the scene",
                )
            )


def _resolve_titles(
    titles: list[Title], scenes: tuple[Scene, ...], fps: int, problems: list[EditProblem]
) -> tuple[TitleSpan, ...]:
    by_id = {s.scene_id: s for s in scenes}
    total = scenes[-1].end if scenes else 0
    spans: list[TitleSpan] = []
    for i, title in enumerate(titles):
        offset = 0
        if title.scene is not None:
            if title.scene not in by_id:
                problems.append(_unknown(("edit", "titles", i, "scene"), title.scene, list(by_id)))
                continue
            offset = by_id[title.scene].start
        start = offset + round(title.start * fps)
        if start >= total:
            problems.append(
                EditProblem(
                    ("edit", "titles", i, "start"),
                    f"{start / fps:g} s is after the end of the edit ({total / fps:g} s)",
                    hint="start the title earlier",
                )
            )
            continue
        end = min(total, start + max(1, round(title.duration * fps)))
        fade = min(round(title.fade * fps), (end - start) // 2)
        spans.append(TitleSpan(i, title, start, end, fade))
    return tuple(spans)


def _resolve_overlays(
    overlays: list[Overlay], scenes: tuple[Scene, ...], fps: int, problems: list[EditProblem]
) -> tuple[OverlaySpan, ...]:
    total = scenes[-1].end if scenes else 0
    spans: list[OverlaySpan] = []
    for i, overlay in enumerate(overlays):
        start = round(overlay.start * fps)
        if start >= total:
            problems.append(
                EditProblem(
                    ("edit", "overlays", i, "start"),
                    f"{start / fps:g} s is after the end of the edit ({total / fps:g} s)",
                )
            )
            continue
        end = total if overlay.end is None else min(total, round(overlay.end * fps))
        end = max(end, start + 1)
        fade_in = min(round(overlay.fade_in * fps), end - start)
        fade_out = min(round(overlay.fade_out * fps), end - start - fade_in)
        spans.append(OverlaySpan(i, overlay, start, end, fade_in, fade_out))
    return tuple(spans)
