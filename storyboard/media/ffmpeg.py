"""Run the ffmpeg binary that imageio-ffmpeg ships, and read what it prints.

There is no ffprobe in that distribution, so probing parses the stream summary that
``ffmpeg -i`` prints. Parsing is a pure function (:func:`parse_probe`) so it is tested on
saved text; only :func:`run_ffmpeg` and :func:`probe` touch the process.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from storyboard.errors import StoryboardError

__all__ = [
    "FFmpegError",
    "MediaInfo",
    "decode_errors",
    "ffmpeg_exe",
    "keyframe_times",
    "parse_probe",
    "parse_progress",
    "probe",
    "run_ffmpeg",
    "run_ffmpeg_capture",
    "run_ffmpeg_progress",
]


class FFmpegError(RuntimeError, StoryboardError):
    """ffmpeg exited with a non-zero status; ``stderr`` holds its last lines."""

    def __init__(self, args: list[str], returncode: int, stderr: str) -> None:
        tail = "\n".join(stderr.strip().splitlines()[-8:])
        super().__init__(f"ffmpeg failed (exit {returncode}): {tail}")
        self.args_list = args
        self.returncode = returncode
        self.stderr = stderr


@cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary bundled with imageio-ffmpeg."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def run_ffmpeg(
    args: list[str],
    *,
    check: bool = True,
    input_bytes: bytes | None = None,
    timeout: float | None = None,
) -> str:
    """Run ``ffmpeg -hide_banner -nostdin <args>`` and return its stderr text.

    With ``timeout`` (seconds) ffmpeg is killed when it takes longer, and
    :class:`subprocess.TimeoutExpired` is raised.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", *args]
    if input_bytes is None:
        cmd.insert(2, "-nostdin")
    proc = subprocess.run(cmd, input=input_bytes, capture_output=True, check=False, timeout=timeout)
    stderr = proc.stderr.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        raise FFmpegError(cmd, proc.returncode, stderr)
    return stderr


@dataclass(frozen=True)
class MediaInfo:
    """What ``ffmpeg -i`` reports about a media file."""

    duration: float | None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    pix_fmt: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    container: str | None = None
    """The demuxer ffmpeg chose, e.g. ``mov,mp4,m4a,3gp,3g2,mj2``, ``mp3``, ``png_pipe``."""

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(
    r"Stream #\S+.*?: Video: (\w+)[^,]*?(?:,\s*(\w+)(?:\([^)]*\))?)?,.*?(\d{2,5})x(\d{2,5})"
)
_CONTAINER = re.compile(r"^Input #0, (.+?), from ", re.M)
_FPS = re.compile(r"(\d+(?:\.\d+)?) fps")
_AUDIO = re.compile(
    r"Stream #\S+.*?: Audio: (\w+).*?, (\d+) Hz, (mono|stereo|[\d.]+(?: channels)?)"
)


def parse_probe(text: str) -> MediaInfo:
    """Parse the stderr of ``ffmpeg -i FILE`` into a :class:`MediaInfo` (first streams)."""
    duration = None
    if m := _DURATION.search(text):
        duration = int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
    video = {}
    for line in text.splitlines():
        if "Video:" in line and (v := _VIDEO.search(line)):
            fps = _FPS.search(line)
            video = {
                "video_codec": v[1],
                "pix_fmt": v[2],
                "width": int(v[3]),
                "height": int(v[4]),
                "fps": float(fps[1]) if fps else None,
            }
            break
    audio = {}
    for line in text.splitlines():
        if "Audio:" in line and (a := _AUDIO.search(line)):
            layout = a[3]
            channels = {"mono": 1, "stereo": 2}.get(layout)
            if channels is None:
                channels = int(float(layout.split()[0])) if layout[0].isdigit() else None
            audio = {"audio_codec": a[1], "sample_rate": int(a[2]), "channels": channels}
            break
    container = m[1] if (m := _CONTAINER.search(text)) else None
    return MediaInfo(duration=duration, **video, **audio, container=container)  # type: ignore[arg-type]


def probe(path: str | Path) -> MediaInfo:
    """Probe a media file with ``ffmpeg -i``."""
    text = run_ffmpeg(["-i", str(path)], check=False)
    if "No such file" in text or "Invalid data" in text:
        raise FFmpegError(["-i", str(path)], 1, text)
    return parse_probe(text)


_PTS_TIME = re.compile(r"pts_time:\s*(-?\d+(?:\.\d+)?)")


def keyframe_times(path: str | Path) -> list[float]:
    """Presentation times (s) of the video keyframes of ``path``."""
    text = run_ffmpeg(
        [
            "-skip_frame",
            "nokey",
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-vf",
            "showinfo",
            "-f",
            "null",
            "-",
        ]
    )
    return [float(m[1]) for m in _PTS_TIME.finditer(text)]


def decode_errors(path: str | Path) -> list[str]:
    """Decode the whole file; return the error lines ffmpeg prints (empty when clean)."""
    text = run_ffmpeg(["-v", "error", "-i", str(path), "-f", "null", "-"], check=False)
    return [line for line in text.splitlines() if line.strip()]


def run_ffmpeg_capture(args: list[str], *, check: bool = True) -> tuple[bytes, str]:
    """Run ``ffmpeg -hide_banner -nostdin <args>``; return (stdout bytes, stderr text)."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", *args]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    stderr = proc.stderr.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        raise FFmpegError(cmd, proc.returncode, stderr)
    return proc.stdout, stderr


def parse_progress(lines: list[str]) -> dict[str, str]:
    """Parse one ``-progress`` block (``key=value`` lines) into a dict."""
    fields: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.strip().partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def run_ffmpeg_progress(args: list[str], on_progress: Callable[[dict[str, str]], None]) -> str:
    """Run ffmpeg with ``-progress pipe:1``; call ``on_progress`` per block; return stderr.

    Each block is a dict such as ``{"frame": "72", "out_time_us": "3000000",
    "progress": "continue"}``; the last one has ``progress=end``.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-progress", "pipe:1", *args]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        block: list[str] = []
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace")
            block.append(line)
            if line.startswith("progress="):
                on_progress(parse_progress(block))
                block = []
        returncode = proc.wait()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if returncode != 0:
        raise FFmpegError(cmd, returncode, stderr)
    return stderr
