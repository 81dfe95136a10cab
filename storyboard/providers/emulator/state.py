"""The emulator's data — tasks, stored files, counters — and the pure rules over it
(what state a task shows at a given time, what its record looks like on the wire)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "ApiFailure",
    "Counters",
    "StoredFile",
    "Task",
    "envelope",
    "iso_time",
    "ms",
    "task_record",
    "task_state",
]

_PHASES = (("waiting", 0.0), ("queuing", 0.1), ("generating", 0.3))
"""Pending states and the share of the latency after which each begins."""


class ApiFailure(Exception):
    """An answer with a non-200 envelope code."""

    def __init__(self, code: int, msg: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code, self.msg, self.headers = code, msg, headers or {}


@dataclass
class Task:
    """One generation task."""

    task_id: str
    body: dict[str, Any]
    created: float
    cost: float
    will_fail: bool
    latency: float
    outcome: str | None = None
    finished: float | None = None
    result_file: str | None = None
    fail_code: str | None = None
    fail_msg: str | None = None
    polls: int = 0
    """recordInfo queries answered so far (the live profile's first ones may be null)."""
    preview: tuple[str, int] | None = None
    """Scene and take, when storyboard sent a preview hint (see config.PREVIEW_HINT)."""

    @property
    def callback_url(self) -> str | None:
        """The body's ``callBackUrl``."""
        url = self.body.get("callBackUrl")
        return url if isinstance(url, str) else None


@dataclass
class StoredFile:
    """An uploaded file (bytes in memory) or a rendered clip (``path`` on disk)."""

    name: str
    mime: str
    size: int
    created: float
    expires: float
    content: bytes | None = None
    path: Path | None = None


@dataclass
class Counters:
    """What the emulator has done; ``GET /emulator/stats`` shows a snapshot."""

    requests: int = 0
    create_task_calls: int = 0
    tasks_created: int = 0
    polls: int = 0
    uploads: int = 0
    downloads: int = 0
    credits_spent: float = 0
    key_sent_to_files: int = 0
    """File downloads (results, uploads) that carried an Authorization header: a client
    sending its API key to a host that is not the API."""
    renders: int = 0
    callbacks_sent: int = 0
    callbacks_failed: int = 0
    rejected_requests: dict[int, int] = field(default_factory=dict)

    def reject(self, code: int) -> None:
        """Count an answer with a non-200 code."""
        self.rejected_requests[code] = self.rejected_requests.get(code, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        data = asdict(self)
        data["rejected_requests"] = {str(k): v for k, v in self.rejected_requests.items()}
        return data


def task_state(task: Task, now: float, *, live: bool = False) -> str:
    """The state a task shows at ``now``: its outcome once finished, else by elapsed time
    (``live``: straight to ``generating``, as the live service does)."""
    if task.outcome is not None:
        return task.outcome
    if live:
        return "generating"
    elapsed = now - task.created
    current = "waiting"
    for name, share in _PHASES:
        if elapsed >= share * task.latency:
            current = name
    return current


def _changed_at(task: Task, now: float) -> float:
    if task.finished is not None:
        return task.finished
    starts = [task.created + share * task.latency for _, share in _PHASES]
    return max(start for start in starts if start <= now) if now >= task.created else task.created


def task_record(
    task: Task, now: float, result_url: str | None, *, live: bool = False
) -> dict[str, Any]:
    """The recordInfo ``data`` of a task, exactly as kie.ai's documents spell it."""
    state = task_state(task, now, live=live)
    result = json.dumps({"resultUrls": [result_url]}) if state == "success" and result_url else ""
    return {
        "taskId": task.task_id,
        "model": task.body.get("model"),
        "state": state,
        "param": json.dumps(task.body, ensure_ascii=False),
        "resultJson": result,
        "failCode": task.fail_code or "",
        "failMsg": task.fail_msg or "",
        "costTime": ms(task.finished - task.created) if task.finished is not None else None,
        "createTime": ms(task.created),
        "updateTime": ms(_changed_at(task, now)),
        "completeTime": ms(task.finished) if task.finished is not None else None,
    }


def envelope(code: int, msg: str, data: Any = None) -> dict[str, Any]:
    """``{"code", "msg", "data"}``."""
    return {"code": code, "msg": msg, "data": data}


def ms(seconds: float) -> int:
    """Seconds to whole milliseconds."""
    return int(seconds * 1000)


def iso_time(seconds: float) -> str:
    """``2026-11-25T12:00:00.000Z`` (uploads' ``uploadedAt``)."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
