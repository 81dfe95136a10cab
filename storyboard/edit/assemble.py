"""Assemble generated clips into the finished edit: the top-level steps.

:func:`assemble` reads top to bottom: probe the clips, resolve the timeline, choose the
path (stream-copy, smart, full), render titles, build the video pieces, rebuild the audio
once, mux, measure the written file's loudness, write the hand-offs.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from storyboard.atomic import atomic_path
from storyboard.media.encoding import VideoEncoding
from storyboard.media.ffmpeg import FFmpegError, run_ffmpeg

from .audio import (
    FIRST_PASS_FILTER,
    MEASURE_FILTER,
    LoudnessStats,
    Normalisation,
    gain_filter,
    generated_audio_args,
    limit_to_target,
    measure_loudness,
    mix_music,
    music_args,
    parse_ebur128,
    plan_from_first_pass,
    raw_input_args,
    sample_pos,
)
from .clips import ClipInfo, EditClip
from .compose import TitleImage, render_args, render_range
from .composite import render_moviepy_piece
from .errors import AssemblyError, EditError
from .exports import ExportUnavailable, build_nle, export_path, missing_plugins, write_export
from .handoff import (
    handoff_paths,
    otio_timeline,
    write_contact_sheet,
    write_otio,
    write_report,
)
from .model import Edit, Music, Output
from .paths import CopyPiece, PathChoice, RenderPiece, choose_path, needs_bridges
from .probe import stream_head
from .report import AssemblyReport, LoudnessReport, ScenePlacement
from .scenes import probe_sources, resolve_scenes
from .smart import BridgeEncoder, find_bridge_encoder
from .streamcopy import (
    concat_list,
    copy_pieces_args,
    encode_audio_args,
    mux_args,
    mux_encode_args,
    retime_args,
    run_all,
)
from .subtitles import Cue, subtitle_cues, write_sidecars
from .timeline import Timeline
from .titles import burn_in, render_overlays, subtitles_from

__all__ = ["ProgressCallback", "assemble", "build_sound_track"]

ProgressCallback = Callable[[str, float], None]
T = TypeVar("T")
SHEET = "contact-sheet.png"
COPIES_PER_RUN = 16
"""Stream-copied pieces remuxed by one ffmpeg run (inputs are only demuxed: cheap)."""


def assemble(
    clips: Sequence[EditClip],
    edit: Edit,
    output: Output,
    out_path: Path,
    *,
    base_dir: Path,
    work_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    handoffs: bool = True,
) -> AssemblyReport:
    """Assemble ``clips`` (in storyboard order) into ``out_path`` as ``edit`` describes.

    ``base_dir`` is the storyboard's folder (music and font paths resolve against it);
    ``work_dir`` holds intermediate files (a fresh temp folder, removed afterwards, when
    None); ``progress(step, fraction)`` is called as steps start, advance and finish
    (the audio step runs on a worker thread while the video step runs: calls may come
    from that thread, but never two at once); with ``handoffs`` the OTIO timeline,
    contact sheet and JSON report are written next to the output.
    """
    if not clips:
        raise EditError(["there are no clips to assemble"])
    if handoffs and (missing := missing_plugins(edit.exports)):
        raise ExportUnavailable(missing)
    steps = _Steps(progress)
    music = _music_path(edit, base_dir)
    with _work_folder(work_dir) as work:
        infos = steps.run("probe", lambda: probe_sources(clips, output.fps))
        plain = steps.run("plan", lambda: _resolve(clips, infos, edit, output))
        cues = subtitle_cues(plain, clips)
        timeline = burn_in(plain, cues, edit.subtitles)
        choice, bridge = steps.run("plan", lambda: _choose(timeline, infos, output, work))
        pictures = _Pictures(clips, base_dir)
        first = subtitles_from(plain)
        overlays = steps.run(
            "titles",
            lambda: render_overlays(timeline, first, edit.subtitles, base_dir, work, infos),
        )
        titles = overlays.images
        # With stream copy the video is ready long before the sound: the AAC is then
        # encoded straight into the output by the mux; otherwise alongside the video.
        encode = choice.path != "stream-copy"
        with ThreadPoolExecutor(max_workers=2) as background:  # sound and sheet, alongside
            sound = background.submit(
                steps.run,
                "audio",
                lambda: _build_audio(timeline, infos, edit, output, music, work, encode=encode),
            )
            # The sheet is written in the work folder, moved next to the output at the end.
            # Both run alongside the video, but before a full render (their decoders would
            # add to its memory; they take a few percent of its time).
            sheet = _sheet_job(background, plain, infos, work) if handoffs else None
            if choice.path == "full":
                sound.exception()
                if sheet is not None:
                    sheet.exception()
            choice, video = steps.run(
                "video",
                lambda: _build_video(
                    choice, bridge, timeline, infos, titles, output, work, steps, pictures
                ),
            )
            audio = sound.result()
            measured = steps.run(
                "mux", lambda: _mux(video, audio, timeline, out_path, output.audio_bitrate)
            )
            loudness = steps.run(
                "measure", lambda: _measure_output(out_path, edit, audio, measured)
            )
            report = _report(out_path, choice, timeline, clips, infos, loudness, steps)
            report = replace(report, warnings=tuple(overlays.warnings))
            if sheet is not None:
                made = _Made(plain, clips, infos, cues, music, base_dir)
                report = _write_handoffs(report, made, edit, sheet, steps)
    return report


# --- steps --------------------------------------------------------------------------------------


class _Steps:
    """Times each named step, reports progress, and names the step in errors."""

    def __init__(self, progress: ProgressCallback | None) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}
        self._lock = threading.Lock()  # audio and video steps run concurrently

    def report(self, step: str, fraction: float) -> None:
        if self.progress is not None:
            with self._lock:
                self.progress(step, max(0.0, min(1.0, fraction)))

    def run(self, step: str, fn: Callable[[], T]) -> T:
        self.report(step, 0.0)
        started = time.perf_counter()
        try:
            return fn()
        except FFmpegError as exc:
            raise AssemblyError(step, str(exc)) from exc
        finally:
            self.timings[step] = self.timings.get(step, 0.0) + time.perf_counter() - started
            self.report(step, 1.0)


@contextlib.contextmanager
def _work_folder(work_dir: Path | None) -> Iterator[Path]:
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
        yield work_dir
        return
    folder = Path(tempfile.mkdtemp(prefix="storyboard-edit-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _sheet_job(
    pool: ThreadPoolExecutor, timeline: Timeline, infos: Sequence[ClipInfo], work: Path
) -> Future[Path]:
    return pool.submit(write_contact_sheet, timeline, infos, work, work / SHEET)


def _music_path(edit: Edit, base_dir: Path) -> Path | None:
    if edit.music is None:
        return None
    path = Path(edit.music.path)
    path = path if path.is_absolute() else base_dir / path
    if not path.is_file():
        raise EditError([f"edit.music.path: {path} does not exist"])
    return path


def _resolve(
    clips: Sequence[EditClip], infos: Sequence[ClipInfo], edit: Edit, output: Output
) -> Timeline:
    return resolve_scenes(clips, edit, output, infos).timeline


def _copied_info(timeline: Timeline, infos: Sequence[ClipInfo]) -> ClipInfo:
    """The first clip that may be stream-copied (bridges are encoded like it)."""
    return next(
        (infos[s.clip] for s in timeline.scenes if not s.composite), infos[timeline.scenes[0].clip]
    )


def _choose(
    timeline: Timeline, infos: Sequence[ClipInfo], output: Output, work: Path
) -> tuple[PathChoice, BridgeEncoder | None]:
    bridge = None
    if needs_bridges(timeline, infos, fast_path=output.fast_path):
        used = [infos[s.clip] for s in timeline.scenes if not s.composite]
        bridge = find_bridge_encoder(used, work)
    name = bridge.name if bridge else None
    return choose_path(timeline, infos, fast_path=output.fast_path, bridge_encoder=name), bridge


def _output_encoding(output: Output) -> VideoEncoding:
    return VideoEncoding(
        preset=output.preset, crf=output.crf, gop=output.fps, audio_bitrate=output.audio_bitrate
    )


# --- video ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pictures:
    """What the moviepy pieces need besides the timeline: the clips and the base folder."""

    clips: Sequence[EditClip]
    base_dir: Path


def _build_video(
    choice: PathChoice,
    bridge: BridgeEncoder | None,
    timeline: Timeline,
    infos: Sequence[ClipInfo],
    titles: dict[int, TitleImage],
    output: Output,
    work: Path,
    steps: _Steps,
    pictures: _Pictures,
) -> tuple[PathChoice, Path]:
    """Write every piece (copies, then renders) and the concat list; returns the list."""
    files = [work / f"piece-{n:04d}.mp4" for n in range(len(choice.pieces))]
    copies = [(p, f) for p, f in zip(choice.pieces, files, strict=True) if isinstance(p, CopyPiece)]
    jobs = [(p, infos[timeline.scenes[p.scene].clip], f) for p, f in copies]
    batches = [jobs[i : i + COPIES_PER_RUN] for i in range(0, len(jobs), COPIES_PER_RUN)]
    run_all([copy_pieces_args(batch) for batch in batches])
    smart = choice.path == "smart" and bridge is not None
    encoding = bridge.encoding if smart and bridge else _output_encoding(output)
    bridge_for = _copied_info(timeline, infos) if smart else None
    _render_pieces(choice, files, timeline, infos, titles, encoding, bridge_for, steps, pictures)
    if smart and not _bridges_match(choice, files, _copied_info(timeline, infos)):
        reason = f"{choice.reason}; but a bridge's SPS/PPS differed, so re-rendered in full"
        full = replace(choose_path(timeline, infos, fast_path=False), reason=reason)
        return _build_video(full, None, timeline, infos, titles, output, work, steps, pictures)
    _align_decode_delays(choice, files, timeline, infos)
    list_file = work / "pieces.txt"
    list_file.write_text(concat_list(files), encoding="utf-8")
    return choice, list_file


def _align_decode_delays(
    choice: PathChoice, files: list[Path], timeline: Timeline, infos: Sequence[ClipInfo]
) -> None:
    """Give every rendered piece the decode delay of the deepest piece (pure timestamps).

    The concat demuxer only offsets each piece's timestamps. A piece whose first packet
    is decoded D frames before it is shown, after one with a smaller delay (a short
    bridge that x264 wrote without B-frames), would get decode times at or before the
    previous piece's last ones: ffmpeg then squeezes them and the frame timing breaks.
    Shifting a rendered piece's decode times earlier by the difference (``setts``, a
    stream-copy remux) keeps decode times rising everywhere.
    """
    delays = {
        f: stream_head(f).decode_delay
        for p, f in zip(choice.pieces, files, strict=True)
        if isinstance(p, RenderPiece)
    }
    copied = [
        infos[timeline.scenes[p.scene].clip].decode_delay
        for p in choice.pieces
        if isinstance(p, CopyPiece)
    ]
    deepest = max([*delays.values(), *copied], default=0)
    shifts = [(f, deepest - d) for f, d in delays.items() if d < deepest]
    run_all([retime_args(f, shift) for f, shift in shifts])
    for f, _ in shifts:
        f.with_name(f"retimed-{f.name}").replace(f)


def _render_pieces(
    choice: PathChoice,
    files: list[Path],
    timeline: Timeline,
    infos: Sequence[ClipInfo],
    titles: dict[int, TitleImage],
    encoding: VideoEncoding,
    bridge_for: ClipInfo | None,
    steps: _Steps,
    pictures: _Pictures,
) -> None:
    total = max(1, choice.rendered_frames)
    done = 0
    for piece, file in zip(choice.pieces, files, strict=True):
        if not isinstance(piece, RenderPiece):
            continue
        on_frames = functools.partial(_video_progress, steps, done, total)
        if piece.renderer == "moviepy":
            render_moviepy_piece(
                timeline,
                pictures.clips,
                infos,
                titles,
                (piece.out_start, piece.out_end),
                encoding,
                file,
                base_dir=pictures.base_dir,
                bridge_for=bridge_for,
                like=_copied_info(timeline, infos),
                on_frames=on_frames,
            )
            done += piece.frames
            continue
        args = render_args(
            timeline,
            infos,
            piece.out_start,
            piece.out_end,
            titles,
            encoding,
            file,
            bridge_for=bridge_for,
        )
        render_range(args, piece.frames, on_frames)
        done += piece.frames


def _video_progress(steps: _Steps, done: int, total: int, frames: int) -> None:
    steps.report("video", (done + frames) / total)


def _bridges_match(choice: PathChoice, files: list[Path], source: ClipInfo) -> bool:
    return all(
        stream_head(f).extradata == source.params.extradata
        for p, f in zip(choice.pieces, files, strict=True)
        if isinstance(p, RenderPiece)
    )


# --- audio --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Audio:
    raw: Path
    """The mixed sound track, raw float32 PCM."""
    audio_filter: str
    """What the one AAC encode applies to ``raw`` (the loudness gain, or nothing)."""
    encoded: Path | None
    """The finished sound track, AAC in an .m4a (None: the mux encodes ``raw``)."""
    normalisation: Normalisation
    before: float | None


def _build_audio(
    timeline: Timeline,
    infos: Sequence[ClipInfo],
    edit: Edit,
    output: Output,
    music: Path | None,
    work: Path,
    *,
    encode: bool = True,
) -> _Audio:
    """Generated sound (+ music), measured, normalised, encoded to AAC once (here when
    ``encode``, else by the mux)."""
    gen = work / "generated.f32"
    measure_now = edit.loudness.enabled and music is None
    args = generated_audio_args(timeline, infos, sound=edit.sound, out=gen, measure=measure_now)
    with ThreadPoolExecutor(max_workers=1) as alongside:  # the music bed decodes meanwhile
        samples = sample_pos(timeline.total_frames, timeline.fps)
        bed = alongside.submit(_decode_bed, music, samples, work) if music is not None else None
        text = run_ffmpeg(["-v", "info" if measure_now else "error", *args])
        stats = parse_ebur128(text) if measure_now else None
        mix = gen
        if bed is not None and edit.music is not None:
            mix = _mix_music(gen, bed.result(), edit.music, edit.sound, work)
            enabled = edit.loudness.enabled
            stats = measure_loudness(raw_input_args(mix), FIRST_PASS_FILTER) if enabled else None
    stats, kind, gain = plan_from_first_pass(stats, edit.loudness, mix)
    before = None if stats is None or stats.silent else stats.integrated
    audio_filter = gain_filter(gain) if kind == "linear" else "anull"
    if kind == "limited" and stats is not None:
        limit_to_target(mix, work / "limited.f32", stats, edit.loudness)
        mix = work / "limited.f32"
    if not encode:
        return _Audio(mix, audio_filter, None, kind, before)
    encoded = work / "sound.m4a"
    args = encode_audio_args(raw_input_args(mix), audio_filter, output.audio_bitrate, encoded)
    run_ffmpeg(["-v", "error", *args])
    return _Audio(mix, audio_filter, encoded, kind, before)


def build_sound_track(
    timeline: Timeline,
    infos: Sequence[ClipInfo],
    edit: Edit,
    output: Output,
    base_dir: Path,
    work: Path,
) -> Path:
    """The edit's finished sound track (what :func:`assemble` muxes), as an .m4a in work."""
    music = _music_path(edit, base_dir)
    encoded = _build_audio(timeline, infos, edit, output, music, work, encode=True).encoded
    assert encoded is not None  # encode=True always writes the .m4a
    return encoded


def _decode_bed(music: Path, samples: int, work: Path) -> Path:
    """The music bed as raw PCM, exactly ``samples`` long: the edit's length, which is the
    generated sound's (every scene's sound is cut to its samples on the timeline)."""
    bed = work / "music.f32"
    run_ffmpeg(["-v", "error", *music_args(music, samples, bed)])
    return bed


def _mix_music(gen: Path, bed: Path, spec: Music, sound: bool, work: Path) -> Path:
    samples = np.fromfile(gen, dtype="<f4").reshape(-1, 2)
    mixed = mix_music(samples, np.fromfile(bed, dtype="<f4").reshape(-1, 2), spec, duck=sound)
    mix = work / "mix.f32"
    mixed.astype("<f4").tofile(mix)
    return mix


# --- mux, measure, report -------------------------------------------------------------------------


def _mux(
    video: Path, audio: _Audio, timeline: Timeline, out_path: Path, bitrate: str
) -> LoudnessStats | None:
    """Write the output to a temporary name, then rename it into place.

    When the mux encodes the sound it also measures it as written (returned); else None.
    """
    measured = None
    with atomic_path(out_path) as partial:
        if audio.encoded is not None:
            run_ffmpeg(["-v", "error", *mux_args(video, audio.encoded, timeline, partial)])
        else:
            raw = raw_input_args(audio.raw)
            args = mux_encode_args(
                video, raw, audio.audio_filter, bitrate, timeline, partial, MEASURE_FILTER
            )
            measured = parse_ebur128(run_ffmpeg(["-v", "info", "-nostats", *args]))
    return measured


def _measure_output(
    out_path: Path, edit: Edit, audio: _Audio, measured: LoudnessStats | None
) -> LoudnessReport:
    stats = measured or measure_loudness(["-i", str(out_path)])
    return LoudnessReport(
        integrated=None if stats.silent else stats.integrated,
        true_peak=None if stats.silent else stats.true_peak,
        target=edit.loudness.target,
        ceiling=edit.loudness.true_peak,
        normalisation=audio.normalisation,
        before=audio.before,
    )


def _report(
    out_path: Path,
    choice: PathChoice,
    timeline: Timeline,
    clips: Sequence[EditClip],
    infos: Sequence[ClipInfo],
    loudness: LoudnessReport,
    steps: _Steps,
) -> AssemblyReport:
    fps = timeline.fps
    scenes = tuple(
        ScenePlacement(
            scene_id=s.scene_id,
            start=s.start / fps,
            end=s.end / fps,
            source_in=s.src_in / s.src_fps,
            source_out=s.src_out / s.src_fps,
            clip=clips[s.clip].path,
        )
        for s in timeline.scenes
    )
    costs = [c.cost for c in clips if c.cost is not None]
    return AssemblyReport(
        path=out_path,
        assembly_path=choice.path,
        reason=choice.reason,
        duration=timeline.duration,
        frames=timeline.total_frames,
        fps=fps,
        size=(timeline.width, timeline.height),
        scenes=scenes,
        loudness=loudness,
        timings=dict(steps.timings),
        reencoded_frames=choice.rendered_frames,
        frames_by_renderer=choice.frames_by_renderer,
        pieces=choice.renderer_spans,
        cost=sum(costs) if costs else None,
    )


@dataclass(frozen=True)
class _Made:
    """What the hand-offs are written from: the edit as planned (no burned-in subtitles)."""

    timeline: Timeline
    clips: Sequence[EditClip]
    infos: Sequence[ClipInfo]
    cues: Sequence[Cue]
    music: Path | None
    base_dir: Path


def _write_handoffs(
    report: AssemblyReport, made: _Made, edit: Edit, sheet: Future[Path], steps: _Steps
) -> AssemblyReport:
    paths = handoff_paths(report.path)
    name = report.path.stem
    timeline, clips, infos = made.timeline, made.clips, made.infos

    def otio_and_sheet() -> None:
        handoff = otio_timeline(
            timeline, clips, infos, edit, report, name=name, cues=made.cues, base_dir=made.base_dir
        )
        write_otio(handoff, paths["otio"])
        steps.report("handoffs", 0.3)
        made_sheet = sheet.result()  # made while the video was
        with atomic_path(paths["contact_sheet"]) as temp:
            shutil.copyfile(made_sheet, temp)

    def sidecars_and_exports() -> None:
        if made.cues:
            paths["srt"], paths["vtt"] = (report.path.with_suffix(s) for s in (".srt", ".vtt"))
            write_sidecars(made.cues, timeline.fps, paths["srt"], paths["vtt"])
        if edit.exports:
            nle = build_nle(
                timeline,
                clips,
                infos,
                edit,
                made.cues,
                name=name,
                music=made.music,
                base_dir=made.base_dir,
            )
            for fmt in edit.exports:
                paths[f"export_{fmt}"] = write_export(nle, fmt, export_path(report.path, fmt))

    steps.run("handoffs", otio_and_sheet)
    steps.run("handoffs", sidecars_and_exports)
    report = replace(report, handoffs=paths, timings=dict(steps.timings))
    write_report(report, paths["report"])
    return report
