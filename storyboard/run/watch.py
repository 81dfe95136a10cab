"""Watch mode: render, then render again on every save of the storyboard or its files.

Each pass is an ordinary render (validate, plan, cost gate, generate what is not cached,
assemble), so a pass after an edit pays only for the scenes the edit changed and their
continuity dependants. An invalid save is reported and waited out; the next save is
tried again. The files watched are the storyboard, its lock file, the local files it
uses and its template folders — never the outputs a pass writes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import watchfiles

from storyboard.assets import resolve_asset
from storyboard.errors import StoryboardError
from storyboard.lock import lock_path
from storyboard.picking import refresh_lock
from storyboard.run.backend import Backend
from storyboard.run.events import EventSink
from storyboard.run.render import BudgetExceeded, Prepared, RenderOutcome, render_async
from storyboard.validate import StoryboardInvalid

__all__ = ["WatchPass", "watch_render", "watched_files"]


@dataclass
class WatchPass:
    """One render of the watch loop and how it ended."""

    number: int
    outcome: RenderOutcome | None = None
    diagnostics: list[str] = field(default_factory=list)
    """The storyboard was invalid: these problems (file:line: ...); nothing ran."""
    refused: str | None = None
    """The cost gate refused (over budget); nothing was paid."""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is not None and self.outcome.ok


def watched_files(storyboard: Path, prepared: Prepared | None) -> set[Path]:
    """The files whose change can change the render (resolved paths)."""
    files = {storyboard.resolve(), lock_path(storyboard.resolve())}
    if prepared is None:
        return files
    base = prepared.base_dir
    files |= {resolve_asset(base, name).resolve() for name in prepared.plan.file_hashes}
    board = prepared.storyboard
    extra = [board.edit.music.path] if board.edit.music else []
    extra += [t.font for t in board.edit.titles if t.font]
    files |= {resolve_asset(base, name).resolve() for name in extra}
    return files


def watch_render(
    path: Path,
    backend: Backend,
    *,
    on_pass: Callable[[WatchPass], None],
    budget: float | None = None,
    state_path: Path | None = None,
    output: Path | None = None,
    sink: EventSink | None = None,
    stop: threading.Event | None = None,
    debounce_ms: int = 300,
    takes: int | None = None,
) -> None:
    """Render now and after every relevant save until ``stop`` is set (or Ctrl-C)."""
    settings = _Settings(backend, budget, state_path, output, sink, takes)
    targets = _Targets(watched_files(path, None), [])
    number = 0
    for changes in watchfiles.watch(
        path.resolve().parent,
        watch_filter=lambda _c, p: targets.relevant(Path(p)),
        debounce=debounce_ms,
        step=50,
        stop_event=stop,
        rust_timeout=300,
        yield_on_timeout=True,
    ):
        if number and not changes:
            continue  # a timeout: nothing saved
        number += 1  # the first pass runs once the watcher is up, so no save is missed
        targets.update(path, _pass(number, path, settings), on_pass)


@dataclass
class _Targets:
    """What the watcher reacts to (updated after each pass that could plan)."""

    files: set[Path]
    folders: list[Path]
    own_lock: tuple[Path, int] | None = None
    """The lock file as the last pass left it (a pass refreshes it: not a save)."""

    def update(self, path: Path, done: WatchPass, on_pass: Callable[[WatchPass], None]) -> None:
        on_pass(done)
        if done.outcome is not None:
            self.files = watched_files(path, done.outcome.prepared)
            self.folders = _template_dirs(path, done.outcome.prepared)
        lock = lock_path(path.resolve())
        self.own_lock = (lock, _mtime(lock))

    def relevant(self, path: Path) -> bool:
        resolved = path.resolve()
        if self.own_lock is not None and self.own_lock == (resolved, _mtime(resolved)):
            return False
        return resolved in self.files or any(resolved.is_relative_to(f) for f in self.folders)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def _template_dirs(path: Path, prepared: Prepared | None) -> list[Path]:
    if prepared is None:
        return []
    return [(prepared.base_dir / folder).resolve() for folder in prepared.storyboard.templates]


@dataclass(frozen=True)
class _Settings:
    backend: Backend
    budget: float | None
    state_path: Path | None
    output: Path | None
    sink: EventSink | None
    takes: int | None


def _pass(number: int, path: Path, s: _Settings) -> WatchPass:
    try:
        outcome = asyncio.run(
            render_async(
                path,
                backend=s.backend,
                budget=s.budget,
                output=s.output,
                state_path=s.state_path,
                sink=s.sink,
                takes=s.takes,
            )
        )
    except StoryboardInvalid as exc:
        return WatchPass(number, diagnostics=[str(d) for d in exc.diagnostics])
    except BudgetExceeded as exc:
        return WatchPass(number, refused=str(exc))
    except (StoryboardError, OSError) as exc:  # e.g. the journal in use by a render
        return WatchPass(number, error=str(exc))
    if outcome.edit is not None:
        refresh_lock(outcome.prepared, outcome.result.clips())
    return WatchPass(number, outcome)
