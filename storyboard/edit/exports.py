"""Editor hand-offs written through OpenTimelineIO's own adapter plugins (``storyboard[nle]``).

- ``fcp7xml`` (fcp_xml, otio-fcp-adapter) for Premiere Pro and DaVinci Resolve: every
  track; titles and subtitles as Text generators and sequence markers; notes in each
  clip's logging info.
- ``fcpxml`` (fcpx_xml, otio-fcpx-xml-adapter) for Final Cut Pro: picture and sound;
  titles and subtitles as clip markers; the prompt as the clip's note, scene and take.
- ``edl`` (cmx_3600, otio-cmx3600-adapter), CMX 3600 for any editor: the picture track
  with dissolves; titles and subtitles as ``* LOC`` markers; notes as comments.
- ``aaf`` (AAF, otio-aaf-adapter) for Avid Media Composer: picture, sound and music with
  dissolves; notes as the clips' user comments.
- ``otio`` (built in): everything, media paths relative to the file.

The plugins are imported only when a format is written; a missing one raises
:class:`ExportUnavailable`, whose message names the install command.
"""

from __future__ import annotations

import copy
import importlib.util
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.atomic import atomic_path
from storyboard.errors import InputError
from storyboard.media.ffmpeg import FFmpegError, probe

from .clips import ClipInfo, EditClip
from .errors import AssemblyError
from .handoff import OVERLAY_TRACK, MusicBed, nle_timeline
from .model import Edit, ExportFormat
from .subtitles import Cue
from .timeline import Timeline

__all__ = [
    "EXPORTS",
    "INSTALL_HINT",
    "ExportSpec",
    "ExportUnavailable",
    "build_nle",
    "export_path",
    "for_format",
    "missing_plugins",
    "write_export",
]

INSTALL_HINT = "pip install 'storyboard[nle]'"


@dataclass(frozen=True)
class ExportSpec:
    """How one export format is written."""

    adapter: str
    """OpenTimelineIO adapter name."""
    module: str | None
    """The plugin's Python module (None: built into OpenTimelineIO)."""
    package: str | None
    suffix: str


EXPORTS: dict[ExportFormat, ExportSpec] = {
    "fcp7xml": ExportSpec("fcp_xml", "otio_fcp_adapter", "otio-fcp-adapter", ".fcp7.xml"),
    "fcpxml": ExportSpec("fcpx_xml", "otio_fcpx_xml_adapter", "otio-fcpx-xml-adapter", ".fcpxml"),
    "edl": ExportSpec("cmx_3600", "otio_cmx3600_adapter", "otio-cmx3600-adapter", ".edl"),
    "aaf": ExportSpec("AAF", "otio_aaf_adapter", "otio-aaf-adapter", ".aaf"),
    "otio": ExportSpec("otio_json", None, None, ".nle.otio"),
}


class ExportUnavailable(RuntimeError, InputError):
    """The plugin a format needs is not installed."""

    def __init__(self, formats: Sequence[str]) -> None:
        packages = ", ".join(str(EXPORTS[f].package) for f in formats)  # type: ignore[index]
        super().__init__(
            f"exporting {', '.join(formats)} needs the OpenTimelineIO plugin(s) {packages}: "
            f"install them with {INSTALL_HINT}"
        )
        self.formats = list(formats)


def missing_plugins(formats: Iterable[ExportFormat]) -> list[ExportFormat]:
    """The formats whose adapter plugin is not installed (nothing is imported)."""
    return [f for f in formats if (m := EXPORTS[f].module) and importlib.util.find_spec(m) is None]


def export_path(out: Path, fmt: ExportFormat) -> Path:
    """Where an export of the edit ``out`` goes: beside it, e.g. ``film.fcp7.xml``."""
    return Path(f"{out.with_suffix('')}{EXPORTS[fmt].suffix}")


# --- per format (pure) -----------------------------------------------------------------------


_AAF_DISSOLVE: dict[str, Any] = {
    "PointList": [{"Time": 0, "Value": 0}, {"Time": 1, "Value": 1}],
    "OperationGroup": {
        "Operation": {
            "DataDefinition": {"Name": "Picture"},
            "Description": "Video Dissolve",
            "Name": "Video Dissolve_2",
            "Identification": "0c3bea40-fc05-11d2-8a29-0050040ef7d2",
            "IsTimeWarp": False,
            "Bypass": 1,
            "NumberInputs": 2,
            "OperationCategory": "OperationCategory_Effect",
        }
    },
}


def for_format(nle: Any, fmt: ExportFormat, dest_dir: Path) -> Any:
    """A copy of :func:`~storyboard.edit.handoff.nle_timeline` that ``fmt`` can hold."""
    import opentimelineio as otio

    timeline = copy.deepcopy(nle)
    if fmt != "otio":
        _drop_fades(otio, timeline)
    if fmt in ("fcpxml", "edl", "aaf"):
        _drop_tracks(timeline, lambda t: _is_text_track(otio, t))
        if fmt != "aaf":
            _markers_onto_clips(otio, timeline)
        timeline.tracks.markers[:] = []
    if fmt == "edl":  # CMX 3600 holds one picture track
        _drop_tracks(timeline, lambda t: t.kind == otio.schema.TrackKind.Audio)
        _drop_tracks(timeline, _is_overlay_track)
    if fmt == "aaf":
        _aaf_transitions(otio, timeline)
    if fmt in ("otio", "edl"):
        _relative_urls(otio, timeline, dest_dir)
    return timeline


def _drop_tracks(timeline: Any, drop: Any) -> None:
    keep = [t for t in timeline.tracks if not drop(t)]
    while len(timeline.tracks):
        timeline.tracks.remove(timeline.tracks[0])
    for track in keep:
        timeline.tracks.append(track)


def _is_overlay_track(track: Any) -> bool:
    return bool(track.metadata.get("storyboard", {}).get("kind") == OVERLAY_TRACK)


def _is_text_track(otio: Any, track: Any) -> bool:
    return any(
        isinstance(c.media_reference, otio.schema.GeneratorReference) for c in track.find_clips()
    )


def _markers_onto_clips(otio: Any, timeline: Any) -> None:
    """Timeline markers re-homed on the picture clip under their start (clip time)."""
    picture = timeline.video_tracks()[0]
    for marker in list(timeline.tracks.markers):
        at = marker.marked_range.start_time
        for clip in picture.find_clips():
            placed = clip.trimmed_range_in_parent()
            if placed.start_time <= at < placed.end_time_exclusive():
                moved = otio.schema.Marker(
                    name=marker.name,
                    color=marker.color,
                    metadata=marker.metadata,
                    marked_range=otio.opentime.TimeRange(
                        clip.source_range.start_time + (at - placed.start_time),
                        marker.marked_range.duration,
                    ),
                )
                clip.markers.append(moved)
                break


def _drop_fades(otio: Any, timeline: Any) -> None:
    """Fades through black become cuts: no adapter writes a dip to black, and as an OTIO
    transition it would need frames beyond the clips' ends."""
    for track in timeline.tracks:
        for item in list(track):
            if (
                isinstance(item, otio.schema.Transition)
                and item.transition_type != otio.schema.TransitionTypes.SMPTE_Dissolve
            ):
                track.remove(item)


def _aaf_transitions(otio: Any, timeline: Any) -> None:
    """Dissolves get Avid's Video Dissolve effect."""
    for track in timeline.tracks:
        for item in list(track):
            if isinstance(item, otio.schema.Transition):
                meta = copy.deepcopy(_AAF_DISSOLVE)
                meta["CutPoint"] = int(item.in_offset.value)
                if track.kind == otio.schema.TrackKind.Audio:
                    operation = meta["OperationGroup"]["Operation"]
                    operation.update(DataDefinition={"Name": "Sound"}, Description="Audio Dissolve")
                item.metadata["AAF"] = meta


def _relative_urls(otio: Any, timeline: Any, dest_dir: Path) -> None:
    for clip in timeline.find_clips():
        ref = clip.media_reference
        if isinstance(ref, otio.schema.ExternalReference) and ref.target_url.startswith("file:"):
            path = otio.url_utils.filepath_from_url(ref.target_url)
            ref.target_url = Path(os.path.relpath(path, dest_dir.resolve())).as_posix()


# --- writing ------------------------------------------------------------------------------------


def write_export(nle: Any, fmt: ExportFormat, path: Path) -> Path:
    """Write ``fmt`` to ``path`` (via a temporary name) through its OTIO adapter."""
    missing = missing_plugins([fmt])
    if missing:
        raise ExportUnavailable(missing)
    import opentimelineio as otio

    path.parent.mkdir(parents=True, exist_ok=True)
    timeline = for_format(nle, fmt, path.parent)
    try:
        options = {"use_empty_mob_ids": True} if fmt == "aaf" else {}  # fresh mob ids
        with atomic_path(path) as partial:
            otio.adapters.write_to_file(
                timeline, str(partial), adapter_name=EXPORTS[fmt].adapter, **options
            )
    except Exception as exc:  # an adapter's own error types vary by plugin
        raise AssemblyError("export", f"{fmt}: {type(exc).__name__}: {exc}") from exc
    return path


def build_nle(
    timeline: Timeline,
    clips: Sequence[EditClip],
    infos: Sequence[ClipInfo],
    edit: Edit,
    cues: Sequence[Cue],
    *,
    name: str,
    music: Path | None,
    base_dir: Path = Path(),
) -> Any:
    """:func:`nle_timeline` with the music file's length probed (overlay images resolve
    against ``base_dir``, the storyboard's folder)."""
    bed = None
    if music is not None:
        try:
            seconds = probe(music).duration
        except FFmpegError:
            seconds = None
        bed = MusicBed(music, seconds)
    return nle_timeline(timeline, clips, infos, edit, cues, name=name, music=bed, base_dir=base_dir)
