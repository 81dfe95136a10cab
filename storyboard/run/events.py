"""What a run reports as it goes: one :class:`Event` per state change of a node."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from storyboard.plan import NodeId

__all__ = ["Event", "EventSink", "NodeState"]

NodeState = Literal[
    "waiting",
    "uploading",
    "queued",
    "generating",
    "downloading",
    "extracting",
    "cached",
    "done",
    "failed",
    "retrying",
    "blocked",
    "assembling",
    "resumed",
]


@dataclass(frozen=True)
class Event:
    """A node changed state (``node`` is a plan :class:`NodeId` such as ``generate:wake-up``)."""

    node: str
    state: NodeState
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)

    @property
    def scene(self) -> str | None:
        """The scene id of a picked take's node, ``scene#take`` of another take's."""
        return self.node.scene if isinstance(self.node, NodeId) else None

    def to_json(self) -> dict[str, Any]:
        return {"event": "node", **asdict(self)}


EventSink = Callable[[Event], None]
"""Receives events; must not block (progress display, JSON lines, tests)."""
