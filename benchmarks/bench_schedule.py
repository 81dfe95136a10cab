"""Benchmark the run scheduler: wall time of the generations ÷ the schedule's lower bound.

Run: ``/work/venv/bin/python benchmarks/bench_schedule.py [--latency 2] [--concurrency 4]``

A storyboard of 14 generations (a continuity chain of 4, one of 3, and 7 independent
scenes; every chain head and single starts on an uploaded first frame) is rendered
(generations only, no assembly) against the kie.ai emulator with a fixed latency per task.
The lower bound comes from the plan's DAG::

    lower bound = max(critical path × latency, generations × latency / concurrency)

Nothing but the generations takes time in that bound; uploads, polling, downloads and
last-frame extraction are the overhead being measured. The emulator's clips are copies of
animatic clips rendered once per (duration, mode, aspect ratio, sound) before timing
starts (``--renderer animatic`` renders every task for real instead, which on a 2-core
machine competes with the client for the CPU).

Each case runs ``--repeat`` times (3) and prints the median wall time, the bound and
their ratio (the first run of a process pays one-off costs: imports, thread pools, a cold
disk cache); the cases are:

- ``tuned``: a poll policy suited to the latency (first wait latency/40, ×1.25, capped at
  latency/20, so a finished task is seen at most 5 % late) and a request rate that does not
  throttle polling (``--rate``, 50/s: 4 tasks polled every 0.1 s make 40 requests/s);
- ``default``: the default poll policy (2.5 s, ×1.5, capped at 30 s: the provider's advice
  for real, minutes-long generations) and the default rate of 5 requests/s;
- ``default-poll`` and ``default-rate`` (not run unless named in ``--cases``): one default
  at a time, to tell their effects apart.

``--served`` runs the emulator as a real HTTP server (uvicorn in a thread) instead of
in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import statistics
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import networkx as nx
from pydantic import SecretStr

from storyboard.plan import Plan
from storyboard.providers.emulator import EmulatorConfig, ServedEmulator, inprocess
from storyboard.providers.emulator.inprocess import FAST_RETRY
from storyboard.providers.kie import KieClient, KieSettings, PollPolicy
from storyboard.run.backend import Backend
from storyboard.run.render import render_async
from storyboard.run.steps import RunOptions

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

CHAINS = (4, 3)
"""Lengths of the continuity chains."""
SINGLES = 7
"""Independent scenes."""


def storyboard_text(chains: tuple[int, ...] = CHAINS, singles: int = SINGLES) -> str:
    """A storyboard with continuity chains of the given lengths plus independent scenes."""
    lines = [
        "storyboard: 1",
        "title: Schedule Bench",
        'defaults: {mode: std, aspect_ratio: "16:9", sound: false}',
        "scenes:",
    ]
    for c, length in enumerate(chains):
        for i in range(length):
            frame = "refs/room.png" if i == 0 else f"{{from: chain{c}-{i - 1}}}"
            lines += [
                f"  - id: chain{c}-{i}",
                f"    first_frame: {frame}",
                f'    shots: [{{prompt: "chain {c}, link {i}: the dog runs on", duration: {3 + i % 3}}}]',
            ]
    for s in range(singles):
        lines += [
            f"  - id: single{s}",
            "    first_frame: refs/harbour.png",
            f'    shots: [{{prompt: "single scene {s}: the harbour at dusk", duration: {3 + s % 3}}}]',
        ]
    return "\n".join([*lines, "output: out/bench.mp4", ""])


def write_project(folder: Path, text: str) -> Path:
    """The storyboard and a copy of the examples' refs in ``folder``."""
    shutil.copytree(EXAMPLES / "refs", folder / "refs", dirs_exist_ok=True)
    path = folder / "storyboard.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def lower_bound(plan: Plan, latency: float, concurrency: int) -> dict[str, float]:
    """The schedule's lower bound from the DAG: generations cost ``latency``, the rest 0."""
    weight = {n: (latency if n.startswith("generate:") else 0.0) for n in plan.graph}
    finish: dict[str, float] = {}
    for node in nx.topological_sort(plan.graph):
        before = max((finish[p] for p in plan.graph.predecessors(node)), default=0.0)
        finish[node] = before + weight[node]
    critical = max(finish.values(), default=0.0)
    work = latency * len(plan.generations) / concurrency
    return {"critical_path": critical, "work_per_slot": work, "bound": max(critical, work)}


class PreRendered:
    """A renderer that copies an animatic clip rendered once per clip shape."""

    def __init__(self, folder: Path) -> None:
        self.folder, self._lock = folder, threading.Lock()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._clips: dict[tuple[Any, ...], Path] = {}

    def shape(self, body: Mapping[str, Any]) -> tuple[Any, ...]:
        data = body["input"]
        return (data["duration"], data["mode"], data.get("aspect_ratio"), data["sound"])

    def prepare(self, bodies: list[Mapping[str, Any]]) -> None:
        """Render the clip of every shape among ``bodies`` (before timing starts)."""
        for body in bodies:
            self._clip(body)

    def _clip(self, body: Mapping[str, Any]) -> Path:
        from storyboard.providers.animatic import render_animatic

        key = self.shape(body)
        with self._lock:
            if key not in self._clips:
                data = {k: v for k, v in body["input"].items() if k != "image_urls"}
                out = self.folder / f"shape-{len(self._clips)}.mp4"
                render_animatic({**body, "input": data}, out)
                self._clips[key] = out
            return self._clips[key]

    def __call__(
        self,
        body: Mapping[str, Any],
        out_path: str | Path,
        *,
        fetch_asset: Any = None,
        label: str | None = None,
    ) -> Path:
        tmp = Path(f"{out_path}.tmp")
        shutil.copyfile(self._clip(body), tmp)
        tmp.replace(out_path)
        return Path(out_path)


def emulator_config(latency: float, renderer: Any) -> EmulatorConfig:
    return EmulatorConfig(latency=latency, credits=10**9, renderer=renderer, render_concurrency=4)


def inprocess_backend(config: EmulatorConfig, poll: PollPolicy) -> Backend:
    """The offline backend with this emulator config and poll policy."""

    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[KieClient]:
        overrides = {"poll": poll, "retry": FAST_RETRY}
        async with inprocess(config, settings_overrides=overrides) as (client, _):
            yield client

    return Backend("offline", "offline", billed=False, factory=factory)


def served_backend(served: ServedEmulator, poll: PollPolicy) -> Backend:
    settings = KieSettings(
        api_key=SecretStr(served.config.api_key),
        base_url=served.base_url,
        upload_base_url=served.base_url,
        poll=poll,
        retry=FAST_RETRY,
    )
    return Backend("kie", f"kie:{served.base_url}", billed=False, settings=settings)


def tuned_poll(latency: float) -> PollPolicy:
    """A poll policy for tasks of about ``latency`` seconds: overshoot at most latency/20."""
    return PollPolicy(initial=latency / 40, factor=1.25, max_interval=latency / 20, timeout=600)


async def run_case(
    name: str, args: argparse.Namespace, poll: PollPolicy, rate: float, renderer: Any
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-schedule-") as tmp:
        path = write_project(Path(tmp), storyboard_text())
        config = emulator_config(args.latency, renderer)
        options = RunOptions(
            concurrency=args.concurrency,
            requests_per_second=rate,
            poll=poll,
            reuse_uploads=False,
        )
        with contextlib.ExitStack() as stack:
            if args.served:
                served = stack.enter_context(ServedEmulator(config))
                backend = served_backend(served, poll)
            else:
                backend = inprocess_backend(config, poll)
            outcome = await render_async(path, backend=backend, options=options, assemble=False)
        if not outcome.result.ok:
            raise SystemExit(f"{name}: the render failed: {outcome.result.to_json()}")
        bound = lower_bound(outcome.prepared.plan, args.latency, args.concurrency)
        wall = outcome.result.elapsed
        return {
            "case": name,
            "generations": len(outcome.result.generations),
            "latency_s": args.latency,
            "concurrency": args.concurrency,
            "rate": rate,
            "poll": poll.model_dump(),
            "wall_s": round(wall, 3),
            "critical_path_s": bound["critical_path"],
            "work_per_slot_s": bound["work_per_slot"],
            "lower_bound_s": bound["bound"],
            "ratio": round(wall / bound["bound"], 3),
        }


def prepare_renderer(args: argparse.Namespace, folder: Path) -> Any:
    """The emulator's renderer for the benchmark (clips rendered before timing starts)."""
    if args.renderer == "animatic":
        return None
    from storyboard.validate import validate

    renderer = PreRendered(folder / "shapes")
    with tempfile.TemporaryDirectory(prefix="bench-shapes-") as tmp:
        report = validate(write_project(Path(tmp), storyboard_text()))
        renderer.prepare([g.body for g in report.generations])
    return renderer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=2.0, help="emulator seconds per task")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rate", type=float, default=50.0, help="requests/s in the tuned case")
    parser.add_argument("--served", action="store_true", help="serve the emulator over HTTP")
    parser.add_argument("--renderer", choices=["prerendered", "animatic"], default="prerendered")
    parser.add_argument(
        "--cases",
        default="tuned,default",
        help="comma-separated: tuned, default, default-poll, default-rate",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (median shown)")
    parser.add_argument("--json", action="store_true", help="one JSON object per case")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-schedule-") as tmp:
        renderer = prepare_renderer(args, Path(tmp))
        default_rate = RunOptions().requests_per_second
        cases = {
            "tuned": (tuned_poll(args.latency), args.rate),
            "default": (PollPolicy(), default_rate),
            "default-poll": (PollPolicy(), args.rate),
            "default-rate": (tuned_poll(args.latency), default_rate),
        }
        for name in args.cases.split(","):
            poll, rate = cases[name]
            runs = [
                asyncio.run(run_case(name, args, poll, rate, renderer)) for _ in range(args.repeat)
            ]
            row = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
            row["walls_s"] = [r["wall_s"] for r in runs]
            if args.json:
                print(json.dumps(row))
            else:
                print(
                    f"{row['case']:>8}: {row['generations']} generations, latency "
                    f"{row['latency_s']:g} s, concurrency {row['concurrency']}, rate "
                    f"{row['rate']:g}/s: wall {row['wall_s']:.2f} s / lower bound "
                    f"{row['lower_bound_s']:.2f} s (critical path {row['critical_path_s']:.2f} s,"
                    f" work/slot {row['work_per_slot_s']:.2f} s) = {row['ratio']:.3f}"
                    f"  [runs: {', '.join(f'{w:.2f}' for w in row['walls_s'])} s;"
                    f" median {statistics.median(row['walls_s']):.2f} s]"
                )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
