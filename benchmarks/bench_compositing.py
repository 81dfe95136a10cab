"""Benchmark the compositing layer: moviepy only where needed vs moviepy for everything.

Ten 5 s 1080p clips like bench_edit.py (ANIMATIC_ENCODING, 1 s GOPs, each with its own
tone); scene 4 carries one moviepy effect (``BlackAndWhite``, a 5 s effect segment; both
cases get its fast form, :mod:`storyboard.edit.fast_effects`). Two cases, each in its own
Python process whose whole process tree (Python, moviepy's ffmpeg readers, the encoders)
is sampled for PSS every 0.1 s; its CPU seconds (user + system of the whole tree) are
printed too, a figure that moves less than wall time with the box's load:

- **assemble**: ``storyboard.edit.assemble`` (no hand-offs): the effect scene is rendered
  by moviepy and piped into the clips' encoder settings, the other nine are stream-copied,
  the sound is built once;
- **moviepy**: the same edit as a moviepy clip (``edit_clip``, what ``to_moviepy``
  returns) written with moviepy's ``write_videofile`` (libx264 at its defaults, AAC 48 kHz).

Usage: ``python benchmarks/bench_compositing.py [--skip-moviepy]`` (not a test; the
moviepy case takes minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_edit import make_clips

from storyboard.edit import EditClip, assemble
from storyboard.edit.model import Edit, Output
from storyboard.edit.moviepy_clip import edit_clip
from storyboard.edit.sources import Effect
from storyboard.media.encoding import ANIMATIC_ENCODING

EFFECT_SCENE = 4


def edit_clips(folder: Path) -> list[EditClip]:
    paths = sorted(folder.glob("c*.mp4"), key=lambda p: int(p.stem[1:]))
    effect = (Effect(name="BlackAndWhite"),)
    return [
        EditClip(f"s{i}", p, effects=effect if i == EFFECT_SCENE else ())
        for i, p in enumerate(paths)
    ]


def run_case(case: str, folder: Path, out: Path) -> dict[str, object]:
    clips = edit_clips(folder)
    started = time.perf_counter()
    result: dict[str, object] = {}
    if case == "assemble":
        report = assemble(clips, Edit(), Output(), out, base_dir=folder, handoffs=False)
        result = {
            "path": report.assembly_path,
            "renderers": report.frames_by_renderer,
            "timings": {k: round(v, 2) for k, v in report.timings.items()},
        }
    else:
        clip = edit_clip(clips, Edit(), Output(), base_dir=folder)
        try:
            clip.write_videofile(
                str(out),
                fps=24,
                codec="libx264",
                audio_codec="aac",
                audio_fps=48000,
                temp_audiofile_path=str(out.parent),
                logger=None,
            )
        finally:
            clip.close()
    return {"case": case, "seconds": round(time.perf_counter() - started, 2), **result}


def tree_pss_mb(process: psutil.Process) -> tuple[float, list[str]]:
    """Summed PSS of the tree (MB) and, per process, ``name: MB``."""
    total, parts = 0.0, []
    for proc in [process, *process.children(recursive=True)]:
        try:
            pss = proc.memory_full_info().pss / 1024 / 1024
            parts.append(f"{proc.name()}: {pss:.0f}")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += pss
    return total, parts


def measure(case: str, folder: Path, out: Path) -> dict[str, object]:
    """Run one case in a child process; its result plus the peak PSS of its tree."""
    command = [sys.executable, __file__, "--child", case, str(folder), str(out)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    process = psutil.Process(child.pid)
    peak: list[tuple[float, list[str]]] = [(0.0, [])]

    def sample() -> None:
        while child.poll() is None:
            try:
                peak[0] = max(peak[0], tree_pss_mb(process))
            except psutil.NoSuchProcess:
                return
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler.start()
    stdout, _ = child.communicate()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode != 0:
        raise SystemExit(f"{case} failed ({child.returncode})")
    result = json.loads(stdout.strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        **result,
        "cpu_s": round(cpu, 1),
        "peak_tree_pss_mb": round(peak[0][0]),
        "at_peak": peak[0][1],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-moviepy", action="store_true")
    parser.add_argument("--clips", type=Path, help="keep (and reuse) the clips in this folder")
    parser.add_argument("--child", nargs=3, metavar=("CASE", "CLIPS", "OUT"))
    args = parser.parse_args()
    if args.child:
        case, folder, out = args.child
        print(json.dumps(run_case(case, Path(folder), Path(out))))
        return
    with tempfile.TemporaryDirectory(prefix="bench-compositing-") as tmp:
        root = Path(tmp)
        clips = args.clips or root / "clips"
        make_clips(clips, ANIMATIC_ENCODING)
        print(f"load average before: {psutil.getloadavg()}", flush=True)
        results = [measure("assemble", clips, root / "assembled.mp4")]
        print(json.dumps(results[-1]), flush=True)
        if not args.skip_moviepy:
            results.append(measure("moviepy", clips, root / "moviepy.mp4"))
            print(json.dumps(results[-1]))
            for key in ("seconds", "cpu_s"):
                ratio = float(results[1][key]) / float(results[0][key])  # type: ignore[arg-type]
                print(f"moviepy write_videofile / assemble, {key}: {ratio:.1f}x")
        print(f"load average after: {psutil.getloadavg()}")


if __name__ == "__main__":
    main()
