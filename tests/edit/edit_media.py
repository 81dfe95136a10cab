"""Synthetic clips and measurements for the edit tests (no committed media).

Every test clip carries, in each frame, its identity (a solid colour block, top left) and
its frame number (7 binary blocks along the bottom), over a moving texture; its sound is a
sine tone of its own frequency. So any output frame can be traced back to (clip, frame),
and every join can be located in the picture and, independently, in the decoded audio.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from storyboard.media.encoding import ANIMATIC_ENCODING, AUDIO_RATE, VideoEncoding
from storyboard.media.ffmpeg import ffmpeg_exe

FPS = 24
COLOURS = [(230, 40, 40), (40, 200, 60), (50, 80, 230), (230, 210, 40), (200, 60, 200)]
TONES = [600.0, 1000.0, 1400.0, 1800.0, 2200.0]
BITS = 7
BLOCK = 16


def frame_image(clip: int, frame: int, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    texture = 60 + 50 * np.sin((x + 5 * frame) / 9.0) * np.cos((y - 3 * frame) / 13.0)
    img = np.stack([texture, texture * 0.8 + 20, 160 - texture * 0.5], axis=-1)
    img[: h // 3, : w // 4] = COLOURS[clip]
    for b in range(BITS):
        on = (frame >> b) & 1
        x0 = 8 + b * (BLOCK + 4)
        img[h - BLOCK - 6 : h - 6, x0 : x0 + BLOCK] = 235 if on else 16
    return np.clip(img, 0, 255).astype(np.uint8)


def make_clip(
    path: Path,
    clip: int,
    *,
    seconds: float = 3.0,
    size: tuple[int, int] = (320, 180),
    audio: bool = True,
    encoding: VideoEncoding = ANIMATIC_ENCODING,
    amplitude: float = 0.2,
    clicks: bool = False,
    fps: int = FPS,
) -> Path:
    frames = round(seconds * fps)
    raw = b"".join(frame_image(clip, f, size).tobytes() for f in range(frames))
    cmd = [
        ffmpeg_exe(),
        "-v",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{size[0]}x{size[1]}",
        "-r",
        str(fps),
        "-i",
        "-",
    ]
    if audio:
        tone = f"sine=frequency={TONES[clip]}:sample_rate={AUDIO_RATE},volume={amplitude}"
        if clicks:  # the tone with a loud 1 ms 3 kHz click every second
            tone = (
                f"aevalsrc='{amplitude / 8}*sin(2*PI*{TONES[clip]}*t)"
                f"+0.9*lt(mod(t\\,1)\\,0.001)*sin(2*PI*3000*t)':s={AUDIO_RATE}"
            )
        cmd += ["-f", "lavfi", "-t", f"{seconds}", "-i", tone]
    cmd += ["-map", "0:v"] + (["-map", "1:a", *encoding.audio_args()] if audio else [])
    cmd += [*encoding.video_args(), "-movflags", "+faststart", str(path)]
    subprocess.run(cmd, input=raw, check=True)
    return path


def make_tone_file(path: Path, frequency: float, seconds: float, amplitude: float = 0.3) -> Path:
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={frequency}:sample_rate=44100,volume={amplitude}",
            "-t",
            str(seconds),
            "-ac",
            "2",
            str(path),
        ],
        check=True,
    )
    return path


# --- decoding -----------------------------------------------------------------------------------


def decode_video(path: Path) -> np.ndarray:
    """All frames as (n, h, w, 3) uint8 RGB."""
    info = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr
    import re

    w, h = map(int, re.search(r"Video:.*?(\d{2,5})x(\d{2,5})", info).groups())  # type: ignore[union-attr]
    out = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, h, w, 3)


def decode_audio(path: Path) -> np.ndarray:
    """The first audio stream, decoded, as mono float32 at 48 kHz (every sample counted)."""
    out = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-ac",
            "1",
            "-ar",
            str(AUDIO_RATE),
            "-f",
            "f32le",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, "<f4")


# --- reading frames back ------------------------------------------------------------------------


def frame_counter(img: np.ndarray) -> int:
    h = img.shape[0]
    value = 0
    for b in range(BITS):
        x0 = 8 + b * (BLOCK + 4)
        patch = img[h - BLOCK - 2 : h - 10, x0 + 4 : x0 + BLOCK - 4].mean()
        value |= int(patch > 128) << b
    return value


def clip_identity(img: np.ndarray) -> int:
    h, w = img.shape[:2]
    colour = img[h // 12 : h // 4, int(w * 0.15) : int(w * 0.22)].reshape(-1, 3).mean(axis=0)
    return int(np.argmin([np.abs(colour - np.array(c)).sum() for c in COLOURS]))


def identity_mix(img: np.ndarray, a: int, b: int) -> float:
    """How far the identity block has moved from clip a's colour to clip b's (0..1)."""
    h, w = img.shape[:2]
    colour = img[h // 12 : h // 4, int(w * 0.15) : int(w * 0.22)].reshape(-1, 3).mean(axis=0)
    ca, cb = np.array(COLOURS[a], float), np.array(COLOURS[b], float)
    return float(np.dot(colour - ca, cb - ca) / np.dot(cb - ca, cb - ca))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


# --- locating joins in the audio ----------------------------------------------------------------


def tone_power(audio: np.ndarray, freq: float, window: int = 192, hop: int = 48) -> np.ndarray:
    """Power at ``freq`` in sliding windows (Goertzel via a complex dot product)."""
    n = (len(audio) - window) // hop + 1
    idx = np.arange(window)
    probe = np.exp(-2j * np.pi * freq * idx / AUDIO_RATE) * np.hanning(window)
    frames = np.lib.stride_tricks.sliding_window_view(audio, window)[::hop][:n]
    return np.abs(frames @ probe) ** 2


def tone_crossing(
    audio: np.ndarray, f_out: float, f_in: float, near: float, span: float = 0.3
) -> float:
    """Time (s) near ``near`` where tone ``f_in`` first becomes stronger than ``f_out``."""
    window, hop = 192, 48
    lo = max(0, int((near - span) * AUDIO_RATE))
    hi = min(len(audio), int((near + span) * AUDIO_RATE))
    seg = audio[lo:hi]
    p_out, p_in = tone_power(seg, f_out, window, hop), tone_power(seg, f_in, window, hop)
    k = int(np.argmax(p_in > p_out))
    return (lo + k * hop + window / 2) / AUDIO_RATE
