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
- (b) moviepy ``concatenate_videoclips`` + ``write_videofile`` at default settings, on
  the last set (about 70 s here on an idle box; ``--no-moviepy`` skips it). moviepy's
  default ``chain`` join has no crossfade; with one (``method="compose"``) it is ~3.5x
  slower still, so comparing our crossfade edit against (b) is conservative;
- a full render of 20 x 5 s 1080p clips, with the peak resident memory of the whole
  process tree (this process and every ffmpeg child), sampled (``--no-memory`` skips it).

Each figure is printed next to its target. Usage:
``python benchmarks/bench_edit.py [--runs 3] [--x264-defaults | --only-x264]
[--no-moviepy] [--no-memory] [--no-renders]`` (about 8 minutes with ``--x264-defaults``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
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
        partial = path.with_name(f".partial-{path.name}")
        if i % 2 == 0:
            video = f"testsrc2=s=1920x1080:r=24,hue=h={36 * i},noise=alls=6:allf=t"
        else:
            video = "mandelbrot=s=1920x1080:r=24"
        tone = f"sine=frequency={220 + 55 * i}:sample_rate=48000"
        subprocess.run(
            [
                ffmpeg_exe(),
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                video,
                "-f",
                "lavfi",
                "-i",
                tone,
                "-t",
                str(SECONDS),
                *encoding.video_args(),
                *encoding.audio_args(),
                "-movflags",
                "+faststart",
                "-f",
                "mp4",
                str(partial),
            ],
            check=True,
        )
        partial.replace(path)
    return paths


class TreeMemory:
    """Peak resident memory (MB) of this process plus all its children, sampled: the sum
    of their RSS (``peak``; pages shared between the processes, such as the ffmpeg
    binary's, counted once per process) and of their PSS (``peak_pss``; shared pages
    divided among the processes sharing them, so the tree's real footprint)."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval, self.peak, self.peak_pss = interval, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            total = pss = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    full = proc.memory_full_info()
                    total, pss = total + full.rss, pss + full.pss
            self.peak = max(self.peak, total / 2**20)
            self.peak_pss = max(self.peak_pss, pss / 2**20)
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


CPU: dict[int, float] = {}
"""Median CPU seconds (this process + its children) of the last :func:`timed` call."""


def _cpu() -> float:
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], object], runs: int) -> tuple[float, list[float], object]:
    """Median wall seconds, every run's, and the result; CPU[0] gets the median CPU s."""
    times, cpu, result = [], [], None
    for _ in range(runs):
        start, cpu0 = time.perf_counter(), _cpu()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(_cpu() - cpu0)
    CPU[0] = statistics.median(cpu)
    return statistics.median(times), times, result


def _concat(paths: list[Path], out: Path, codecs: list[str]) -> None:
    """The concat demuxer over ``paths`` into ``out`` with these codec options."""
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{p}'\n" for p in paths))
    concat = ["-f", "concat", "-safe", "0", "-i", str(listing)]
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *concat, *codecs, str(out)], check=True)


def concat_copy(paths: list[Path], out: Path) -> None:
    """(a): the concat demuxer, everything stream-copied."""
    _concat(paths, out, ["-c", "copy"])


def concat_copy_reencode_audio(paths: list[Path], out: Path) -> None:
    """(a2): the concat demuxer with the audio re-encoded once (no drift, but +21 ms)."""
    _concat(paths, out, ["-c:v", "copy", "-c:a", "aac", "-b:a", "192k"])


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


def bench_set(
    name: str, paths: list[Path], out: Path, runs: int, *, renders: bool = True
) -> dict[str, float]:
    xfade = Edit(transitions=[Transition(between=("s3", "s4"), type="crossfade", duration=0.5)])
    results: dict[str, float] = {}
    print(f"\n== {name}: {N_CLIPS} x {SECONDS} s 1080p ==")
    med, times, _ = timed(lambda: concat_copy(paths, out / "a.mp4"), max(runs, 5))
    results["a"] = med
    print(f"(a) ffmpeg concat -c copy          {med:7.2f} s   {_fmt(times)}")
    med, times, _ = timed(lambda: concat_copy_reencode_audio(paths, out / "a2.mp4"), runs)
    results["a2"] = med
    results["a2 cpu"] = CPU[0]
    print(f"(a2) concat -c:v copy -c:a aac     {med:7.2f} s   {_fmt(times)}")
    for n in (2, 5):
        med, times, _ = timed(
            lambda k=n: run_assemble(paths[:k], Edit(), Output(), out / "e.mp4", False), runs
        )
        results[f"cuts-only {n} clips"] = med
        print(f"assemble cuts-only, {n:>2} clips       {med:7.2f} s   {_fmt(times)}")
    cases = [
        ("cuts-only", Edit(), Output(), False),
        ("cuts-only + hand-offs", Edit(), Output(), True),
        ("one crossfade", xfade, Output(), False),
        ("one crossfade, full render", xfade, Output(fast_path=False), False),
    ][: None if renders else 2]
    for label, edit, output, handoffs in cases:
        n = 1 if "full" in label else runs
        med, times, report = timed(
            lambda e=edit, o=output, h=handoffs: run_assemble(paths, e, o, out / "e.mp4", h), n
        )
        assert isinstance(report, AssemblyReport)
        results[label] = med
        results[f"{label} cpu"] = CPU[0]
        results[f"{label} frames"] = report.reencoded_frames
        steps = " ".join(f"{k}={v:.2f}" for k, v in report.timings.items())
        print(
            f"assemble {label:<26}{med:7.2f} s   path={report.assembly_path} "
            f"re-encoded={report.reencoded_frames} frames  {_fmt(times)}\n"
            f"    steps: {steps}\n"
            f"    loudness {report.loudness.integrated} LUFS, TP {report.loudness.true_peak} dBTP"
        )
    _targets(results, paths, renders=renders)
    return results


def _targets(results: dict[str, float], paths: list[Path], *, renders: bool = True) -> None:
    from storyboard.edit.probe import probe_clip

    a2, cuts = results["a2"], results["cuts-only"]
    handoffs = results["cuts-only + hand-offs"] - cuts
    incoming = probe_clip(paths[4])
    transition = 12  # 0.5 s at 24 fps
    later = [k for k in incoming.keyframes if k > transition]
    partial_gop = (later[0] if later else incoming.frames) - transition
    bound = 2 * transition + partial_gop
    handoffs_cpu = results["cuts-only + hand-offs cpu"] - results["cuts-only cpu"]
    cpu_ratio = results["cuts-only cpu"] / results["a2 cpu"]
    print(
        "  targets (medians; CPU = this process and its children, load-independent):\n"
        f"    hand-offs (cuts + hand-offs - cuts)   {handoffs:6.2f} s   target <= 0.5 s"
        f"   (CPU {handoffs_cpu:.2f} s)\n"
        f"    cuts-only / (a2)                      {cuts / a2:6.2f} x   target <= 1.3 x"
        f"   (CPU {cpu_ratio:.2f} x)"
    )
    if renders:
        print(
            f"    crossfade re-encoded frames           "
            f"{results['one crossfade frames']:6.0f}     "
            f"target <= {bound} (2 x {transition} transition + {partial_gop} partial GOP)"
        )


def bench_memory(paths: list[Path], out: Path) -> None:
    """A full render of 20 x 5 s 1080p clips, with the process tree's peak memory."""
    clips = [*paths, *paths][:20]
    xfade = Edit(transitions=[Transition(between=("s3", "s4"), type="crossfade", duration=0.5)])
    with TreeMemory() as memory:
        started = time.perf_counter()
        report = run_assemble(clips, xfade, Output(fast_path=False), out / "m.mp4", True)
        wall = time.perf_counter() - started
    print(
        f"\nfull render, 20 x 5 s 1080p clips: {wall:.1f} s, path={report.assembly_path}, "
        f"{report.frames} frames\n"
        f"  peak RSS of the whole process tree   {memory.peak:6.0f} MB   target <= 500 MB\n"
        f"  (peak PSS of the tree                {memory.peak_pss:6.0f} MB: shared pages once)"
    )


def _fmt(times: list[float]) -> str:
    runs = ", ".join(f"{t:.2f}" for t in times)
    return f"min {min(times):.2f}  runs [{runs}]  cpu {CPU[0]:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--x264-defaults", action="store_true", help="also x264-default clips")
    parser.add_argument("--only-x264", action="store_true", help="only the x264-default clips")
    parser.add_argument("--no-moviepy", action="store_true", help="skip (b), ~75 s")
    parser.add_argument("--no-memory", action="store_true", help="skip the 20-clip render")
    parser.add_argument("--memory-only", action="store_true", help="only the 20-clip render")
    for on_by_default in ("--moviepy", "--memory"):  # accepted: both now run unless skipped
        parser.add_argument(on_by_default, action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--no-renders", action="store_true", help="skip the crossfade and full renders"
    )
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--memory-clips", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="bench-edit-"))
    sets = (
        []
        if args.only_x264
        else [("ANIMATIC_ENCODING clips (1 s GOP)", ANIMATIC_ENCODING, root / "animatic")]
    )
    if args.x264_defaults or args.only_x264:
        sets.append(("x264-default clips (one IDR per clip)", X264_DEFAULTS, root / "x264"))
    last: list[Path] = []
    if args.memory_only:
        folder = args.memory_clips or root / "x264"
        encoding = X264_DEFAULTS if folder.name == "x264" else ANIMATIC_ENCODING
        bench_memory(make_clips(folder, encoding), folder)
        return
    for name, encoding, folder in sets:
        started = time.perf_counter()
        paths = last = make_clips(folder, encoding)
        print(f"\nclips in {folder} ({time.perf_counter() - started:.1f} s to make)")
        results = bench_set(name, paths, folder, args.runs, renders=not args.no_renders)
        if (
            not args.no_moviepy and not args.no_renders and folder == sets[-1][2]
        ):  # once, on the last (hardest) set
            med, _, _ = timed(lambda p=paths, f=folder: moviepy_concat(p, f / "b.mp4"), 1)
            ratio = med / results["one crossfade"]
            print(
                f"(b) moviepy concatenate + write    {med:7.2f} s\n"
                f"    (b) / one crossfade (smart)          {ratio:6.1f} x   target >= 10 x\n"
                f"    (b) / cuts-only                      {med / results['cuts-only']:6.1f} x"
            )
    if not args.no_memory and not args.no_renders and last:
        # In a fresh process, as `storyboard render` would run it: this one has grown by
        # the runs above (moviepy's frames above all) and would count that growth too.
        clips = ["--memory-clips", str(last[0].parent)]
        sys.stdout.flush()
        subprocess.run([sys.executable, __file__, "--memory-only", *clips], check=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\nlargest child process max RSS: {peak:.0f} MB")
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
