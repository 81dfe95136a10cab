"""Hand-offs next to the output: OTIO timeline, contact sheet, JSON report.

The OTIO timeline has a video track of the scenes whose clips reference the source clips
(generated clips, footage, stills) by absolute ``file://`` URL, and, when the edit has
overlays, video tracks above it with the overlays (:func:`overlay_tracks`). A crossfade
of ``d`` frames becomes an OTIO ``Transition`` centred on the cut (``in_offset = d // 2``
from the outgoing clip, ``out_offset`` the rest from the incoming one), so the track's
duration equals the output's; a fade through black is a custom ``Transition`` that
shortens nothing. Titles and subtitles are markers; the music
bed and the assembly facts are metadata. :func:`otio_timeline` is pure.

:func:`nle_timeline` is the richer timeline the editor exports start from
(:mod:`.exports`): the picture (V1), the overlays, titles and subtitles (as text generator
clips) on the video tracks above it, the clips' own sound (A1) and the music bed (A2),
with scene, prompt, take and task id in the places each editor reads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import opentimelineio as otio

from storyboard.atomic import atomic_path, write_text_atomic

from .clips import ClipInfo, EditClip
from .contact import contact_sheet, thumbnail_args, write_contact_sheet
from .model import Edit
from .report import AssemblyReport
from .subtitles import Cue, cut_span
from .timeline import Join, OverlaySpan, Scene, Timeline

__all__ = [
    "OVERLAY_TRACK",
    "MusicBed",
    "contact_sheet",
    "handoff_paths",
    "nle_timeline",
    "otio_timeline",
    "overlay_tracks",
    "thumbnail_args",
    "write_contact_sheet",
    "write_otio",
    "write_report",
]

OVERLAY_TRACK = "overlays"
"""``metadata["storyboard"]["kind"]`` of an overlay track."""


def handoff_paths(out: Path) -> dict[str, Path]:
    """``<out>.otio``, ``<out>.contact.png`` and ``<out>.report.json`` next to ``out``."""
    stem = out.with_suffix("")
    return {
        "otio": Path(f"{stem}.otio"),
        "contact_sheet": Path(f"{stem}.contact.png"),
        "report": Path(f"{stem}.report.json"),
    }


# --- OTIO ---------------------------------------------------------------------------------------


def _cut_trims(scene: Scene) -> tuple[int, int]:
    """Frames of the scene before/after its OTIO cut points (half of each crossfade)."""
    start, end = cut_span(scene)
    return start - scene.start, scene.end - end


def _rt(frames: float, rate: float) -> Any:
    return otio.opentime.RationalTime(frames, rate)


def _otio_clip(scene: Scene, clip: EditClip, info: ClipInfo, fps: int) -> Any:
    head, tail = _cut_trims(scene)
    first = scene.src_in * fps / scene.src_fps + head
    reference = otio.schema.ExternalReference(
        target_url=clip.path.resolve().as_uri(),
        available_range=otio.opentime.TimeRange(_rt(0, info.fps), _rt(info.frames, info.fps)),
    )
    metadata = {
        "scene_id": clip.scene_id,
        "prompt": clip.prompt,
        "task_id": clip.task_id,
        "take": clip.take,
        "cost": clip.cost,
        "kind": clip.kind,
        "source_file": str(clip.path.resolve()),
        "edit_start": scene.start / fps,
        "edit_end": scene.end / fps,
    }
    return otio.schema.Clip(
        name=clip.scene_id,
        media_reference=reference,
        source_range=otio.opentime.TimeRange(_rt(first, fps), _rt(scene.frames - head - tail, fps)),
        metadata={"storyboard": metadata},
    )


def _otio_transition(join: Join, a: Scene, b: Scene, fps: int) -> Any:
    if join.overlap:  # crossfade, slide
        kind = otio.schema.TransitionTypes.SMPTE_Dissolve
        if join.kind == "slide":
            kind = otio.schema.TransitionTypes.Custom
        before, after = join.frames // 2, join.frames - join.frames // 2
    else:
        kind, before, after = otio.schema.TransitionTypes.Custom, join.fade_out, join.fade_in
    return otio.schema.Transition(
        name=f"{a.scene_id} -> {b.scene_id}",
        transition_type=kind,
        in_offset=_rt(before, fps),
        out_offset=_rt(after, fps),
        metadata={"storyboard": {"type": join.kind, "duration": join.frames / fps}},
    )


def otio_timeline(
    timeline: Timeline,
    clips: Sequence[EditClip],
    infos: Sequence[ClipInfo],
    edit: Edit,
    report: AssemblyReport,
    *,
    name: str = "storyboard edit",
    cues: Sequence[Cue] = (),
    base_dir: Path = Path(),
) -> Any:
    """The edit as an OpenTimelineIO timeline (pure); overlay images resolve against
    ``base_dir``, the storyboard's folder."""
    fps = timeline.fps
    track = otio.schema.Track(name="video", kind=otio.schema.TrackKind.Video)
    for i, scene in enumerate(timeline.scenes):
        if i and scene.head.kind != "cut":
            track.append(_otio_transition(scene.head, timeline.scenes[i - 1], scene, fps))
        track.append(_otio_clip(scene, clips[scene.clip], infos[scene.clip], fps))
    for span in timeline.titles:
        track.markers.append(
            otio.schema.Marker(
                name=span.title.text,
                marked_range=otio.opentime.TimeRange(_rt(span.start, fps), _rt(span.frames, fps)),
                metadata={"storyboard": {"style": span.title.style, "kind": "title"}},
            )
        )
    track.markers.extend(_cue_marker(cue, fps) for cue in cues)
    result = otio.schema.Timeline(name=name)
    result.tracks.append(track)
    result.tracks.extend(overlay_tracks(timeline, clips, infos, base_dir))
    result.metadata["storyboard"] = {
        "output": str(report.path),
        "assembly_path": report.assembly_path,
        "fps": fps,
        "size": list(report.size),
        "music": edit.music.model_dump() if edit.music else None,
        "sound": edit.sound,
    }
    return result


def _cue_marker(cue: Cue, fps: int) -> Any:
    return otio.schema.Marker(
        name=cue.text,
        marked_range=otio.opentime.TimeRange(_rt(cue.start, fps), _rt(cue.frames, fps)),
        color=otio.schema.MarkerColor.YELLOW,
        metadata={"storyboard": {"kind": "subtitle", "scene_id": cue.scene_id}},
    )


# --- overlays ---------------------------------------------------------------------------------


def _overlay_source(
    span: OverlaySpan, timeline: Timeline, clips: Sequence[EditClip], infos: Sequence[ClipInfo]
) -> tuple[EditClip, ClipInfo, int]:
    """A picture-in-picture's clip, its info, and its first frame (output rate): the
    scene's first used frame, as the render shows it."""
    index = next(i for i, c in enumerate(clips) if c.scene_id == span.overlay.scene)
    placed = next((s for s in timeline.scenes if s.scene_id == span.overlay.scene), None)
    first = round(placed.src_in * timeline.fps / placed.src_fps) if placed else 0
    return clips[index], infos[index], first


def _overlay_clip(
    span: OverlaySpan,
    timeline: Timeline,
    clips: Sequence[EditClip],
    infos: Sequence[ClipInfo],
    base_dir: Path,
) -> Any:
    """One overlay as a clip: its file, when it shows, and how (position, size, opacity)."""
    fps, overlay = timeline.fps, span.overlay
    frames = span.frames
    metadata: dict[str, Any] = {
        "index": span.index,
        "position": list(overlay.position),
        "width": overlay.width,
        "opacity": overlay.opacity,
        "fade_in": span.fade_in / fps,
        "fade_out": span.fade_out / fps,
        "edit_start": span.start / fps,
        "edit_end": span.end / fps,
    }
    if overlay.image is not None:
        path = Path(overlay.image)
        path = (path if path.is_absolute() else base_dir / path).resolve()
        length = max(frames, timeline.total_frames)  # a still lasts as long as it is used
        reference = otio.schema.ExternalReference(
            target_url=path.as_uri(),
            available_range=otio.opentime.TimeRange(_rt(0, fps), _rt(length, fps)),
        )
        name, first = path.name, 0
        metadata |= {"kind": "overlay image", "source_file": str(path)}
    else:
        clip, info, first = _overlay_source(span, timeline, clips, infos)
        available = round(info.frames * fps / info.fps)
        frames = max(1, min(frames, available - first))  # never past the clip's end
        reference = otio.schema.ExternalReference(
            target_url=clip.path.resolve().as_uri(),
            available_range=otio.opentime.TimeRange(_rt(0, info.fps), _rt(info.frames, info.fps)),
        )
        name = f"{clip.scene_id} (picture-in-picture)"
        metadata |= {
            "kind": "picture-in-picture",
            "scene_id": clip.scene_id,
            "source_file": str(clip.path.resolve()),
        }
    return otio.schema.Clip(
        name=name,
        media_reference=reference,
        source_range=otio.opentime.TimeRange(_rt(first, fps), _rt(frames, fps)),
        metadata={"storyboard": metadata},
    )


def overlay_tracks(
    timeline: Timeline,
    clips: Sequence[EditClip],
    infos: Sequence[ClipInfo],
    base_dir: Path,
) -> list[Any]:
    """The overlays on video tracks above the picture, in the order they are drawn (pure).

    Overlays that do not overlap in time share a track; each overlapping one gets the next
    track up. Position, width and opacity are in ``metadata["storyboard"]``: the editors'
    formats get each overlay's file and timing, not its placement in the frame.
    """
    lanes: list[list[tuple[int, int, Any]]] = []
    for span in timeline.overlays:
        item = _overlay_clip(span, timeline, clips, infos, base_dir)
        end = span.start + item.source_range.duration.to_frames()
        lane = next((lane for lane in lanes if lane[-1][1] <= span.start), None)
        if lane is None:
            lanes.append(lane := [])
        lane.append((span.start, end, item))
    tracks = []
    for n, lane in enumerate(lanes, start=1):
        track = _spans_track(f"overlays {n}", lane, timeline.fps)
        track.metadata["storyboard"] = {"kind": OVERLAY_TRACK}
        tracks.append(track)
    return tracks


def write_otio(timeline: Any, path: Path) -> None:
    with atomic_path(path) as temp:
        otio.adapters.write_to_file(timeline, str(temp))


# --- the editors' timeline ----------------------------------------------------------------------


@dataclass(frozen=True)
class MusicBed:
    """The music file under the edit and its length in seconds (None: unknown)."""

    path: Path
    seconds: float | None


def _editor_notes(clip: EditClip) -> dict[str, Any]:
    """Scene, prompt, take and task id where each editor's format keeps clip notes."""
    task = clip.task_id or ""
    prompt = " ".join(clip.prompt.split())
    return {
        "fcp_xml": {
            "logginginfo": {
                "description": f"task {task}" if task else "",
                "scene": clip.scene_id,
                "shottake": str(clip.take),
                "lognote": prompt,
            },
        },
        "cmx_3600": {
            "comments": [
                f"STORYBOARD SCENE: {clip.scene_id}  TAKE: {clip.take}  TASK: {task or '-'}",
                f"PROMPT: {prompt[:200]}",
            ]
        },
        "AAF": {
            "UserComments": {"Scene": clip.scene_id, "Take": clip.take, "Task ID": task}
            | {"Prompt": prompt},
        },
    }


def _fcpx_notes(clip: EditClip) -> dict[str, Any]:
    return {
        "note": " ".join(clip.prompt.split()),
        "metadata": [
            {"com.apple.proapps.studio.scene": clip.scene_id},
            {"com.apple.proapps.studio.take": str(clip.take)},
            {"com.apple.proapps.spotlight.kMDItemDescription": f"task {clip.task_id or '-'}"},
        ],
    }


def _picture_track(
    timeline: Timeline, clips: Sequence[EditClip], infos: Sequence[ClipInfo], kind: str
) -> Any:
    fps = timeline.fps
    name = "V1 picture" if kind == otio.schema.TrackKind.Video else "A1 sound"
    track = otio.schema.Track(name=name, kind=kind)
    for i, scene in enumerate(timeline.scenes):
        if i and scene.head.kind != "cut":
            track.append(_otio_transition(scene.head, timeline.scenes[i - 1], scene, fps))
        clip = clips[scene.clip]
        item = _otio_clip(scene, clip, infos[scene.clip], fps)
        item.metadata.update(_editor_notes(clip))
        item.media_reference.metadata["fcpx"] = _fcpx_notes(clip)
        track.append(item)
    return track


def _text_clip(text: str, frames: int, fps: int, kind: str, extra: dict[str, Any]) -> Any:
    """A text generator clip (FCP 7's Text generator where the format has one)."""
    rng = otio.opentime.TimeRange(_rt(0, fps), _rt(frames, fps))
    reference = otio.schema.GeneratorReference(
        name="Text",
        generator_kind="Text",
        available_range=rng,
        parameters={"text": text},
        metadata={
            "fcp_xml": {
                "effecttype": "generator",
                "mediatype": "video",
                "effectcategory": "Text",
                "parameter": {"parameterid": "str", "name": "Text", "value": text},
            }
        },
    )
    name = " ".join(text.split())[:60]
    return otio.schema.Clip(
        name=name,
        media_reference=reference,
        source_range=rng,
        metadata={"storyboard": {"kind": kind, **extra}},
    )


def _spans_track(name: str, spans: Sequence[tuple[int, int, Any]], fps: int) -> Any:
    """A video track of ``(start, end, clip)`` items with gaps between them."""
    track = otio.schema.Track(name=name, kind=otio.schema.TrackKind.Video)
    cursor = 0
    for start, end, item in sorted(spans, key=lambda s: s[0]):
        start = max(start, cursor)
        if end <= start:
            continue
        if start > cursor:
            track.append(
                otio.schema.Gap(
                    source_range=otio.opentime.TimeRange(_rt(0, fps), _rt(start - cursor, fps))
                )
            )
        first = item.source_range.start_time if item.source_range else _rt(0, fps)
        item.source_range = otio.opentime.TimeRange(first, _rt(end - start, fps))
        track.append(item)
        cursor = end
    return track


def _music_track(music: MusicBed, total: int, fps: int) -> Any:
    length = total if music.seconds is None else min(total, round(music.seconds * fps))
    available = None
    if music.seconds is not None:
        available = otio.opentime.TimeRange(_rt(0, fps), _rt(round(music.seconds * fps), fps))
    reference = otio.schema.ExternalReference(
        target_url=music.path.resolve().as_uri(), available_range=available
    )
    clip = otio.schema.Clip(
        name=music.path.name,
        media_reference=reference,
        source_range=otio.opentime.TimeRange(_rt(0, fps), _rt(length, fps)),
        metadata={"storyboard": {"kind": "music"}},
    )
    track = otio.schema.Track(name="A2 music", kind=otio.schema.TrackKind.Audio)
    track.append(clip)
    return track


def nle_timeline(
    timeline: Timeline,
    clips: Sequence[EditClip],
    infos: Sequence[ClipInfo],
    edit: Edit,
    cues: Sequence[Cue],
    *,
    name: str,
    music: MusicBed | None = None,
    base_dir: Path = Path(),
) -> Any:
    """The edit for editors: picture, overlays, titles, subtitles, sound and music tracks
    (pure; overlay images resolve against ``base_dir``).

    Titles and subtitles are also markers on the timeline, for formats without text clips.
    """
    fps = timeline.fps
    result = otio.schema.Timeline(name=name)
    result.tracks.append(_picture_track(timeline, clips, infos, otio.schema.TrackKind.Video))
    for track in overlay_tracks(timeline, clips, infos, base_dir):
        track.name = f"V{len(result.tracks) + 1} {track.name}"
        result.tracks.append(track)
    titles = [
        (s.start, s.end, _text_clip(s.title.text, s.frames, fps, "title", {"style": s.title.style}))
        for s in timeline.titles
    ]
    if titles:
        result.tracks.append(_spans_track(f"V{len(result.tracks) + 1} titles", titles, fps))
    if cues:
        subs = [(c.start, c.end, _text_clip(c.text, c.frames, fps, "subtitle", {})) for c in cues]
        name = f"V{len(result.tracks) + 1} subtitles"
        result.tracks.append(_spans_track(name, subs, fps))
    if edit.sound:
        result.tracks.append(_picture_track(timeline, clips, infos, otio.schema.TrackKind.Audio))
    if music is not None:
        result.tracks.append(_music_track(music, timeline.total_frames, fps))
    for span in timeline.titles:
        result.tracks.markers.append(
            otio.schema.Marker(
                name=" ".join(span.title.text.split()),
                marked_range=otio.opentime.TimeRange(_rt(span.start, fps), _rt(span.frames, fps)),
                metadata={"storyboard": {"kind": "title", "style": span.title.style}},
            )
        )
    result.tracks.markers.extend(_cue_marker(cue, fps) for cue in cues)
    result.metadata["storyboard"] = {"fps": fps, "size": [timeline.width, timeline.height]}
    result.metadata["fcp_xml"] = _fcp7_sequence_format(timeline)
    return result


def _fcp7_sequence_format(timeline: Timeline) -> dict[str, Any]:
    """The sequence's frame size and rate, so Premiere and Resolve open it at the edit's."""
    rate = {"timebase": str(timeline.fps), "ntsc": "FALSE"}
    sample = {
        "rate": rate,
        "width": str(timeline.width),
        "height": str(timeline.height),
        "pixelaspectratio": "square",
        "fielddominance": "none",
    }
    return {"media": {"video": {"format": {"samplecharacteristics": sample}}}}


def write_report(report: AssemblyReport, path: Path) -> None:
    write_text_atomic(path, json.dumps(report.to_json(), indent=2) + "\n")
