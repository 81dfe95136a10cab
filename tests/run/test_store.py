"""The journal: each state transition is one transaction, and a process killed in the
middle of one leaves the previous state intact for the next process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from storyboard.store import StateStore

from .run_helpers import journal_rows

CANONICAL = {"request": {"input": {"prompt": "a dog"}}}


def attempt(store: StateStore, key: str = "k1", scene: str = "wake-up") -> int:
    return store.begin_attempt(
        key, namespace="offline", storyboard="/sb.yaml", scene_id=scene, canonical=CANONICAL
    )


def test_a_generation_goes_creating_submitted_generated_done(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"mp4")
    with StateStore(tmp_path / "state.sqlite") as store:
        assert attempt(store) == 1
        record = store.generation("k1")
        assert record is not None and record.state == "creating" and record.task_id is None
        store.task_created("k1", "task_1", 1, 212.0)
        record = store.generation("k1")
        assert record is not None and (record.state, record.task_id) == ("submitted", "task_1")
        assert record.credits == 212.0 and record.clip is None
        store.task_succeeded("k1", "task_1", "https://x/1.mp4")
        assert store.generation("k1").state == "generated"  # type: ignore[union-attr]
        store.clip_downloaded("k1", clip)
        record = store.generation("k1")
        assert record is not None and record.state == "done" and record.clip == clip
        assert [t["state"] for t in store.tasks("k1")] == ["success"]
        assert record.canonical == CANONICAL


def test_a_failed_attempt_counts_and_a_new_one_starts_clean(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite") as store:
        attempt(store)
        store.task_created("k1", "task_1", 1, 100.0)
        store.task_failed("k1", "task_1", "501", "boom", refund=100.0)
        record = store.generation("k1")
        assert record is not None and record.state == "failed" and record.failures == 1
        assert record.credits == 0.0 and record.error == "boom"
        assert attempt(store) == 2
        record = store.generation("k1")
        assert record is not None and (record.state, record.task_id, record.error) == (
            "creating",
            None,
            None,
        )
        store.task_created("k1", "task_2", 2, 100.0)
        tasks = store.tasks("k1")
        assert [(t["task_id"], t["state"], t["fail_code"]) for t in tasks] == [
            ("task_1", "fail", "501"),
            ("task_2", "submitted", None),
        ]


def test_a_clip_that_disappeared_is_not_reused(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite") as store:
        attempt(store)
        store.clip_downloaded("k1", tmp_path / "gone.mp4")
        record = store.generation("k1")
        assert record is not None and record.state == "done" and record.clip is None


def test_uploads_are_found_by_content_until_near_expiry(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite") as store:
        soon = time.time() + 60
        store.record_upload("offline", "h1", "https://u/1", expires_at=soon, source="a", size=1)
        assert store.find_upload("offline", "h1", valid_for=10) is not None
        assert store.find_upload("offline", "h1", valid_for=3600) is None
        assert store.find_upload("kie:x", "h1", valid_for=10) is None


def test_scenes_remember_their_last_generation(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite") as store:
        attempt(store, "k1")
        attempt(store, "k2")
        store.use_for_scene("/sb.yaml", "offline", "wake-up", "k1")
        store.use_for_scene("/sb.yaml", "offline", "wake-up", "k2")
        latest = store.latest_for_scene("/sb.yaml", "offline", "wake-up")
        assert latest is not None and latest.key == "k2"
        assert store.latest_for_scene("/sb.yaml", "kie:x", "wake-up") is None


def test_a_failing_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite") as store:
        attempt(store)
        with pytest.raises(RuntimeError), store._tx() as db:
            db.execute("UPDATE generations SET state = 'done' WHERE key = 'k1'")
            raise RuntimeError("crash in the middle")
        assert store.generation("k1").state == "creating"  # type: ignore[union-attr]


KILL_MID_TRANSACTION = """
import os, signal, sys
from storyboard.store import StateStore

store = StateStore(sys.argv[1])
real = store._db

class KillBefore:
    # Executes statements until the one naming sys.argv[2], then dies (SIGKILL).
    def __getattr__(self, name):
        return getattr(real, name)

    def execute(self, sql, *args):
        if sys.argv[2] in sql:
            os.kill(os.getpid(), signal.SIGKILL)
        return real.execute(sql, *args)

store._db = KillBefore()
if sys.argv[3] == "created":
    store.task_created("k1", "task_1", 1, 212.0)
else:
    store.task_failed("k1", "task_1", "501", "boom", refund=212.0)
"""


def _kill_during(state: Path, statement: str, transition: str) -> None:
    script = textwrap.dedent(KILL_MID_TRANSACTION)
    child = subprocess.run(
        [sys.executable, "-c", script, str(state), statement, transition],
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr


@pytest.mark.parametrize(
    ("transition", "statement", "state_before"),
    [
        ("created", "UPDATE generations SET state = 'submitted'", "creating"),
        ("failed", "UPDATE generations SET state = 'failed'", "submitted"),
    ],
)
def test_a_kill_inside_a_transition_leaves_the_previous_state(
    tmp_path: Path, transition: str, statement: str, state_before: str
) -> None:
    """The task row is written first; a SIGKILL before the generation row is updated (and
    before COMMIT) must roll the task row back too: the reopened journal is as before."""
    state = tmp_path / "state.sqlite"
    with StateStore(state) as store:
        attempt(store)
        if transition == "failed":
            store.task_created("k1", "task_1", 1, 212.0)
    tasks_before = journal_rows(state, "SELECT task_id, state FROM tasks")
    _kill_during(state, statement, transition)
    assert journal_rows(state, "PRAGMA integrity_check") == [("ok",)]
    with StateStore(state) as store:
        record = store.generation("k1")
        assert record is not None and record.state == state_before
        assert journal_rows(state, "SELECT task_id, state FROM tasks") == tasks_before
        store.task_created("k1", "task_1", 1, 212.0)  # and the journal is writable again
        assert store.generation("k1").state == "submitted"  # type: ignore[union-attr]


def test_a_committed_transition_survives_a_kill(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    script = (
        "import os, signal, sys\nfrom storyboard.store import StateStore\n"
        "s = StateStore(sys.argv[1])\n"
        "s.begin_attempt('k1', namespace='offline', storyboard='/sb', scene_id='a', canonical={})\n"
        "s.task_created('k1', 'task_1', 1, 5.0)\nos.kill(os.getpid(), signal.SIGKILL)\n"
    )
    child = subprocess.run([sys.executable, "-c", script, str(state)], check=False)
    assert child.returncode == -signal.SIGKILL
    with StateStore(state) as store:
        record = store.generation("k1")
        assert record is not None and (record.state, record.task_id) == ("submitted", "task_1")


def test_two_processes_share_the_journal(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with StateStore(state) as first, StateStore(state) as second:
        attempt(first, "k1")
        attempt(second, "k2")
        assert first.generation("k2") is not None and second.generation("k1") is not None
    assert os.path.getsize(state) > 0
