"""Benchmark ``storyboard recipe run ... --rows N.csv --dry-run``: time, memory, journals.

Run: ``python benchmarks/bench_recipe_dry_run.py [--rows 10000] [--recipe product-teaser]``

Writes a rows file of distinct products in a scratch folder, runs the dry run as a
subprocess and prints its wall-clock and CPU seconds, peak RSS, the row storyboards
written and the journals created (a dry run creates none).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--recipe", default="product-teaser")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        rows = folder / "rows.csv"
        with rows.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["product", "tagline"])
            writer.writerows([f"Bottle {i}", f"Cold for {i % 24} hours"] for i in range(args.rows))
        command = [
            sys.executable,
            "-c",
            "from storyboard.cli.app import main; main()",
            "recipe",
            "run",
            args.recipe,
            "--rows",
            str(rows),
            "--out",
            str(folder / "out"),
            "--dry-run",
            "--json",
        ]
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
        out = folder / "out"
        figures = {
            "rows": args.rows,
            "exit": os.waitstatus_to_exitcode(status),
            "wall_s": round(wall, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_mb": usage.ru_maxrss // 1024,
            "storyboards_written": len(list(out.rglob("row-*.yaml"))),
            "journals_created": len(list(out.rglob("*.sqlite"))),
            "load_average": os.getloadavg()[0],
        }
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
