"""Probe clips: codec parameters, frame count and keyframes from one stream-copy pass.

One ``ffmpeg -i CLIP -map 0:v:0 -c copy -f framecrc -`` run (about 20 ms, nothing is
decoded) prints the stream summary on stderr and one line per video packet on stdout:
the packets give the exact frame count and which frames are keyframes, the ``#extradata``
header gives a checksum of the SPS/PPS. The parsers are pure and tested on saved text.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from pathlib import Path

from storyboard.media.ffmpeg import FFmpegError, parse_probe, run_ffmpeg, run_ffmpeg_capture

from .clips import ClipInfo, VideoParams, header_input_args
from .errors import AssemblyError

__all__ = [
    "PacketTable",
    "clean_cut_points",
    "clip_info",
    "is_iso_media",
    "params_key",
    "parse_colour",
    "parse_framecrc",
    "parse_input_section",
    "parse_input_sections",
    "parse_time_base",
    "parse_video_profile",
    "probe_clip",
    "probe_clips",
    "stream_extradata",
    "stream_head",
]

_EXTRADATA = re.compile(r"^#extradata 0:\s*(\d+),\s*(0x[0-9a-fA-F]+)", re.M)
_TB = re.compile(r"^#tb 0:\s*(\d+)/(\d+)", re.M)
_PACKET = re.compile(r"^0,\s*(-?\d+),\s*(-?\d+),\s*(\d+),\s*(\d+),\s*0x[0-9a-fA-F]+(.*)$", re.M)
_FLAGS = re.compile(r"F=0x([0-9a-fA-F]+)")
_PROFILE = re.compile(r"Video: \w+ \(([^)/]+)\)")
_TBN = re.compile(r"(\d+(?:\.\d+)?k?) tbn")
_SAR = re.compile(r"\[SAR (\d+:\d+) DAR")
_COLOUR = re.compile(r"Video: .*?, \w+\(([^)]*)\)")


@dataclass(frozen=True)
class PacketTable:
    """The video packets of a clip, as framecrc lists them."""

    time_base: Fraction
    extradata: str | None
    pts: tuple[int, ...]
    """Presentation timestamps in display order (time-base units)."""
    key_pts: frozenset[int]
    decode_pts: tuple[int, ...] = ()
    """Presentation timestamps in decode (file) order."""
    decode_delay: int = 0
    """Frames the first packet's decode time precedes its presentation (B-frame delay)."""

    @property
    def keyframe_indices(self) -> tuple[int, ...]:
        return tuple(i for i, p in enumerate(self.pts) if p in self.key_pts)

    @property
    def cut_points(self) -> tuple[int, ...]:
        """Frame counts ``n`` at which the first ``n`` packets in decode order are exactly
        display frames ``0 .. n-1`` (see :func:`clean_cut_points`)."""
        return clean_cut_points(self.pts, self.decode_pts)


def clean_cut_points(display_pts: Sequence[int], decode_pts: Sequence[int]) -> tuple[int, ...]:
    """Where a stream copy may stop mid-GOP without a dangling B-frame (pure).

    ``n`` is a clean cut when the first ``n`` packets in decode order hold exactly the
    first ``n`` frames in display order: nothing before the cut needs a frame after it
    (every reference precedes its user in decode order), and ``-frames:v n`` copies
    exactly those frames. With x264's defaults (3 B-frames) these fall every 1-4 frames;
    the end of every closed GOP is one.
    """
    index = {p: i for i, p in enumerate(display_pts)}
    cuts: list[int] = []
    highest = -1
    for count, pts in enumerate(decode_pts, start=1):
        highest = max(highest, index[pts])
        if highest == count - 1:
            cuts.append(count)
    return tuple(cuts)


def parse_framecrc(text: str) -> PacketTable:
    """Parse ``-f framecrc`` output of a single (video) stream."""
    tb = _TB.search(text)
    time_base = Fraction(int(tb[1]), int(tb[2])) if tb else Fraction(1, 1)
    extra = _EXTRADATA.search(text)
    pts: list[int] = []
    keys: set[int] = set()
    delay = 0
    for m in _PACKET.finditer(text):
        if not pts and int(m[3]) > 0:
            delay = round((int(m[2]) - int(m[1])) / int(m[3]))
        flags = _FLAGS.search(m[5])
        is_key = flags is None or bool(int(flags[1], 16) & 1)
        pts.append(int(m[2]))
        if is_key:
            keys.add(int(m[2]))
    return PacketTable(
        time_base=time_base,
        extradata=f"{extra[1]}:{extra[2].lower()}" if extra else None,
        pts=tuple(sorted(pts)),
        key_pts=frozenset(keys),
        decode_pts=tuple(pts),
        decode_delay=delay,
    )


def parse_input_section(text: str) -> str:
    """The ``Input #0`` part of ffmpeg's stderr (drops the output summary)."""
    return text.split("Output #0", 1)[0]


def parse_video_profile(text: str) -> str | None:
    """The first video stream's profile, e.g. ``High`` from ``Video: h264 (High) (avc1 ...``."""
    m = _PROFILE.search(text)
    return m[1].strip() if m else None


def parse_time_base(text: str) -> str | None:
    """The first video stream's ``tbn`` as ffmpeg prints it, e.g. ``12288``."""
    for line in text.splitlines():
        if "Video:" in line and (m := _TBN.search(line)):
            return m[1]
    return None


def parse_colour(text: str) -> tuple[str | None, tuple[str, ...]]:
    """The first video stream's SAR (``1:1``) and colour tags (``("tv", "bt709")``)."""
    for line in text.splitlines():
        if "Video:" in line:
            sar = _SAR.search(line)
            colour = _COLOUR.search(line)
            tags = tuple(t.strip() for t in colour[1].split(",")) if colour else ()
            return (sar[1] if sar else None), tuple(t for t in tags if t != "progressive")
    return None, ()


def clip_info(
    path: Path,
    stderr: str,
    framecrc: str,
    params_from: str | None = None,
    *,
    complete_header: bool = False,
) -> ClipInfo:
    """Combine the two outputs of the probe run into a :class:`ClipInfo` (pure).

    ``params_from`` is the input section of a fully opened clip with the same SPS/PPS and
    stream line (see :func:`params_key`), when ``stderr`` comes from a header-only open;
    ``complete_header`` says the file is ISO media (see :func:`is_iso_media`).
    """
    own = parse_input_section(stderr)
    section = parse_input_section(params_from) if params_from is not None else own
    media = parse_probe(section)
    packets = parse_framecrc(framecrc)
    if not media.has_video or not packets.pts or media.width is None or media.height is None:
        raise ValueError(f"{path} has no readable video stream")
    fps = media.fps or 24.0
    params = VideoParams(
        codec=media.video_codec or "?",
        profile=parse_video_profile(section),
        pix_fmt=media.pix_fmt,
        width=media.width,
        height=media.height,
        fps=fps,
        time_base=parse_time_base(section),
        extradata=packets.extradata,
        sar=parse_colour(section)[0],
        colour=parse_colour(section)[1],
    )
    return ClipInfo(
        path=path,
        params=params,
        frames=len(packets.pts),
        keyframes=packets.keyframe_indices,
        cut_points=packets.cut_points,
        decode_delay=packets.decode_delay,
        video_start=float(packets.pts[0] * packets.time_base),
        has_audio=parse_probe(own).has_audio,
        complete_header=complete_header,
    )


def _framecrc_args(path: Path) -> list[str]:
    return ["-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"]


def probe_clip(path: Path) -> ClipInfo:
    """Probe one clip (I/O)."""
    try:
        out, err = run_ffmpeg_capture(_framecrc_args(path))
        text = out.decode("utf-8", "replace")
        return clip_info(path, err, text, complete_header=is_iso_media(path))
    except (FFmpegError, ValueError) as exc:
        raise AssemblyError("probe", f"cannot read {path}: {exc}") from exc


PROBES_PER_RUN = 16
"""Clips probed by one ffmpeg run (each is only demuxed; one process instead of many)."""

_BITRATE = re.compile(r",?\s*\d+ kb/s")


def is_iso_media(path: Path) -> bool:
    """True when ``path`` starts with an ISO base media ``ftyp`` box (mp4, mov, m4v).

    Such a file's header (``moov``) describes every stream and every sample, so its packets
    can be listed without probing frames (``-nofind_stream_info``).
    """
    try:
        with path.open("rb") as f:
            return f.read(8)[4:8] == b"ftyp"
    except OSError:
        return False


@dataclass(frozen=True)
class _Listing:
    """One clip's part of a packet-listing run: its input section and framecrc text."""

    path: Path
    section: str
    framecrc: str
    header_only: bool
    """Opened with ``-nofind_stream_info``: the section lacks profile, pixel format and
    colour, which come from a clip with the same SPS/PPS (see :func:`params_key`)."""

    @cached_property
    def key(self) -> tuple[str, str] | None:
        """The :func:`params_key` of a header-only clip (None: opened in full, or no
        extradata)."""
        if not self.header_only:
            return None
        return params_key(self.section, parse_framecrc(self.framecrc).extradata)


def params_key(section: str, extradata: str | None) -> tuple[str, str] | None:
    """What makes two header-only clips share codec parameters (pure).

    The SPS/PPS (``extradata``, size and CRC) hold the profile, pixel format and colour
    description; the container's stream line (bitrate dropped) holds size, rate, time
    base and aspect ratio. None without extradata (parameters in-band: probe it fully).
    """
    if extradata is None:
        return None
    for line in section.splitlines():
        if "Video:" in line:
            return extradata, _BITRATE.sub("", line.split("Video:", 1)[1]).strip()
    return None


def probe_clips(paths: list[Path], workers: int = 2) -> list[ClipInfo]:
    """Probe several clips, up to :data:`PROBES_PER_RUN` per ffmpeg run.

    mp4/mov clips are opened from their header alone; their codec parameters are then read
    from one fully opened clip per distinct SPS/PPS (the first clip's while the packets
    are listed: generated clips usually share one). When a run fails (an unreadable
    clip), its clips are probed one by one, so the error names the clip.
    """
    batches = [paths[i : i + PROBES_PER_RUN] for i in range(0, len(paths), PROBES_PER_RUN)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        first = pool.submit(_full_sections, paths[:1]) if paths else None
        listed = [item for batch in pool.map(_list_batch, batches) for item in batch]
        try:
            full = dict(zip(paths[:1], first.result() if first else [], strict=True))
        except AssemblyError:  # an unreadable first clip: named when it is listed
            full = {}
    return _infos(listed, full)


def _infos(listed: list[ClipInfo | _Listing], full: dict[Path, str]) -> list[ClipInfo]:
    """ClipInfos of listed clips, each header-only one's parameters from its group's
    fully opened clip (probed here when none is yet)."""
    keyed = [i for i in listed if isinstance(i, _Listing) and i.key is not None]
    known = {i.key: full[i.path] for i in keyed if i.path in full}
    wanted: dict[tuple[str, str] | None, Path] = {}
    for listing in keyed:
        if listing.key not in known:
            wanted.setdefault(listing.key, listing.path)
    if wanted:
        sections = _full_sections(list(wanted.values()))
        known.update(zip(wanted, sections, strict=True))
    infos: list[ClipInfo] = []
    for item in listed:
        if isinstance(item, ClipInfo):
            infos.append(item)
            continue
        if item.header_only and item.key is None:
            infos.append(probe_clip(item.path))
            continue
        params_from = known[item.key] if item.key is not None else None
        try:
            infos.append(
                clip_info(
                    item.path,
                    item.section,
                    item.framecrc,
                    params_from,
                    complete_header=item.header_only,
                )
            )
        except ValueError as exc:
            raise AssemblyError("probe", f"cannot read {item.path}: {exc}") from exc
    return infos


def _list_batch(paths: list[Path]) -> list[ClipInfo | _Listing]:
    """List the packets of ``paths`` in one run (falls back to one probe per clip)."""
    header_only = [is_iso_media(p) for p in paths]
    with tempfile.TemporaryDirectory(prefix="storyboard-probe-") as folder:
        outs = [Path(folder) / f"{k}.crc" for k in range(len(paths))]
        args = [a for p, h in zip(paths, header_only, strict=True) for a in header_input_args(p, h)]
        for k, out in enumerate(outs):
            args += ["-map", f"{k}:v:0", "-c", "copy", "-f", "framecrc", "-y", str(out)]
        try:
            _, err = run_ffmpeg_capture(args)
            sections = parse_input_sections(err)
            return [
                _Listing(p, section, out.read_text(encoding="utf-8", errors="replace"), h)
                for p, section, out, h in zip(paths, sections, outs, header_only, strict=True)
            ]
        except (FFmpegError, ValueError, OSError):
            return [probe_clip(p) for p in paths]


def _full_sections(paths: list[Path]) -> list[str]:
    """The input sections of ``paths`` opened in full (frames probed), one run."""
    args = [a for p in paths for a in ("-i", str(p))]
    sections = parse_input_sections(run_ffmpeg(args, check=False))
    if len(sections) != len(paths):
        bad = paths[len(sections)] if len(sections) < len(paths) else paths[0]
        raise AssemblyError("probe", f"cannot read {bad}")
    return sections


def parse_input_sections(text: str) -> list[str]:
    """The ``Input #k`` parts of ffmpeg's stderr, one per input, in order."""
    inputs = parse_input_section(text)
    parts = re.split(r"^(?=Input #\d+)", inputs, flags=re.M)
    return [p for p in parts if p.startswith("Input #")]


def stream_extradata(path: Path) -> str | None:
    """Size and CRC of a file's video extradata (SPS/PPS), for comparing encoders."""
    return stream_head(path).extradata


def stream_head(path: Path) -> PacketTable:
    """The extradata and first packet (decode delay) of a file's video, from one packet."""
    out, _ = run_ffmpeg_capture(
        [
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-c",
            "copy",
            "-frames:v",
            "1",
            "-f",
            "framecrc",
            "-",
        ]
    )
    return parse_framecrc(out.decode("utf-8", "replace"))
