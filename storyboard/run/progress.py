"""Showing a run: a live table on a terminal, plain lines otherwise, JSON lines on request."""

from __future__ import annotations

import json
import sys
import time
from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from storyboard.plan import NodeId
from storyboard.run.events import Event

__all__ = ["JsonLines", "LiveProgress"]

_STYLES = {
    "cached": "green",
    "done": "green",
    "failed": "red",
    "blocked": "red",
    "retrying": "yellow",
    "generating": "cyan",
    "queued": "blue",
    "uploading": "magenta",
    "downloading": "magenta",
    "resumed": "yellow",
    "extracting": "magenta",
}
_FINAL = {"cached", "done", "failed", "blocked"}


class LiveProgress:
    """One line per generation with its state, and an overall bar with elapsed time."""

    def __init__(self, scenes: list[str], console: Console) -> None:
        self.console = console
        self.states: dict[str, tuple[str, str]] = {s: ("waiting", "") for s in scenes}
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.task = self.bar.add_task("generations", total=len(scenes))
        self.live: Live | None = None

    def __enter__(self) -> LiveProgress:
        if self.console.is_terminal:
            self.live = Live(self._view(), console=self.console, refresh_per_second=8)
            self.live.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.live is not None:
            self.live.update(self._view())
            self.live.__exit__(kind, exc, tb)

    def __call__(self, event: Event) -> None:
        scene = event.scene
        if scene is None:
            if event.state == "failed":
                self.console.print(f"[red]✗ {event.node}: {event.message}[/]")
            return
        previous = self.states.get(scene, ("", ""))[0]
        detail = event.message or ""
        if event.data.get("task_id"):
            detail = f"{detail} [dim]{event.data['task_id']}[/]".strip()
        self.states[scene] = (event.state, detail)
        if event.state in _FINAL and previous not in _FINAL:
            self.bar.advance(self.task)
            if self.live is None:
                self.console.print(f"{scene}: {event.state} {event.message}".rstrip())
        if self.live is not None:
            self.live.update(self._view())

    def fail(self, scene: str, message: str) -> None:
        """Mark a generation failed after the run (its error is in the summary)."""
        self(Event(NodeId("generate", scene), "failed", message))

    def _view(self) -> Group:
        table = Table(box=None, show_header=False, pad_edge=False)
        for scene, (state, detail) in self.states.items():
            table.add_row(scene, f"[{_STYLES.get(state, 'white')}]{state}[/]", detail)
        return Group(table, self.bar)


class JsonLines:
    """Every event as one JSON object per line on stdout (for scripts)."""

    def __call__(self, event: Event) -> None:
        self.write(event.to_json())

    @staticmethod
    def write(data: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps({"time": round(time.time(), 3), **data}, default=str) + "\n")
        sys.stdout.flush()
