"""Parsers of ffmpeg output, tested on saved text (no ffmpeg run)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from storyboard.edit.audio import parse_ebur128, parse_loudnorm
from storyboard.edit.probe import (
    clip_info,
    parse_framecrc,
    parse_time_base,
    parse_video_profile,
)
from storyboard.media.ffmpeg import parse_progress

PROBE_STDERR = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'c0.mp4':
  Metadata:
    major_brand     : isom
  Duration: 00:00:03.00, start: 0.000000, bitrate: 331 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), \
320x180 [SAR 1:1 DAR 16:9], 193 kb/s, 24 fps, 24 tbr, 12288 tbn (default)
    Metadata:
      handler_name    : VideoHandler
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp, 128 kb/s
Stream mapping:
  Stream #0:0 -> #0:0 (copy)
Output #0, framecrc, to 'pipe:':
  Stream #0:0: Video: h264 (Main), yuv420p, 99x99, q=2-31, 24 fps, 24 tbn
"""

# Packets of a 1 s-GOP clip: two GOPs of 3 frames shown (B-frames: pts out of dts order).
FRAMECRC = """\
#extradata 0:       45, 0x21c80e80
#software: Lavf63.1.102
#tb 0: 1/12288
#media_type 0: video
#codec_id 0: h264
#dimensions 0: 320x180
#sar 0: 1/1
0,      -1024,          0,      512,     3147, 0x9615be11
0,       -512,       1024,      512,     1077, 0xac1211de, F=0x0
0,          0,        512,      512,      702, 0xa2e75dca, F=0x0
0,        512,       1536,      512,      536, 0x48e00d89
0,       1024,       2560,      512,     1181, 0x8a685c4e, F=0x0
0,       1536,       2048,      512,      682, 0xab974637, F=0x0
"""

LOUDNORM = """\
[Parsed_loudnorm_0 @ 0x7f96a8001d80] \n{
\t"input_i" : "-14.00",
\t"input_tp" : "-14.26",
\t"input_lra" : "1.80",
\t"input_thresh" : "-24.00",
\t"output_i" : "-13.40",
\t"output_tp" : "-13.09",
\t"output_lra" : "1.20",
\t"output_thresh" : "-23.40",
\t"normalization_type" : "dynamic",
\t"target_offset" : "-0.60"
}
[out#0/null @ 0x55f76412bcc0] video:0KiB audio:6750KiB subtitle:0KiB
"""

LOUDNORM_SILENCE = """\
{
\t"input_i" : "-inf",
\t"input_tp" : "-inf",
\t"input_lra" : "0.00",
\t"input_thresh" : "-70.00",
\t"normalization_type" : "dynamic",
\t"target_offset" : "inf"
}
"""

EBUR128 = """\
[Parsed_ebur128_0 @ 0x7f8d5c001b80] Summary:

  Integrated loudness:
    I:         -14.3 LUFS
    Threshold: -24.3 LUFS

  Loudness range:
    LRA:         1.8 LU
    Threshold: -34.3 LUFS
    LRA low:   -15.1 LUFS
    LRA high:  -13.3 LUFS

  True peak:
    Peak:      -14.3 dBFS
[out#0/null @ 0x5600bc541cc0] video:0KiB audio:1688KiB
"""

EBUR128_SILENCE = EBUR128.replace(
    "-14.3 LUFS\n    Threshold: -24.3", "-70.0 LUFS\n    Threshold:   0.0"
)
EBUR128_SILENCE = EBUR128_SILENCE.replace("Peak:      -14.3", "Peak:       -inf")

PROGRESS = ["frame=72\n", "fps=0.00\n", "out_time_us=3000000\n", "progress=end\n"]


def test_framecrc_gives_frames_keyframes_and_extradata() -> None:
    table = parse_framecrc(FRAMECRC)
    assert table.extradata == "45:0x21c80e80"
    assert table.pts == (0, 512, 1024, 1536, 2048, 2560)
    assert table.keyframe_indices == (0, 3)
    assert float(table.time_base) == 1 / 12288


def test_framecrc_gives_decode_order_cut_points_and_delay() -> None:
    table = parse_framecrc(FRAMECRC)
    assert table.decode_pts == (0, 1024, 512, 1536, 2560, 2048)
    assert table.decode_delay == 2  # the first packet is decoded 2 frames before shown
    # I0 P2 B1 | I3 P5 B4: the first 1 packet (I0) and each whole GOP are clean cuts.
    assert table.cut_points == (1, 3, 4, 6)


def test_probe_text_uses_the_input_section_only() -> None:
    assert parse_video_profile(PROBE_STDERR) == "High"
    assert parse_time_base(PROBE_STDERR) == "12288"
    info = clip_info(Path("c0.mp4"), PROBE_STDERR, FRAMECRC)
    assert (info.size, info.fps, info.frames, info.keyframes) == ((320, 180), 24.0, 6, (0, 3))
    assert info.params.pix_fmt == "yuv420p" and info.params.profile == "High"
    assert info.has_audio and info.video_start == 0.0


def test_probe_without_video_is_an_error() -> None:
    with pytest.raises(ValueError, match="no readable video"):
        clip_info(
            Path("x.wav"), "Input #0, wav\n  Stream #0:0: Audio: pcm_s16le, 48000 Hz, stereo", ""
        )


def test_loudnorm_json() -> None:
    stats = parse_loudnorm(LOUDNORM)
    assert (stats.integrated, stats.true_peak, stats.lra, stats.threshold) == (
        -14.0,
        -14.26,
        1.8,
        -24.0,
    )
    assert stats.normalization_type == "dynamic" and not stats.silent
    silent = parse_loudnorm(LOUDNORM_SILENCE)
    assert silent.silent and math.isinf(silent.integrated)
    with pytest.raises(ValueError):
        parse_loudnorm("no json here")


def test_ebur128_summary() -> None:
    stats = parse_ebur128(EBUR128)
    assert (stats.integrated, stats.threshold, stats.lra, stats.true_peak) == (
        -14.3,
        -24.3,
        1.8,
        -14.3,
    )
    assert stats.peak == "true"
    silent = parse_ebur128(EBUR128_SILENCE)
    assert silent.silent and silent.true_peak == -math.inf
    with pytest.raises(ValueError):
        parse_ebur128("")
    sample = parse_ebur128(EBUR128.replace("True peak:", "Sample peak:"))
    assert (sample.true_peak, sample.peak) == (-14.3, "sample")  # only the sample peak


def test_progress_block() -> None:
    assert parse_progress(PROGRESS) == {
        "frame": "72",
        "fps": "0.00",
        "out_time_us": "3000000",
        "progress": "end",
    }
