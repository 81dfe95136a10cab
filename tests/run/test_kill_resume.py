"""Done-when 3: ``storyboard render`` against a served emulator, killed with SIGKILL (right
after createTask, mid-download, at random moments) and restarted, always completes with
one createTask per generation and no broken or temporary file; the one documented
exception, a kill inside the createTask request, is refused as "uncertain" and is the
only source of an extra task. The trials are run by ``benchmarks/kill_resume.py``."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from .run_helpers import BENCHMARKS


def kill_resume(*args: str, timeout: float) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    script = BENCHMARKS / "kill_resume.py"
    done = subprocess.run(
        [sys.executable, str(script), "--json", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stderr[-3000:]
    trials, summary = lines[:-1], lines[-1]
    assert done.returncode == 0, json.dumps([t["problems"] for t in trials])
    return trials, summary


def test_kills_after_create_and_mid_download_resume_without_paying_twice() -> None:
    trials, summary = kill_resume(
        "--trials",
        "1",
        "--plans",
        "created+mid-download",
        "--no-assemble",
        "--latency",
        "0.5",
        timeout=240,
    )
    assert summary["ok"] and summary["kills"] == 2
    assert summary["create_task_calls"] == summary["generations"] == 3
    assert summary["uncertain"] == 0
    assert all(a["killed"] for a in trials[0]["attempts"] if a["kind"] != "none")


@pytest.mark.slow
def test_ten_trials_of_kills_at_every_stage() -> None:
    _, summary = kill_resume("--trials", "10", timeout=1200)
    assert summary["ok"] and summary["trials"] == 10, summary
    assert summary["kills"] >= 10
    assert summary["kills_by_point"]["created"]["killed"] >= 3
    assert summary["kills_by_point"]["mid-download"]["killed"] >= 3
    # a kill can land in the createTask request only by chance here; if it did, the run was
    # refused as uncertain and re-run with --resubmit-uncertain: the only extra createTask
    assert summary["create_task_calls"] == summary["generations"] + summary["uncertain"]


@pytest.mark.slow
def test_a_kill_inside_create_task_is_refused_as_uncertain() -> None:
    trials, summary = kill_resume(
        "--trials",
        "2",
        "--plans",
        "creating",
        "--slow-rate",
        "1",
        "--slow-seconds",
        "0.6",
        "--no-assemble",
        "--latency",
        "0.5",
        timeout=600,
    )
    assert summary["ok"] and summary["uncertain"] == 2, summary
    assert summary["create_task_calls"] == summary["generations"] + summary["uncertain"]
    for trial in trials:
        assert any(a["uncertain"] for a in trial["attempts"]), trial
