"""Encoder settings shared by every writer of video in the project.

The animatic renderer and the edit's bridge segments encode with the same settings, so
stream-copied pieces and re-encoded pieces join cleanly (identical SPS/PPS, 1 s GOPs that
keep smart-render bridges short).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ANIMATIC_ENCODING", "AUDIO_RATE", "FPS", "VideoEncoding"]

FPS = 24
"""Frame rate of generated clips (Kling 3.0 delivers 24 fps)."""

AUDIO_RATE = 48_000
"""Audio sample rate of generated clips (Hz, stereo AAC)."""


@dataclass(frozen=True)
class VideoEncoding:
    """H.264 encoder settings as ffmpeg arguments."""

    preset: str = "veryfast"
    crf: int = 23
    gop: int = FPS
    pix_fmt: str = "yuv420p"
    profile: str = "high"
    audio_bitrate: str = "128k"
    x264_params: str = ""
    """Extra ``-x264-params`` (``key=value:...``), e.g. faster analysis for bridges."""

    def video_args(self) -> list[str]:
        """ffmpeg output arguments for the video stream."""
        return [
            "-c:v",
            "libx264",
            "-preset",
            self.preset,
            "-crf",
            str(self.crf),
            "-profile:v",
            self.profile,
            "-pix_fmt",
            self.pix_fmt,
            "-g",
            str(self.gop),
            "-keyint_min",
            str(self.gop),
            "-sc_threshold",
            "0",
            *(["-x264-params", self.x264_params] if self.x264_params else []),
        ]

    def audio_args(self) -> list[str]:
        """ffmpeg output arguments for the audio stream (AAC, 48 kHz stereo)."""
        return ["-c:a", "aac", "-b:a", self.audio_bitrate, "-ar", str(AUDIO_RATE), "-ac", "2"]


ANIMATIC_ENCODING = VideoEncoding()
"""What the animatic renderer writes (and what bridges between animatic clips use)."""
