"""Prove that a media file is what it claims to be, before anything is paid for.

:func:`read_media` asks ffmpeg to open the file (``ffmpeg -i``: headers only, with a time
limit); :func:`audio_problem` and :func:`video_problem` say in plain words why what it
found is not usable music or a usable reference video. ffmpeg's own text never reaches
the user. The classifiers are pure and tested on :class:`MediaInfo` values.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from .ffmpeg import MediaInfo, parse_probe, run_ffmpeg

__all__ = ["PROBE_SECONDS", "audio_problem", "is_still_image", "read_media", "video_problem"]

PROBE_SECONDS = 10.0
"""Longest time ffmpeg may take to open one file."""

_IMAGE_CONTAINERS = {"image2", "gif", "apng", "webp", "ico", "bmp"}


def read_media(path: Path, *, timeout: float = PROBE_SECONDS) -> MediaInfo | None:
    """What ffmpeg finds in ``path``; None when it cannot open it (or takes too long)."""
    try:
        text = run_ffmpeg(["-i", str(path)], check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if "Input #0," not in text:  # ffmpeg could not open it
        return None
    return parse_probe(text)


def is_still_image(info: MediaInfo) -> bool:
    """True for pictures ffmpeg reads as one-frame video (PNG, JPEG, GIF, ...)."""
    container = info.container or ""
    return container.endswith("_pipe") or container in _IMAGE_CONTAINERS


def audio_problem(info: MediaInfo | None) -> str | None:
    """Why this is not music the edit can use, or None when it is."""
    if info is None:
        return "is not an audio file ffmpeg can read"
    if not info.has_audio:
        what = "an image" if is_still_image(info) else "a file without sound"
        return f"is {what}, not audio"
    if not info.duration:
        return "has no duration (an audio stream of unknown length)"
    return None


def video_problem(info: MediaInfo | None) -> str | None:
    """Why this is not a reference video Kling can use, or None when it is."""
    if info is None:
        return "is not a video ffmpeg can read"
    if is_still_image(info):
        return "is an image, not a video"
    if not info.has_video:
        return "has no video stream"
    if not info.duration:
        return "has no duration (a video of unknown length)"
    return None
