"""Kill ``storyboard render`` with SIGKILL at chosen moments, restart it, and check that it
never pays twice and never leaves a broken file.

Run: ``/work/venv/bin/python benchmarks/kill_resume.py [--trials 10] [--json]``

A kie.ai emulator is served over HTTP (uvicorn, in this process) with a latency per task
and, by default, half of the downloads cut halfway (the client resumes them with a Range
request after a short backoff, which widens the window for a mid-download kill). Each
trial copies ``examples/`` to a fresh folder and runs ``storyboard render FILE --json``
as a child process pointed at the emulator (``KIE_API_KEY``, ``KIE_BASE_URL``,
``KIE_UPLOAD_BASE_URL``), reading its JSON-lines events and sending SIGKILL:

- ``created``: on the first ``generating`` "task created" event (the task id was
  committed to the journal a moment before);
- ``polling``: on the first ``generating`` event reporting the task's state;
- ``downloading``: on the first ``downloading`` event (usually before the file exists);
- ``mid-download``: 20 to 150 ms after the first ``downloading`` event, when a dropped
  download waits to resume with its ``.part`` file on disk;
- ``extracting``: on the first last-frame ``extracting`` event;
- ``random``: after a random delay (0.3 s to the length of an unkilled render; it may land
  in assembly, or never, when the render ends first);
- ``creating``: ``--creating-delay`` seconds after the first ``queued`` event, aimed at the
  createTask request in flight (use ``--slow-rate 1`` so that the emulator holds it): the
  documented "uncertain" window.

A trial kills one to three times (the kinds cycle), then runs the render to completion and
checks:

- the emulator's createTask count grew by exactly the number of generations (a run that
  refuses with "uncertain" — killed between the journal's ``creating`` intent and the task
  id's commit — is counted and re-run with ``--resubmit-uncertain``; that is the only
  allowed source of an extra createTask);
- every clip and the edit decode without an error (``decode_errors``);
- no ``*.part``, ``*.partial*`` or ``*.tmp*`` file is left in the clips, frames and output
  folders;
- the journal passes ``PRAGMA integrity_check``; every generation of the plan is ``done``
  with one task (two after an uncertain resubmit), every task ``success``;
- one more render creates nothing and makes no createTask call.

Prints one line per trial (``--json``: one JSON object per trial, then a summary object)
and exits non-zero when a check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from storyboard.media.ffmpeg import decode_errors
from storyboard.providers.emulator import EmulatorConfig, FaultConfig, ServedEmulator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
STORYBOARD = os.environ.get("STORYBOARD_BIN") or str(Path(sys.executable).with_name("storyboard"))

KINDS = ("created", "downloading", "mid-download", "random", "polling", "extracting", "creating")
PLANS: tuple[tuple[str, ...], ...] = (
    ("created",),
    ("downloading",),
    ("random",),
    ("created", "mid-download"),
    ("polling",),
    ("extracting", "random"),
    ("mid-download", "mid-download"),
    ("created", "created", "created"),
    ("random", "random"),
    ("downloading", "mid-download", "created"),
)
"""Kill points of successive trials (cycled)."""

LEFTOVERS = ("*.part", "*.partial*", "*.tmp*")


@dataclass
class Attempt:
    """One child process: where it was told to die, and how it ended."""

    kind: str
    killed: bool
    returncode: int | None
    seconds: float
    uncertain: bool = False
    events: int = 0


@dataclass
class Trial:
    """One trial's kills, counts and findings."""

    number: int
    plan: list[str]
    attempts: list[Attempt] = field(default_factory=list)
    generations: int = 0
    create_task_calls: int = 0
    tasks_created: int = 0
    uncertain: int = 0
    leftovers_after_kills: list[str] = field(default_factory=list)
    """Temporary files a kill left behind (the restart must remove them)."""
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def matches(kind: str, event: dict[str, Any]) -> bool:
    """True when ``event`` is the moment to kill for ``kind``."""
    if event.get("event") != "node":
        return False
    state, message = event.get("state"), event.get("message")
    if kind == "created":
        return state == "generating" and message == "task created"
    if kind == "polling":
        return state == "generating" and message in {"waiting", "queuing", "generating"}
    if kind == "creating":
        return state == "queued"
    if kind == "mid-download":
        return state == "downloading"
    return state == kind


def run_child(
    args: list[str],
    env: dict[str, str],
    kind: str | None,
    delay: float | None,
    after_match: float = 0.0,
) -> tuple[Attempt, list[dict[str, Any]]]:
    """Run ``storyboard render``; SIGKILL it at ``kind`` (``after_match`` seconds later), or
    after ``delay`` seconds."""
    started = time.monotonic()
    child = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    killed = threading.Event()
    if delay is not None:
        timer = threading.Timer(delay, _kill, (child, killed))
        timer.start()
    events: list[dict[str, Any]] = []
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: stderr.extend(child.stderr or []), daemon=True)
    reader.start()
    assert child.stdout is not None
    for line in child.stdout:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        events.append(event)
        if kind is not None and delay is None and not killed.is_set() and matches(kind, event):
            if after_match:
                delay = after_match
                timer = threading.Timer(delay, _kill, (child, killed))
                timer.start()
            else:
                _kill(child, killed)
    child.wait()
    if delay is not None:
        timer.cancel()
    reader.join(timeout=5)
    summary: dict[str, Any] = next((e for e in reversed(events) if e.get("event") == "summary"), {})
    uncertain = "--resubmit-uncertain" in json.dumps(summary) + "".join(stderr)
    attempt = Attempt(
        kind or "none",
        killed.is_set(),
        child.returncode,
        round(time.monotonic() - started, 3),
        uncertain=uncertain and child.returncode != 0,
        events=len(events),
    )
    if child.returncode not in (0, -signal.SIGKILL) and not attempt.uncertain:
        events.append({"event": "stderr", "text": "".join(stderr)[-2000:]})
    return attempt, events


def _tail(events: list[dict[str, Any]]) -> str:
    return json.dumps(events[-1])[-1500:] if events else "no output"


def _kill(child: subprocess.Popen[str], killed: threading.Event) -> None:
    if child.poll() is None:
        killed.set()
        child.send_signal(signal.SIGKILL)


def leftovers(project: Path) -> list[str]:
    """Temporary files left in the clips, frames and output folders."""
    found = []
    for folder in (
        project / ".storyboard" / "clips",
        project / ".storyboard" / "frames",
        project / "out",
    ):
        for pattern in LEFTOVERS:
            found += [str(p.relative_to(project)) for p in folder.glob(pattern)]
    return sorted(found)


def journal_problems(state: Path, keys: dict[str, str], resubmitted: set[str]) -> list[str]:
    """Integrity and consistency of the journal for the plan's generation keys."""
    problems = []
    db = sqlite3.connect(state)
    try:
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            problems.append(f"journal integrity_check: {check}")
        for scene, key in keys.items():
            row = db.execute("SELECT state, clip_path FROM generations WHERE key = ?", (key,))
            found = row.fetchone()
            if found is None or found[0] != "done":
                problems.append(f"{scene}: journal state {found[0] if found else None!r}")
            tasks = db.execute("SELECT state FROM tasks WHERE key = ?", (key,)).fetchall()
            allowed = 2 if scene in resubmitted else 1
            if not 1 <= len(tasks) <= allowed:
                problems.append(f"{scene}: {len(tasks)} task(s) in the journal")
            done = [t for t in tasks if t[0] == "success"]
            if len(done) != 1:
                problems.append(f"{scene}: tasks {[t[0] for t in tasks]}")
        bad = db.execute(
            "SELECT COUNT(*) FROM generations WHERE state IN ('creating', 'uncertain')"
        ).fetchone()[0]
        if bad:
            problems.append(f"{bad} generation(s) left creating/uncertain")
    finally:
        db.close()
    return problems


def media_problems(project: Path, expect_output: bool) -> list[str]:
    """Clips and the edit that do not decode cleanly (or are missing)."""
    problems = []
    clips = sorted((project / ".storyboard" / "clips").glob("*.mp4"))
    outputs = sorted((project / "out").glob("*.mp4")) if (project / "out").is_dir() else []
    if expect_output and not outputs:
        problems.append("no output video")
    for path in [*clips, *outputs]:
        errors = decode_errors(path)
        if errors:
            problems.append(f"{path.name} does not decode: {errors[:2]}")
    return problems


def plan_keys(args: list[str], env: dict[str, str]) -> dict[str, str]:
    """Scene → content key, from ``storyboard plan --json``."""
    plan = subprocess.run(
        [STORYBOARD, "plan", *args, "--json"], env=env, capture_output=True, text=True, check=True
    )
    return {g["scene"]: g["key"] for g in json.loads(plan.stdout)["generations"]}


def render_args(path: Path, options: argparse.Namespace) -> list[str]:
    args = [STORYBOARD, "render", str(path), "--json", "--rate", "50"]
    return args if options.assemble else [*args, "--no-assemble"]


def run_trial(
    number: int,
    plan: tuple[str, ...],
    served: ServedEmulator,
    options: argparse.Namespace,
    rng: random.Random,
    work: Path,
) -> Trial:
    trial = Trial(number, list(plan))
    started = time.monotonic()
    project = work / f"trial-{number:02d}"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("out", ".storyboard"))
    path = project / options.storyboard
    env = child_env(served, options)
    keys = plan_keys([str(path)], env)
    trial.generations = len(keys)
    before = served.emulator.stats()
    for kind in plan:
        delay = rng.uniform(0.3, options.full_seconds) if kind == "random" else None
        after = {"creating": options.creating_delay, "mid-download": rng.uniform(0.02, 0.15)}.get(
            kind, 0.0
        )
        attempt, events = run_child(render_args(path, options), env, kind, delay, after)
        trial.attempts.append(attempt)
        if attempt.killed:
            trial.leftovers_after_kills += leftovers(project)
        if attempt.returncode not in (0, -signal.SIGKILL) and not attempt.uncertain:
            trial.problems.append(f"{kind}: exit {attempt.returncode}: {_tail(events)}")
    resubmitted = finish(trial, path, options, env, keys)
    after = served.emulator.stats()
    trial.create_task_calls = after["create_task_calls"] - before["create_task_calls"]
    trial.tasks_created = after["tasks_created"] - before["tasks_created"]
    expected = trial.generations + trial.uncertain
    if trial.create_task_calls != expected or trial.tasks_created > expected:
        trial.problems.append(
            f"createTask called {trial.create_task_calls} time(s), {trial.tasks_created} "
            f"task(s) created, for {trial.generations} generation(s) and {trial.uncertain} "
            "uncertain resubmit(s)"
        )
    trial.problems += leftovers(project)
    trial.problems += media_problems(project, options.assemble)
    trial.problems += journal_problems(project / ".storyboard" / "state.sqlite", keys, resubmitted)
    trial.problems += check_nothing_more(path, options, env, served)
    trial.seconds = round(time.monotonic() - started, 2)
    return trial


def finish(
    trial: Trial,
    path: Path,
    options: argparse.Namespace,
    env: dict[str, str],
    keys: dict[str, str],
) -> set[str]:
    """Run to completion (resubmitting uncertain generations); the scenes resubmitted."""
    resubmitted: set[str] = set()
    args = render_args(path, options)
    for _ in range(1 + len(keys)):
        attempt, events = run_child(args, env, None, None)
        trial.attempts.append(attempt)
        if attempt.returncode == 0:
            return resubmitted
        if not attempt.uncertain:
            trial.problems.append(f"final run: exit {attempt.returncode}: {_tail(events)}")
            return resubmitted
        summary = next(e for e in reversed(events) if e.get("event") == "summary")
        scenes = {
            s
            for s, g in summary["generations"].items()
            if "--resubmit-uncertain" in (g.get("error") or "")
        }
        trial.uncertain += len(scenes)
        resubmitted |= scenes
        args = [*render_args(path, options), "--resubmit-uncertain"]
    trial.problems.append("never completed")
    return resubmitted


def check_nothing_more(
    path: Path, options: argparse.Namespace, env: dict[str, str], served: ServedEmulator
) -> list[str]:
    """One more render must not call createTask."""
    before = served.emulator.stats()["create_task_calls"]
    attempt, events = run_child(render_args(path, options), env, None, None)
    summary: dict[str, Any] = next((e for e in reversed(events) if e.get("event") == "summary"), {})
    calls = served.emulator.stats()["create_task_calls"] - before
    if attempt.returncode != 0 or summary.get("tasks_created") != 0 or calls:
        return [f"a render after completion: exit {attempt.returncode}, {calls} createTask call(s)"]
    return []


def child_env(served: ServedEmulator, options: argparse.Namespace) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
    return {
        **env,
        "KIE_API_KEY": served.config.api_key,
        "KIE_BASE_URL": served.base_url,
        "KIE_UPLOAD_BASE_URL": served.base_url,
        "KIE_POLL_INITIAL": str(options.poll),
        "KIE_POLL_FACTOR": "1.5",
        "KIE_POLL_MAX_INTERVAL": str(max(options.poll, options.latency / 5)),
        "KIE_RETRY_BASE_DELAY": str(options.retry_delay),
        "KIE_RETRY_MAX_DELAY": "1",
        "KIE_DOWNLOAD_ATTEMPTS": "12",
    }


def measure_full(served: ServedEmulator, options: argparse.Namespace, work: Path) -> float:
    """Seconds of one render that is not killed (the range of the random kills)."""
    project = work / "unkilled"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("out", ".storyboard"))
    attempt, events = run_child(
        render_args(project / options.storyboard, options),
        child_env(served, options),
        None,
        None,
    )
    if attempt.returncode != 0:
        raise SystemExit(f"an unkilled render failed: {events[-3:]}")
    return attempt.seconds


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--storyboard", default="continuity-chain.yaml", help="a file of examples/")
    parser.add_argument("--latency", type=float, default=1.5, help="emulator seconds per task")
    parser.add_argument("--drop-rate", type=float, default=0.5, help="downloads cut halfway")
    parser.add_argument(
        "--slow-rate",
        type=float,
        default=0.0,
        help="API calls delayed by --slow-seconds (widens createTask)",
    )
    parser.add_argument("--slow-seconds", type=float, default=0.3)
    parser.add_argument(
        "--creating-delay",
        type=float,
        default=0.15,
        help="seconds after 'queued' for the creating kill",
    )
    parser.add_argument("--poll", type=float, default=0.1, help="first poll wait (seconds)")
    parser.add_argument("--retry-delay", type=float, default=0.3, help="client backoff base")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--no-assemble", dest="assemble", action="store_false")
    parser.add_argument(
        "--plans",
        default="",
        help="comma-separated kinds joined by +, "
        "e.g. created,downloading+random (default: the built-in cycle)",
    )
    parser.add_argument("--workdir", type=Path, default=None, help="keep trial folders here")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(argv)


def trial_plans(options: argparse.Namespace) -> list[tuple[str, ...]]:
    if options.plans:
        chosen = [tuple(p.split("+")) for p in options.plans.split(",")]
        for plan in chosen:
            unknown = set(plan) - set(KINDS)
            if unknown:
                raise SystemExit(f"unknown kill point(s): {', '.join(sorted(unknown))}")
    else:
        chosen = list(PLANS)
    return [chosen[i % len(chosen)] for i in range(options.trials)]


def report(trial: Trial, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"trial": trial.number, "ok": trial.ok, **asdict(trial)}), flush=True)
        return
    kills = ", ".join(
        f"{a.kind}:{'killed' if a.killed else 'ran out'}"
        for a in trial.attempts
        if a.kind != "none"
    )
    verdict = "ok" if trial.ok else "FAILED: " + "; ".join(trial.problems)
    left = f", {len(trial.leftovers_after_kills)} temp file(s) left by kills"
    print(
        f"trial {trial.number:2d} [{kills}] createTask {trial.create_task_calls}/"
        f"{trial.generations} ({trial.tasks_created} task(s) created), uncertain {trial.uncertain}{left if trial.leftovers_after_kills else ''},"
        f" {trial.seconds:.1f} s: {verdict}",
        flush=True,
    )


def summarize(trials: list[Trial]) -> dict[str, Any]:
    attempts = [a for t in trials for a in t.attempts if a.kind != "none"]
    by_kind: dict[str, dict[str, int]] = {}
    for a in attempts:
        counts = by_kind.setdefault(a.kind, {"killed": 0, "ran_out": 0})
        counts["killed" if a.killed else "ran_out"] += 1
    return {
        "summary": True,
        "trials": len(trials),
        "ok": all(t.ok for t in trials),
        "kills": sum(a.killed for a in attempts),
        "kills_by_point": by_kind,
        "uncertain": sum(t.uncertain for t in trials),
        "leftovers_after_kills": sum(len(t.leftovers_after_kills) for t in trials),
        "create_task_calls": sum(t.create_task_calls for t in trials),
        "generations": sum(t.generations for t in trials),
        "failed_trials": [t.number for t in trials if not t.ok],
    }


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    rng = random.Random(options.seed)
    faults = FaultConfig(
        seed=options.seed,
        drop_download_rate=options.drop_rate,
        slow_rate=options.slow_rate,
        slow_seconds=options.slow_seconds,
    )
    config = EmulatorConfig(latency=options.latency, credits=10**9, faults=faults)
    served_emulator = ServedEmulator(config, log_level="critical")  # dropped connections log
    with work_folder(options.workdir) as work, served_emulator as served:
        plans = trial_plans(options)
        randomly = any("random" in plan for plan in plans)
        options.full_seconds = measure_full(served, options, work) if randomly else 0.0
        trials = []
        for number, plan in enumerate(plans, 1):
            trials.append(run_trial(number, plan, served, options, rng, work))
            report(trials[-1], options.json)
    summary = summarize(trials)
    summary["unkilled_render_s"] = options.full_seconds
    print(json.dumps(summary) if options.json else _summary_text(summary), flush=True)
    return 0 if summary["ok"] else 1


@contextlib.contextmanager
def work_folder(workdir: Path | None) -> Iterator[Path]:
    """``--workdir`` (kept) or a temporary folder (removed afterwards)."""
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        yield workdir
        return
    with tempfile.TemporaryDirectory(prefix="kill-resume-") as tmp:
        yield Path(tmp)


def _summary_text(summary: dict[str, Any]) -> str:
    return (
        f"{summary['trials']} trial(s), {summary['kills']} SIGKILL(s) "
        f"{json.dumps(summary['kills_by_point'])}; createTask calls {summary['create_task_calls']}"
        f" for {summary['generations']} generation(s); uncertain {summary['uncertain']}; "
        f"temp files left by kills (then cleaned) {summary['leftovers_after_kills']}; "
        + ("all checks passed" if summary["ok"] else f"FAILED trials {summary['failed_trials']}")
    )


if __name__ == "__main__":
    raise SystemExit(main())
