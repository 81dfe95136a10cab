"""One writer per journal: an OS-level lock held by a render or an assembly.

The lock is ``flock`` on ``<journal>.lock`` beside the journal (the journal itself is
locked by SQLite only per transaction). The operating system releases it when the
holder exits, however it exits (``kill -9`` included), so it can never be left stale;
the file stays and says who holds it (pid, command, start time) for the message a
second run prints. Holding it also makes "createTask was in flight when an earlier run
stopped" true: no other live run can have a request in flight on this journal.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.errors import InputError

__all__ = ["JournalBusy", "JournalLockError", "journal_lock", "lock_path", "shared_journal_lock"]


class JournalLockError(InputError):
    """The journal's lock cannot be taken."""


class JournalBusy(JournalLockError):
    """Another live process holds the journal's lock."""


def lock_path(journal: Path) -> Path:
    """``<journal>.lock``."""
    return journal.with_name(journal.name + ".lock")


def _holder(path: Path) -> str:
    """Who holds the lock, as the lock file says."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict) or "pid" not in data:
        return "another storyboard process"
    started = time.strftime("%H:%M:%S", time.localtime(float(data.get("started", 0))))
    return f"pid {data['pid']} (`{data.get('command', 'storyboard')}`, started {started})"


@contextmanager
def journal_lock(
    journal: Path, *, wait: bool = False, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold ``journal``'s lock for the block.

    Raises :class:`JournalBusy` (naming the holder) when another process holds it, unless
    ``wait``: then ``on_wait(holder)`` is called once and the lock is awaited.
    """
    path = lock_path(journal)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise JournalLockError(
            f"cannot lock the journal {journal} ({exc.strerror or exc}); make its folder "
            "writable, or pass --state with another file"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(path)
            if not wait:
                raise JournalBusy(
                    f"the journal {journal} is in use by {holder}; wait for it to finish, or "
                    "pass --wait to wait for it"
                ) from None
            if on_wait is not None:
                on_wait(holder)
            fcntl.flock(fd, fcntl.LOCK_EX)
        _write_holder(fd)
        yield
    finally:
        os.close(fd)  # releases the lock


def _write_holder(fd: int) -> None:
    command = " ".join(["storyboard", *sys.argv[1:2]])
    info = {"pid": os.getpid(), "command": command, "started": time.time()}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode(), 0)


@dataclass
class _Shared:
    """One journal's lock as this process holds it, and how many holders share it."""

    holders: int = 0
    held: ExitStack | None = None
    taking: threading.Lock = field(default_factory=threading.Lock)


_SHARED: dict[str, _Shared] = {}
_SHARED_GUARD = threading.Lock()


@contextmanager
def shared_journal_lock(
    journal: Path, *, wait: bool = False, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """:func:`journal_lock`, shared by every holder in this process: the first one takes
    the OS lock, the last one releases it. The jobs of a batch share their batch's journal
    this way (in-process, several at once), while another process stays locked out."""
    key = os.path.realpath(journal)
    with _SHARED_GUARD:
        shared = _SHARED.setdefault(key, _Shared())
        shared.holders += 1
    try:
        with shared.taking:  # one thread takes the OS lock; the others then share it
            if shared.held is None:
                held = ExitStack()
                held.enter_context(journal_lock(journal, wait=wait, on_wait=on_wait))
                shared.held = held
        yield
    finally:
        with _SHARED_GUARD:
            shared.holders -= 1
            if shared.holders == 0:
                del _SHARED[key]
                if shared.held is not None:
                    shared.held.close()
