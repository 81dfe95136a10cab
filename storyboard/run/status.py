"""Cache status of each generation: cached, new, stale (and why), resumable, uncertain.

Reads the state store; the rules are simple enough to read in :func:`generation_status`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from storyboard.plan import (
    UPSTREAM_PREFIXES,
    Plan,
    PlannedGeneration,
    changed_inputs,
    take_canonical,
)
from storyboard.store import StateStore

__all__ = [
    "RESULT_LIFETIME",
    "GenerationStatus",
    "StatusKind",
    "extra_take_status",
    "generation_status",
    "plan_status",
]

RESULT_LIFETIME = 24 * 3600.0
"""kie.ai keeps a task's result URL about 24 hours."""

StatusKind = Literal["cached", "new", "stale", "resume", "uncertain"]


@dataclass(frozen=True)
class GenerationStatus:
    """Whether a generation will be paid for in the next run, and why."""

    scene_id: str
    kind: StatusKind
    reasons: list[str] = field(default_factory=list)
    task_id: str | None = None
    take: int = 1
    clip_deleted: bool = False
    """The journal has the generation done but its clip is gone from disk."""

    @property
    def will_pay(self) -> bool:
        """True when the next run creates a new task for it."""
        return self.kind in {"new", "stale"}

    def to_json(self) -> dict[str, Any]:
        return {"status": self.kind, "reasons": self.reasons, "task_id": self.task_id}


def plan_status(plan: Plan, store: StateStore, storyboard: str) -> dict[str, GenerationStatus]:
    """Status of every generation of ``plan``."""
    scene_of_key = {p.key: p.scene_id for p in plan.generations.values()}
    return {
        scene: generation_status(planned, store, storyboard, plan.namespace, scene_of_key)
        for scene, planned in plan.generations.items()
    }


def extra_take_status(
    plan: Plan, store: StateStore, storyboard: str
) -> dict[str, GenerationStatus]:
    """Status of every take that is not picked, by ``scene#take``."""
    scene_of_key = {p.key: p.scene_id for p in plan.generations.values()}
    return {
        planned.name: generation_status(planned, store, storyboard, plan.namespace, scene_of_key)
        for planned in plan.extra_takes()
    }


def generation_status(
    planned: PlannedGeneration,
    store: StateStore,
    storyboard: str,
    namespace: str,
    scene_of_key: dict[str, str],
) -> GenerationStatus:
    """Status of one generation (see the module docstring)."""
    scene, take = planned.scene_id, planned.take
    record = store.generation(planned.key)
    if record is not None:
        if record.clip is not None:
            return GenerationStatus(scene, "cached", task_id=record.task_id, take=take)
        if record.state in {"submitted", "generated"}:
            return GenerationStatus(scene, "resume", ["task created earlier"], record.task_id, take)
        if record.state in {"creating", "uncertain"}:
            return GenerationStatus(
                scene, "uncertain", [record.error or "createTask in flight"], take=take
            )
        if record.state == "done" and namespace == "offline":
            why = "the clip was deleted; generated again (the offline emulator's results "
            reasons = [why + "end with its run; free)"]
            return GenerationStatus(scene, "new", reasons, take=take, clip_deleted=True)
        if record.state == "done" and record.task_id and record.result_url:
            issued = store.result_time(record.task_id)
            if issued is not None and time.time() - issued < RESULT_LIFETIME:
                why = "the clip was deleted; downloading it again from the stored result URL"
                return GenerationStatus(
                    scene, "resume", [why], record.task_id, take, clip_deleted=True
                )
            why = "the clip was deleted and its result URL has expired: generated again"
            return GenerationStatus(scene, "new", [why], take=take, clip_deleted=True)
    previous = store.latest_for_scene(storyboard, namespace, scene)
    if previous is None or previous.key == planned.key:
        return GenerationStatus(scene, "new", take=take)
    changes = changed_inputs(
        take_canonical(previous.canonical, 1), take_canonical(planned.canonical, 1)
    )
    if not changes:  # the same request: only the take differs
        return GenerationStatus(scene, "new", take=take)
    return GenerationStatus(scene, "stale", _explain(changes, planned, scene_of_key), take=take)


def _explain(
    changes: list[str], planned: PlannedGeneration, scene_of_key: dict[str, str]
) -> list[str]:
    reasons = []
    for path in changes:
        value = _value_at(planned.canonical, path)
        label = path.removeprefix("request.input.").removeprefix("request.")
        upstream = _upstream(value, scene_of_key)
        if upstream is not None:
            what, scene = upstream
            reasons.append(f"{label}: the {what} of {scene!r} changed")
        else:
            reasons.append(f"{label} changed")
    return reasons or ["inputs changed"]


def _upstream(value: Any, scene_of_key: dict[str, str]) -> tuple[str, str] | None:
    """``(what, scene)`` when ``value`` names another generation's last frame or clip."""
    whats = {"last_frame": "last frame", "clip": "clip"}
    for kind, prefix in UPSTREAM_PREFIXES.items():
        if isinstance(value, str) and value.startswith(prefix):
            return whats[kind], scene_of_key.get(value.removeprefix(prefix), "an upstream scene")
    return None


def _value_at(data: Any, path: str) -> Any:
    for part in re.findall(r"[^.\[\]]+", path):
        try:
            data = data[int(part)] if isinstance(data, list) else data[part]
        except (KeyError, IndexError, ValueError, TypeError):
            return None
    return data
