"""Cache status of each generation, read from the journal: cached, new, stale (with the
changed input or upstream scene named), resume, uncertain."""

from __future__ import annotations

import time
from pathlib import Path

from storyboard.plan import Plan, build_plan
from storyboard.run.status import RESULT_LIFETIME, plan_status
from storyboard.store import StateStore

from .run_helpers import EXAMPLES, compile_text

HASHES = {
    "refs/room.png": "a" * 64,
    "refs/dog-1.png": "b" * 64,
    "refs/dog-2.png": "c" * 64,
    "refs/cat.mp4": "d" * 64,
}
BOARD = "/project/continuity-chain.yaml"


def plan(
    tmp_path: Path, replace: tuple[str, str] | None = None, namespace: str = "offline"
) -> Plan:
    text = (EXAMPLES / "continuity-chain.yaml").read_text(encoding="utf-8")
    if replace:
        text = text.replace(*replace)
    return build_plan(compile_text(text, tmp_path), HASHES, namespace=namespace)


def finish(store: StateStore, planned_plan: Plan, scene: str, clip: Path) -> None:
    """Journal a generation as done, as a run would."""
    planned = planned_plan.generations[scene]
    store.begin_attempt(
        planned.key,
        namespace="offline",
        storyboard=BOARD,
        scene_id=scene,
        canonical=planned.canonical,
    )
    store.task_created(planned.key, f"task-{scene}", 1, 100.0)
    store.task_succeeded(planned.key, f"task-{scene}", "https://x")
    clip.write_bytes(b"clip")
    store.clip_downloaded(planned.key, clip)
    store.use_for_scene(BOARD, "offline", scene, planned.key)


def test_new_then_cached(tmp_path: Path) -> None:
    p = plan(tmp_path)
    with StateStore(tmp_path / "state.sqlite") as store:
        assert {s: st.kind for s, st in plan_status(p, store, BOARD).items()} == dict.fromkeys(
            ("wake-up", "spotted", "chase"), "new"
        )
        for scene in p.generations:
            finish(store, p, scene, tmp_path / f"{scene}.mp4")
        status = plan_status(p, store, BOARD)
    assert {s: st.kind for s, st in status.items()} == dict.fromkeys(status, "cached")
    assert status["chase"].task_id == "task-chase" and not status["chase"].will_pay


def test_an_edit_makes_that_scene_and_its_downstream_stale_and_says_why(tmp_path: Path) -> None:
    before = plan(tmp_path)
    with StateStore(tmp_path / "state.sqlite") as store:
        for scene in before.generations:
            finish(store, before, scene, tmp_path / f"{scene}.mp4")
        after = plan(tmp_path, ("and freezes", "and barks"))
        status = plan_status(after, store, BOARD)
    assert status["wake-up"].kind == "cached"
    assert status["spotted"].kind == "stale" and status["spotted"].will_pay
    assert "multi_prompt[0].prompt changed" in status["spotted"].reasons
    assert not [r for r in status["spotted"].reasons if "image_urls" in r]
    assert status["chase"].kind == "stale"
    assert status["chase"].reasons == ["image_urls[0]: the last frame of 'spotted' changed"]


def test_a_changed_file_is_named(tmp_path: Path) -> None:
    before = plan(tmp_path)
    with StateStore(tmp_path / "state.sqlite") as store:
        for scene in before.generations:
            finish(store, before, scene, tmp_path / f"{scene}.mp4")
        text = (EXAMPLES / "continuity-chain.yaml").read_text(encoding="utf-8")
        after = build_plan(
            compile_text(text, tmp_path),
            {**HASHES, "refs/dog-1.png": "e" * 64},
            namespace="offline",
        )
        status = plan_status(after, store, BOARD)
    assert all(st.kind == "stale" for st in status.values())
    assert "kling_elements[0].element_input_urls[0] changed" in status["wake-up"].reasons
    assert "image_urls[0]: the last frame of 'wake-up' changed" in status["spotted"].reasons


def test_a_created_task_resumes_and_an_in_flight_create_is_uncertain(tmp_path: Path) -> None:
    p = plan(tmp_path)
    wake, spotted = p.generations["wake-up"], p.generations["spotted"]
    with StateStore(tmp_path / "state.sqlite") as store:
        for planned in (wake, spotted):
            store.begin_attempt(
                planned.key,
                namespace="offline",
                storyboard=BOARD,
                scene_id=planned.scene_id,
                canonical=planned.canonical,
            )
        store.task_created(wake.key, "task-1", 1, 100.0)
        status = plan_status(p, store, BOARD)
        assert (status["wake-up"].kind, status["wake-up"].task_id) == ("resume", "task-1")
        assert status["spotted"].kind == "uncertain" and not status["spotted"].will_pay
        assert status["chase"].kind == "new"
        store.task_succeeded(wake.key, "task-1", "https://x")
        assert plan_status(p, store, BOARD)["wake-up"].kind == "resume"  # download pending
        store.mark_uncertain(spotted.key, "createTask was in flight")
        assert plan_status(p, store, BOARD)["spotted"].reasons == ["createTask was in flight"]


def test_a_failed_generation_is_paid_for_again(tmp_path: Path) -> None:
    p = plan(tmp_path)
    wake = p.generations["wake-up"]
    with StateStore(tmp_path / "state.sqlite") as store:
        store.begin_attempt(
            wake.key,
            namespace="offline",
            storyboard=BOARD,
            scene_id="wake-up",
            canonical=wake.canonical,
        )
        store.task_failed(wake.key, None, None, "422: bad request")
        status = plan_status(p, store, BOARD)["wake-up"]
    assert status.kind == "new" and status.will_pay
    assert status.to_json() == {"status": "new", "reasons": [], "task_id": None}


def test_a_deleted_clip_is_downloaded_again_while_its_result_url_is_valid(
    tmp_path: Path,
) -> None:
    p = plan(tmp_path, namespace="kie:https://api.kie.ai")
    with StateStore(tmp_path / "state.sqlite") as store:
        finish(store, p, "wake-up", tmp_path / "wake-up.mp4")
        (tmp_path / "wake-up.mp4").unlink()
        status = plan_status(p, store, BOARD)["wake-up"]
    assert status.kind == "resume" and not status.will_pay
    assert status.task_id == "task-wake-up" and "deleted" in status.reasons[0]


def test_a_deleted_clip_whose_result_expired_is_generated_again(tmp_path: Path) -> None:
    p = plan(tmp_path, namespace="kie:https://api.kie.ai")
    with StateStore(tmp_path / "state.sqlite") as store:
        finish(store, p, "wake-up", tmp_path / "wake-up.mp4")
        (tmp_path / "wake-up.mp4").unlink()
        day_ago = time.time() - RESULT_LIFETIME - 60
        with store._tx() as db:
            db.execute("UPDATE tasks SET finished_at = ?", (day_ago,))
        status = plan_status(p, store, BOARD)["wake-up"]
    assert status.kind == "new" and status.will_pay
    assert "expired" in status.reasons[0]


def test_offline_a_deleted_clip_is_generated_again_for_free(tmp_path: Path) -> None:
    p = plan(tmp_path)
    with StateStore(tmp_path / "state.sqlite") as store:
        finish(store, p, "wake-up", tmp_path / "wake-up.mp4")
        (tmp_path / "wake-up.mp4").unlink()
        status = plan_status(p, store, BOARD)["wake-up"]
    assert status.kind == "new" and "free" in status.reasons[0]
