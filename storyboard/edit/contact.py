"""The contact sheet: the first and last frame of every scene, labelled, two scenes a row.

Thumbnails come from **keyframe seeks**: one ffmpeg run for the whole sheet, each input
seeked to the keyframe at or before the wanted frame and decoded only as far as needed.
A frame at most :data:`EXACT_LEAD` frames after its keyframe is shown exactly; one
further in would cost decoding its GOP (a whole 1080p clip when it has one IDR, ~0.3-1 s
each), so the keyframe itself is shown and the label gives its time with ``~``.
:func:`thumbnail_plan` and :func:`contact_sheet` are pure.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from storyboard.media.ffmpeg import run_ffmpeg

from .clips import ClipInfo
from .compose import conform_filter
from .timeline import Scene, Timeline

__all__ = [
    "EXACT_LEAD",
    "Thumbnail",
    "contact_sheet",
    "thumbnail_args",
    "thumbnail_plan",
    "write_contact_sheet",
]

THUMB_WIDTH = 320
LABEL_HEIGHT = 26
GAP = 8
EXACT_LEAD = 6
"""Frames past a keyframe still decoded for an exact thumbnail (a few ms each)."""
INPUTS_PER_RUN = 8
"""Thumbnails per ffmpeg run: few processes, few decoders open at once (memory)."""
KEYFRAME_ONLY = r"noise=drop=gt(n\,0)"
"""Input bitstream filter passing only the first packet (a seeked input's keyframe)."""


@dataclass(frozen=True)
class Thumbnail:
    """Which source frame a thumbnail shows for a wanted one, and how it is decoded."""

    wanted: int
    keyframe: int
    """The keyframe the decoder starts at."""
    shown: int
    """The frame shown: ``wanted`` when exact, else ``keyframe``."""

    @property
    def exact(self) -> bool:
        return self.shown == self.wanted

    @property
    def lead(self) -> int:
        """Frames decoded and dropped before the shown one."""
        return self.shown - self.keyframe


def thumbnail_plan(
    keyframes: Sequence[int], wanted: int, exact_lead: int = EXACT_LEAD
) -> Thumbnail:
    """The thumbnail for source frame ``wanted`` of a clip with these keyframes (pure)."""
    i = bisect.bisect_right(keyframes, wanted)
    key = keyframes[i - 1] if i else 0
    return Thumbnail(wanted, key, wanted if wanted - key <= exact_lead else key)


def _input_args(info: ClipInfo, thumb: Thumbnail) -> list[str]:
    args = ["-threads", "1"]  # many small decoders in one process: keep each one lean
    if not thumb.lead:  # the keyframe is shown: decode it and nothing else, no deblocking
        args += ["-skip_frame", "nokey", "-skip_loop_filter", "all"]
        if thumb.keyframe in info.keyframes:  # the first packet read is that keyframe
            # Hand the decoder that one packet: it decodes ahead of the output (later
            # keyframes, ~30 ms each at 1080p) until ffmpeg stops the input.
            args += ["-bsf:v", KEYFRAME_ONLY]
    if thumb.keyframe:
        t = info.video_start + (thumb.keyframe + 0.5) / info.fps
        args += ["-noaccurate_seek", "-seek_timestamp", "1", "-ss", f"{t:.6f}"]
    return [*args, *info.input_args()]


def thumbnail_args(
    jobs: Sequence[tuple[ClipInfo, Thumbnail, Path]], size: tuple[int, int], timeline: Timeline
) -> list[str]:
    """One ffmpeg run writing every thumbnail, conformed like the output, at ``size``."""
    inputs: list[str] = []
    outputs: list[str] = []
    for n, (info, thumb, out) in enumerate(jobs):
        inputs += _input_args(info, thumb)
        conform = conform_filter(info.size, (timeline.width, timeline.height), timeline.conform)
        trim = f"trim=start_frame={thumb.lead}," if thumb.lead else ""
        vf = f"{trim}{conform},scale={size[0]}:{size[1]}:flags=area"
        outputs += ["-map", f"{n}:v:0", "-frames:v", "1", "-vf", vf, "-y", str(out)]
    return inputs + outputs


def _label(scene: Scene, fps: int, shown: tuple[Thumbnail, Thumbnail], src_fps: float) -> str:
    times = " / ".join(("" if t.exact else "~") + f"{t.shown / src_fps:.2f}" for t in shown)
    return (
        f"{scene.scene_id}  {scene.frames / fps:.2f} s  "
        f"({scene.start / fps:.2f}-{scene.end / fps:.2f})  src {times}"
    )


def contact_sheet(
    pairs: Sequence[tuple[Image.Image, Image.Image]], labels: Sequence[str], per_row: int = 2
) -> Image.Image:
    """Lay out (first, last) thumbnail pairs with their labels, ``per_row`` scenes a row."""
    tw, th = pairs[0][0].size
    cell_w, cell_h = 2 * tw + GAP, th + LABEL_HEIGHT
    cols = min(per_row, len(pairs))
    rows = -(-len(pairs) // cols)
    sheet = Image.new(
        "RGB", (cols * cell_w + (cols + 1) * GAP, rows * cell_h + (rows + 1) * GAP), (24, 24, 24)
    )
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=15)
    for n, ((first, last), label) in enumerate(zip(pairs, labels, strict=True)):
        x = GAP + (n % cols) * (cell_w + GAP)
        y = GAP + (n // cols) * (cell_h + GAP)
        draw.text((x, y + 4), label, fill=(235, 235, 235), font=font)
        sheet.paste(first, (x, y + LABEL_HEIGHT))
        sheet.paste(last, (x + tw + GAP, y + LABEL_HEIGHT))
    return sheet


def write_contact_sheet(
    timeline: Timeline, infos: Sequence[ClipInfo], work: Path, path: Path
) -> Path:
    """Extract the first and last frame of every scene and write the contact sheet PNG."""
    tw = min(THUMB_WIDTH, timeline.width)
    size = (tw, max(2, round(tw * timeline.height / timeline.width / 2) * 2))
    shown: list[tuple[Thumbnail, Thumbnail]] = []
    files: dict[tuple[Path, int], tuple[ClipInfo, Thumbnail, Path]] = {}  # decoded once
    for scene in timeline.scenes:
        info = infos[scene.clip]
        still = info.params.codec == "still"  # an image: its one frame
        ends = (0, 0) if still else (scene.src_in, scene.src_out - 1)
        pair = (thumbnail_plan(info.keyframes, ends[0]), thumbnail_plan(info.keyframes, ends[1]))
        shown.append(pair)
        for thumb in pair:  # BMP: lossless and ~20 ms quicker to write than PNG
            out = work / f"thumb-{len(files)}.bmp"
            files.setdefault((info.path, thumb.shown), (info, thumb, out))
    jobs = list(files.values())
    for at in range(0, len(jobs), INPUTS_PER_RUN):
        batch = jobs[at : at + INPUTS_PER_RUN]
        run_ffmpeg(["-v", "error", *thumbnail_args(batch, size, timeline)])
    pairs, labels = [], []
    for scene, (first, last) in zip(timeline.scenes, shown, strict=True):
        info = infos[scene.clip]
        a, b = files[(info.path, first.shown)][2], files[(info.path, last.shown)][2]
        with Image.open(a) as im_a, Image.open(b) as im_b:
            pairs.append((im_a.convert("RGB"), im_b.convert("RGB")))
        labels.append(_label(scene, timeline.fps, (first, last), info.fps))
    contact_sheet(pairs, labels).save(path, compress_level=1)  # fast; a sheet, not an archive
    return path
