"""The persistent state store: an embedded SQLite journal of uploads, generations, runs.

Every write is its own transaction, committed before the code that depends on it goes
on: the task id of a generation is in the journal the moment createTask answers, before
any polling, so a run killed at any point (even ``kill -9``) resumes by polling the tasks
it created instead of paying for them again. WAL mode and ``synchronous=FULL`` keep the
file consistent across crashes; several processes may share it (busy timeout).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from storyboard.errors import InputError

__all__ = [
    "SCHEMA_VERSION",
    "GenerationRecord",
    "JournalError",
    "StateStore",
    "UploadRecord",
    "check_integrity",
]

GenerationState = Literal["creating", "submitted", "generated", "done", "failed", "uncertain"]

_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS uploads (
    namespace TEXT NOT NULL, content_hash TEXT NOT NULL, url TEXT NOT NULL, source TEXT,
    size INTEGER, uploaded_at REAL NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (namespace, content_hash));
CREATE TABLE IF NOT EXISTS generations (
    key TEXT PRIMARY KEY, namespace TEXT NOT NULL, storyboard TEXT NOT NULL,
    scene_id TEXT NOT NULL, canonical TEXT NOT NULL, state TEXT NOT NULL,
    task_id TEXT, result_url TEXT, clip_path TEXT, attempts INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0, credits REAL NOT NULL DEFAULT 0, error TEXT,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, finished_at REAL);
CREATE TABLE IF NOT EXISTS tasks (
    task_id TEXT PRIMARY KEY, key TEXT NOT NULL, attempt INTEGER NOT NULL,
    state TEXT NOT NULL, credits REAL NOT NULL DEFAULT 0, fail_code TEXT, fail_msg TEXT,
    created_at REAL NOT NULL, finished_at REAL);
CREATE TABLE IF NOT EXISTS scenes (
    storyboard TEXT NOT NULL, namespace TEXT NOT NULL, scene_id TEXT NOT NULL,
    key TEXT NOT NULL, updated_at REAL NOT NULL,
    PRIMARY KEY (storyboard, namespace, scene_id));
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, storyboard TEXT NOT NULL, namespace TEXT NOT NULL,
    started_at REAL NOT NULL, finished_at REAL, status TEXT NOT NULL, summary TEXT);
CREATE TABLE IF NOT EXISTS assemblies (
    output TEXT PRIMARY KEY, key TEXT NOT NULL, size INTEGER NOT NULL, report TEXT NOT NULL,
    finished_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS tasks_by_key ON tasks(key);
"""
"""The tables as the first releases wrote them (without a version number)."""


def _to_v1(db: sqlite3.Connection) -> None:
    """Version 0 (a new file, or a journal of a release before versions) → 1."""
    for statement in _SCHEMA_V1.split(";"):
        if statement.strip():
            db.execute(statement)


_ADDED_COLUMNS = (
    ("tasks", "record_id", "TEXT"),
    ("tasks", "credits_consumed", "REAL"),
)
"""Nullable columns added after the first schema (kie.ai's ``recordId``, the actual
``creditsConsumed``); added to older journals when missing."""


def _add_missing_columns(db: sqlite3.Connection) -> None:
    for table, column, kind in _ADDED_COLUMNS:
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def _to_v2(db: sqlite3.Connection) -> None:
    """1 → 2: kie.ai's ``recordId`` and the actual ``creditsConsumed`` per task (nullable;
    a journal written by main between these releases may have them already)."""
    _add_missing_columns(db)


_MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_to_v1, _to_v2]
"""``_MIGRATIONS[n]`` upgrades a journal from version ``n`` to ``n + 1``; append one
function per schema change (never edit a released one)."""

SCHEMA_VERSION = len(_MIGRATIONS)
"""The journal version this release writes (``PRAGMA user_version``)."""


class JournalError(InputError):
    """The journal cannot be used; the message names the file and what to do."""

    def __init__(self, path: Path, problem: str, fix: str) -> None:
        super().__init__(f"journal {path}: {problem}; {fix}")
        self.path, self.problem, self.fix = path, problem, fix


def _journal_error(path: Path, exc: sqlite3.Error) -> JournalError:
    """What a SQLite error opening ``path`` means for the user."""
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text
    ):
        return JournalError(
            path,
            f"the file is damaged ({text})",
            f"run `storyboard doctor {path}` to set it aside and rebuild it from the clips",
        )
    if "readonly" in text or "unable to open" in text or "permission" in text.lower():
        return JournalError(
            path,
            f"cannot be written ({text})",
            "make it and its folder writable by you, or pass --state with another file",
        )
    return JournalError(path, text, f"run `storyboard doctor {path}` to check it")


def check_integrity(path: Path) -> list[str]:
    """SQLite's ``integrity_check`` of a journal: ``[]`` when intact, else the problems."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30.0)
    except sqlite3.Error as exc:
        return [str(exc)]
    try:
        rows = db.execute("PRAGMA integrity_check").fetchall()
        problems = [str(r[0]) for r in rows if r[0] != "ok"]
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return problems
    except sqlite3.Error as exc:
        return [str(exc)]
    finally:
        db.close()


@dataclass(frozen=True)
class UploadRecord:
    """A file already uploaded, by content hash."""

    content_hash: str
    url: str
    expires_at: float


@dataclass(frozen=True)
class GenerationRecord:
    """What the journal knows about one generation (by content key)."""

    key: str
    scene_id: str
    state: GenerationState
    task_id: str | None
    result_url: str | None
    clip_path: str | None
    attempts: int
    failures: int
    credits: float
    canonical: dict[str, Any]
    error: str | None

    @property
    def clip(self) -> Path | None:
        """The downloaded clip, when the generation is done and the file is there."""
        if self.state == "done" and self.clip_path and Path(self.clip_path).is_file():
            return Path(self.clip_path)
        return None


class StateStore:
    """The SQLite journal (one file; open it once per process)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_file():
            raise JournalError(self.path, "is not a regular file", "pass --state with a file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            fix = "check the path and its permissions, or pass --state"
            raise JournalError(self.path, f"cannot be opened ({exc})", fix) from exc
        try:
            self._open()
        except sqlite3.Error as exc:
            self._db.close()
            raise _journal_error(self.path, exc) from exc

    def _open(self) -> None:
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._migrate()

    @property
    def version(self) -> int:
        """The schema version of the open journal (``PRAGMA user_version``)."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        """Bring the journal to :data:`SCHEMA_VERSION`, one step per transaction."""
        while (version := self.version) < SCHEMA_VERSION:
            with self._tx() as db:
                if int(db.execute("PRAGMA user_version").fetchone()[0]) != version:
                    continue  # another process migrated it meanwhile
                _MIGRATIONS[version](db)
                db.execute(f"PRAGMA user_version = {version + 1}")
        if self.version > SCHEMA_VERSION:
            raise JournalError(
                self.path,
                f"was written by a newer storyboard (schema {self.version}, this "
                f"release reads up to {SCHEMA_VERSION})",
                "upgrade storyboard to use it",
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- uploads -----------------------------------------------------------------------

    def find_upload(
        self, namespace: str, content_hash: str, *, valid_for: float = 3600.0
    ) -> UploadRecord | None:
        """An upload of this content to this service, valid ``valid_for`` seconds from now."""
        row = self._db.execute(
            "SELECT content_hash, url, expires_at FROM uploads WHERE namespace = ? AND "
            "content_hash = ? AND expires_at > ?",
            (namespace, content_hash, time.time() + valid_for),
        ).fetchone()
        return UploadRecord(row[0], row[1], row[2]) if row else None

    def record_upload(
        self,
        namespace: str,
        content_hash: str,
        url: str,
        *,
        expires_at: float,
        source: str,
        size: int,
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?, ?, ?, ?)",
                (namespace, content_hash, url, source, size, time.time(), expires_at),
            )

    # -- generations -------------------------------------------------------------------

    def generation(self, key: str) -> GenerationRecord | None:
        row = self._db.execute("SELECT * FROM generations WHERE key = ?", (key,)).fetchone()
        return _generation(row) if row else None

    def latest_for_scene(
        self, storyboard: str, namespace: str, scene_id: str
    ) -> GenerationRecord | None:
        """The generation this scene used last time (for 'stale because ...')."""
        row = self._db.execute(
            "SELECT g.* FROM scenes s JOIN generations g ON g.key = s.key WHERE s.storyboard = ? "
            "AND s.namespace = ? AND s.scene_id = ?",
            (storyboard, namespace, scene_id),
        ).fetchone()
        return _generation(row) if row else None

    def use_for_scene(self, storyboard: str, namespace: str, scene_id: str, key: str) -> None:
        """Remember ``key`` as the scene's current generation."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO scenes VALUES (?, ?, ?, ?, ?)",
                (storyboard, namespace, scene_id, key, time.time()),
            )

    def begin_attempt(
        self,
        key: str,
        *,
        namespace: str,
        storyboard: str,
        scene_id: str,
        canonical: dict[str, Any],
    ) -> int:
        """Journal the intent to create a task (state ``creating``); the attempt number."""
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO generations (key, namespace, storyboard, scene_id, canonical, state,"
                " attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'creating', 0, ?, ?)"
                " ON CONFLICT(key) DO NOTHING",
                (key, namespace, storyboard, scene_id, json.dumps(canonical), now, now),
            )
            db.execute(
                "UPDATE generations SET state = 'creating', task_id = NULL, result_url = NULL,"
                " error = NULL, attempts = attempts + 1, updated_at = ? WHERE key = ?",
                (now, key),
            )
            row = db.execute("SELECT attempts FROM generations WHERE key = ?", (key,)).fetchone()
        return int(row[0])

    def task_created(
        self,
        key: str,
        task_id: str,
        attempt: int,
        credits: float,
        *,
        record_id: str | None = None,
    ) -> None:
        """Commit the task id (and kie.ai's record id) the moment createTask answers."""
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO tasks (task_id, key, attempt, state, credits, created_at,"
                " record_id) VALUES (?, ?, ?, 'submitted', ?, ?, ?)",
                (task_id, key, attempt, credits, now, record_id),
            )
            db.execute(
                "UPDATE generations SET state = 'submitted', task_id = ?, credits = credits + ?,"
                " updated_at = ? WHERE key = ?",
                (task_id, credits, now, key),
            )

    def task_succeeded(
        self, key: str, task_id: str, result_url: str, *, credits_consumed: float | None = None
    ) -> None:
        """Record success (with the credits the service reports it consumed, if any)."""
        now = time.time()
        with self._tx() as db:
            db.execute(
                "UPDATE tasks SET state = 'success', finished_at = ?, credits_consumed ="
                " ? WHERE task_id = ?",
                (now, credits_consumed, task_id),
            )
            db.execute(
                "UPDATE generations SET state = 'generated', result_url = ?, updated_at = ?"
                " WHERE key = ?",
                (result_url, now, key),
            )

    def task_failed(
        self,
        key: str,
        task_id: str | None,
        fail_code: str | None,
        message: str,
        *,
        refund: float = 0.0,
    ) -> None:
        """Record a failed attempt (``refund``: credits the service did not keep)."""
        now = time.time()
        with self._tx() as db:
            if task_id:
                db.execute(
                    "UPDATE tasks SET state = 'fail', fail_code = ?, fail_msg = ?, finished_at = ?,"
                    " credits = credits - ? WHERE task_id = ?",
                    (fail_code, message, now, refund, task_id),
                )
            db.execute(
                "UPDATE generations SET state = 'failed', failures = failures + 1, error = ?,"
                " credits = credits - ?, updated_at = ? WHERE key = ?",
                (message, refund, now, key),
            )

    def mark_uncertain(self, key: str, message: str) -> None:
        """createTask may or may not have created a task: a person must decide."""
        with self._tx() as db:
            db.execute(
                "UPDATE generations SET state = 'uncertain', error = ?, updated_at = ?"
                " WHERE key = ?",
                (message, time.time(), key),
            )

    def clip_downloaded(self, key: str, clip_path: Path) -> None:
        now = time.time()
        with self._tx() as db:
            db.execute(
                "UPDATE generations SET state = 'done', clip_path = ?, updated_at = ?,"
                " finished_at = ? WHERE key = ?",
                (str(clip_path), now, now, key),
            )

    def adopt_clip(
        self,
        key: str,
        *,
        namespace: str,
        storyboard: str,
        scene_id: str,
        canonical: dict[str, Any],
        task_id: str,
        result_url: str,
        credits: float,
        clip_path: Path,
    ) -> None:
        """Journal a clip found on disk (with its sidecar) as a finished generation."""
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO generations (key, namespace, storyboard, scene_id, canonical, state,"
                " task_id, result_url, clip_path, attempts, credits, created_at, updated_at,"
                " finished_at) VALUES (?, ?, ?, ?, ?, 'done', ?, ?, ?, 1, ?, ?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET state = 'done', task_id = excluded.task_id,"
                " result_url = excluded.result_url, clip_path = excluded.clip_path,"
                " error = NULL, updated_at = excluded.updated_at,"
                " finished_at = excluded.finished_at",
                (
                    key,
                    namespace,
                    storyboard,
                    scene_id,
                    json.dumps(canonical),
                    task_id,
                    result_url,
                    str(clip_path),
                    credits,
                    now,
                    now,
                    now,
                ),
            )
            db.execute(
                "INSERT OR IGNORE INTO tasks (task_id, key, attempt, state, credits, created_at,"
                " finished_at) VALUES (?, ?, 1, 'success', ?, ?, ?)",
                (task_id, key, credits, now, now),
            )

    def result_time(self, task_id: str) -> float | None:
        """When the task's result URL was journaled (its success), if known."""
        row = self._db.execute(
            "SELECT finished_at FROM tasks WHERE task_id = ? AND state = 'success'", (task_id,)
        ).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def adopt_locked_clip(
        self,
        key: str,
        *,
        namespace: str,
        storyboard: str,
        scene_id: str,
        canonical: dict[str, Any],
        task_id: str | None,
        clip_path: Path,
    ) -> None:
        """Journal a clip made elsewhere (named by a lock file, its hash checked) as done."""
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO generations (key, namespace, storyboard, scene_id, canonical, state,"
                " task_id, clip_path, created_at, updated_at, finished_at) VALUES (?, ?, ?, ?, ?,"
                " 'done', ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET state = 'done',"
                " clip_path = excluded.clip_path, task_id = COALESCE(generations.task_id,"
                " excluded.task_id), updated_at = excluded.updated_at",
                (
                    key,
                    namespace,
                    storyboard,
                    scene_id,
                    json.dumps(canonical),
                    task_id,
                    str(clip_path),
                    now,
                    now,
                    now,
                ),
            )

    def tasks(self, key: str) -> list[dict[str, Any]]:
        """Every task created for a generation, oldest first."""
        rows = self._db.execute(
            "SELECT * FROM tasks WHERE key = ? ORDER BY attempt", (key,)
        ).fetchall()
        return [dict(row) for row in rows]

    # -- assemblies --------------------------------------------------------------------

    def assembly(self, output: Path, key: str) -> dict[str, Any] | None:
        """The report of the edit written to ``output`` from exactly these inputs, if intact."""
        row = self._db.execute(
            "SELECT size, report FROM assemblies WHERE output = ? AND key = ?", (str(output), key)
        ).fetchone()
        if row is None or not output.is_file() or output.stat().st_size != row[0]:
            return None
        report: dict[str, Any] = json.loads(row[1])
        return report

    def record_assembly(self, output: Path, key: str, report: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO assemblies VALUES (?, ?, ?, ?, ?)",
                (str(output), key, output.stat().st_size, json.dumps(report), time.time()),
            )

    # -- runs --------------------------------------------------------------------------

    def start_run(self, storyboard: str, namespace: str) -> int:
        """Journal a new run; earlier runs of this storyboard still ``running`` died."""
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET status = 'interrupted' WHERE storyboard = ? "
                "AND status = 'running'",
                (storyboard,),
            )
            cursor = db.execute(
                "INSERT INTO runs (storyboard, namespace, started_at, status) VALUES (?, ?, ?,"
                " 'running')",
                (storyboard, namespace, time.time()),
            )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE id = ?",
                (status, time.time(), json.dumps(summary), run_id),
            )


def _generation(row: sqlite3.Row) -> GenerationRecord:
    return GenerationRecord(
        key=row["key"],
        scene_id=row["scene_id"],
        state=row["state"],
        task_id=row["task_id"],
        result_url=row["result_url"],
        clip_path=row["clip_path"],
        attempts=row["attempts"],
        failures=row["failures"],
        credits=row["credits"],
        canonical=json.loads(row["canonical"]),
        error=row["error"],
    )
