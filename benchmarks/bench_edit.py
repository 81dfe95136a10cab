"""Benchmark the edit assembly paths against plain ffmpeg and plain moviepy (not a test).

Makes ten 5 s 1080p clips like docs/measurements (even: testsrc2 + hue + noise; odd:
mandelbrot; each with its own tone), encoded with ANIMATIC_ENCODING (1 s GOPs, like our
animatic clips) and, with ``--x264-defaults``, also with x264's defaults (one IDR per clip).
Then times, per clip set:

- (a) ``ffmpeg -f concat -c copy`` of the clips (the floor for joining by stream copy);
- (a2) the same with the audio re-encoded once (``-c:v copy -c:a aac``), the floor for a
  join whose sound does not drift;
- ``assemble`` cuts-only (stream-copy path), without and with hand-offs;
- ``assemble`` with one 0.5 s crossfade between clips 3 and 4 (smart path);
- ``assemble`` with the same crossfade and ``fast_path: false`` (full path);
- (b) moviepy ``concatenate_videoclips`` + ``write_videofile`` at default settings
  (``--moviepy``; about 73 s here).

Usage: ``python benchmarks/bench_edit.py [--runs 3] [--moviepy] [--x264-defaults]``
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from storyboard.edit import AssemblyReport, EditClip, assemble
from storyboard.edit.model import Edit, Output, Transition
from storyboard.edit.smart import X264_DEFAULTS
from storyboard.media.encoding import ANIMATIC_ENCODING, VideoEncoding
from storyboard.media.ffmpeg import ffmpeg_exe

N_CLIPS = 10
SECONDS = 5


def make_clips(folder: Path, encoding: VideoEncoding) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(N_CLIPS):
        path = folder / f"c{i}.mp4"
        paths.append(path)
        if path.exists():
            continue
        if i % 2 == 0:
            video = f"testsrc2=s=1920x1080:r=24,hue=h={36 * i},noise=alls=6:allf=t"
        else:
            video = "mandelbrot=s=1920x1080:r=24"
        tone = f"sine=frequency={220 + 55 * i}:sample_rate=48000"
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", video, "-f", "lavfi",
             "-i", tone, "-t", str(SECONDS), *encoding.video_args(), *encoding.audio_args(),
             "-movflags", "+faststart", str(path)],
            check=True,
        )  # fmt: skip
    return paths


def timed(fn: Callable[[], object], runs: int) -> tuple[float, list[float], object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def concat_copy(paths: list[Path], out: Path) -> None:
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{p}'\n" for p in paths))
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
         "-c", "copy", str(out)],
        check=True,
    )  # fmt: skip


def concat_copy_reencode_audio(paths: list[Path], out: Path) -> None:
    """(a2): the concat demuxer with the audio re-encoded once (no drift, but +21 ms)."""
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{p}'\n" for p in paths))
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
         "-c:v", "copy", "-c:a", "aac", "-b:a", "192k", str(out)],
        check=True,
    )  # fmt: skip


def moviepy_concat(paths: list[Path], out: Path) -> None:
    from moviepy import VideoFileClip, concatenate_videoclips

    clips = [VideoFileClip(str(p)) for p in paths]
    concatenate_videoclips(clips, method="chain").write_videofile(
        str(out), codec="libx264", audio_codec="aac", logger=None
    )
    for clip in clips:
        clip.close()


def run_assemble(
    paths: list[Path], edit: Edit, output: Output, out: Path, handoffs: bool
) -> AssemblyReport:
    clips = [EditClip(f"s{i}", p) for i, p in enumerate(paths)]
    return assemble(clips, edit, output, out, base_dir=out.parent, handoffs=handoffs)


def bench_set(name: str, paths: list[Path], out: Path, runs: int) -> dict[str, float]:
    xfade = Edit(transitions=[Transition(between=("s3", "s4"), type="crossfade", duration=0.5)])
    results: dict[str, float] = {}
    print(f"\n== {name}: {N_CLIPS} x {SECONDS} s 1080p ==")
    med, times, _ = timed(lambda: concat_copy(paths, out / "a.mp4"), max(runs, 5))
    results["a"] = med
    print(f"(a) ffmpeg concat -c copy          {med:7.2f} s   runs {_fmt(times)}")
    med, times, _ = timed(lambda: concat_copy_reencode_audio(paths, out / "a2.mp4"), runs)
    results["a2"] = med
    print(f"(a2) concat -c:v copy -c:a aac     {med:7.2f} s   runs {_fmt(times)}")
    for n in (2, 5):
        med, times, _ = timed(
            lambda k=n: run_assemble(paths[:k], Edit(), Output(), out / "e.mp4", False), runs
        )
        results[f"cuts-only {n} clips"] = med
        print(f"assemble cuts-only, {n:>2} clips       {med:7.2f} s   runs {_fmt(times)}")
    cases = [
        ("cuts-only", Edit(), Output(), False),
        ("cuts-only + hand-offs", Edit(), Output(), True),
        ("one crossfade", xfade, Output(), False),
        ("one crossfade, full render", xfade, Output(fast_path=False), False),
    ]
    for label, edit, output, handoffs in cases:
        n = 1 if "full" in label else runs
        med, times, report = timed(
            lambda e=edit, o=output, h=handoffs: run_assemble(paths, e, o, out / "e.mp4", h), n
        )
        assert isinstance(report, AssemblyReport)
        results[label] = med
        steps = " ".join(f"{k}={v:.2f}" for k, v in report.timings.items())
        print(
            f"assemble {label:<26}{med:7.2f} s   path={report.assembly_path} "
            f"re-encoded={report.reencoded_frames} frames  runs {_fmt(times)}\n"
            f"    steps: {steps}\n"
            f"    loudness {report.loudness.integrated} LUFS, TP {report.loudness.true_peak} dBTP"
        )
    return results


def _fmt(times: list[float]) -> str:
    return "[" + ", ".join(f"{t:.2f}" for t in times) + "]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--moviepy", action="store_true", help="also time (b), ~75 s")
    parser.add_argument("--x264-defaults", action="store_true", help="also x264-default clips")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="bench-edit-"))
    sets = [("ANIMATIC_ENCODING clips (1 s GOP)", ANIMATIC_ENCODING, root / "animatic")]
    if args.x264_defaults:
        sets.append(("x264-default clips (one IDR per clip)", X264_DEFAULTS, root / "x264"))
    for name, encoding, folder in sets:
        started = time.perf_counter()
        paths = make_clips(folder, encoding)
        print(f"\nclips in {folder} ({time.perf_counter() - started:.1f} s to make)")
        results = bench_set(name, paths, folder, args.runs)
        if args.moviepy and encoding is ANIMATIC_ENCODING:
            med, _, _ = timed(lambda p=paths, f=folder: moviepy_concat(p, f / "b.mp4"), 1)
            results["b"] = med
            print(f"(b) moviepy concatenate + write    {med:7.2f} s")
        a = results["a"]
        print(
            f"cuts-only / (a): {results['cuts-only'] / a:.1f}x  "
            f"(cuts-only minus (a): {results['cuts-only'] - a:.2f} s)"
        )
        if "b" in results:
            print(f"(b) / one crossfade: {results['b'] / results['one crossfade']:.1f}x")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\nlargest child process max RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
