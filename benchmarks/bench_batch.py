"""Benchmark a recipe batch: videos per minute in-process vs on a Dask LocalCluster.

Run: ``/work/venv/bin/python benchmarks/bench_batch.py [--rows 12] [--workers 2]
[--parallel 2] [--recipe product-teaser] [--latency S] [--concurrency 16]``

The same batch (one row per product, fresh output folders) is rendered twice:

- in-process: one Python process, ``--parallel`` rows at once (asyncio);
- LocalCluster: ``--workers`` processes with ``--parallel`` rows each (Dask), cluster
  start-up reported apart.

Backends:

- default (offline): each row talks to its own in-process kie.ai emulator, so the
  animatic "generation" is CPU work in the row's own process, like the assembly;
- ``--latency S``: every row talks to ONE emulator served on loopback that takes S seconds
  per generation and makes its clips without CPU (one animatic per clip shape, rendered
  once, then copied): generation is remote, as on kie.ai, and only uploading, polling,
  downloading, frame extraction and assembly happen in the rows' processes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from storyboard.providers.animatic import render_animatic
from storyboard.providers.emulator import EmulatorConfig, ServedEmulator
from storyboard.recipes import BatchResult, connect, find_recipe, plan_batch, run_batch


def rows_file(folder: Path, count: int) -> Path:
    rows = folder / "rows.csv"
    rows.write_text(
        "product,tagline\n"
        + "".join(f"Bench flask {i},Cold for {i + 1} hours\n" for i in range(count))
    )
    return rows


class CopyRenderer:
    """Renders one animatic per clip shape, then copies it: generation without local CPU."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.lock, self.made = folder, threading.Lock(), {}  # type: ignore[var-annotated]

    def __call__(
        self,
        body: Mapping[str, Any],
        out_path: str | Path,
        *,
        fetch_asset: Any = None,
        label: str | None = None,
    ) -> Path:
        data = body["input"]
        shape = {k: data.get(k) for k in ("mode", "aspect_ratio", "duration", "sound")}
        key = json.dumps({**shape, "frame": bool(data.get("image_urls"))}, sort_keys=True)
        with self.lock:
            if key not in self.made:
                first = self.folder / f"shape-{len(self.made)}.mp4"
                self.made[key] = render_animatic(body, first, fetch_asset=fetch_asset, label=label)
            shutil.copyfile(self.made[key], out_path)
        return Path(out_path)


@contextmanager
def backend(latency: float | None) -> Iterator[str]:
    """Offline (no KIE_* variables), or one served emulator with ``latency``."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("KIE_")}
    try:
        if latency is None:
            yield "offline (an in-process emulator per row)"
            return
        clips = Path(tempfile.mkdtemp(prefix="bench-clips-"))
        config = EmulatorConfig(credits=10**9, latency=latency, renderer=CopyRenderer(clips))
        with ServedEmulator(config) as served:
            os.environ.update(
                KIE_API_KEY=config.api_key,
                KIE_BASE_URL=served.base_url,
                KIE_UPLOAD_BASE_URL=served.base_url,
                KIE_POLL_INITIAL="0.2",
                KIE_POLL_MAX_INTERVAL="1",
            )
            yield f"served emulator, {latency:g} s per generation"
    finally:
        for key in [k for k in os.environ if k.startswith("KIE_")]:
            del os.environ[key]
        os.environ.update(saved)


def run(mode: str, args: argparse.Namespace, folder: Path) -> tuple[BatchResult, float, float]:
    """(result, wall seconds including planning, cluster start-up seconds)."""
    recipe = find_recipe(args.recipe)
    rows = rows_file(folder, args.rows)
    started = time.perf_counter()
    if mode == "in-process":
        plan = plan_batch(
            recipe, folder / "out", rows_file=rows, rate=100, concurrency=args.concurrency
        )
        result = run_batch(plan, parallel=args.parallel)
        return result, time.perf_counter() - started, 0.0
    with connect("local", workers=args.workers, threads=args.parallel) as client:
        startup = time.perf_counter() - started
        begun = time.perf_counter()
        plan = plan_batch(
            recipe, folder / "out", rows_file=rows, rate=100, concurrency=args.concurrency
        )
        result = run_batch(plan, client=client)
        return result, time.perf_counter() - begun, startup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--recipe", default="product-teaser")
    parser.add_argument("--latency", type=float, default=None)
    parser.add_argument("--concurrency", type=int, default=16, help="generations in flight")
    args = parser.parse_args()
    with backend(args.latency) as where:
        print(
            f"{args.rows} x {args.recipe} on {where}; {os.cpu_count()} cores; "
            f"parallel {args.parallel}, workers {args.workers}"
        )
        print(f"{'mode':<28}{'wall s':>8}{'videos/min':>12}{'start-up s':>12}")
        for mode in ("in-process", "LocalCluster"):
            with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
                result, wall, startup = run(mode, args, Path(tmp))
                assert result.count("done") == args.rows, result.summary()
                if mode == "in-process":
                    label = f"{mode} ({args.parallel} at once)"
                else:
                    label = f"{mode} ({args.workers}x{args.parallel})"
                rate = args.rows / wall * 60
                print(f"{label:<28}{wall:>8.1f}{rate:>12.1f}{startup:>12.1f}")


if __name__ == "__main__":
    main()
