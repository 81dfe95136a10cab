"""``storyboard doctor``: check a journal, and repair or rebuild it from the clips."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from storyboard.cli.console import EXIT_FAILED, EXIT_INVALID, fail, out
from storyboard.run.lock import journal_lock
from storyboard.run.render import default_state_path
from storyboard.run.sidecar import adopt_clips, read_sidecars
from storyboard.store import SCHEMA_VERSION, StateStore, check_integrity

__all__ = ["doctor_command", "register"]

_STORYBOARD_SUFFIXES = {".yaml", ".yml", ".json"}


def register(app: typer.Typer) -> None:
    """Add ``doctor`` to ``app``."""
    app.command("doctor")(doctor_command)


def doctor_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="The journal (.storyboard/state.sqlite), or a storyboard whose default journal "
            "to check.",
            show_default=False,
        ),
    ],
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Only check; change nothing (exit 1 when the journal is damaged)."
        ),
    ] = False,
) -> None:
    """Check a journal (SQLite integrity, schema version, clips on disk) and repair it.

    A damaged journal is moved aside (kept, never deleted) and a new one is built from the
    clips on disk and their sidecars, so nothing that was downloaded is paid for again.
    Clips missing from an intact journal are journaled again the same way.
    """
    journal = default_state_path(file) if file.suffix.lower() in _STORYBOARD_SUFFIXES else file
    if not journal.exists():
        fail(f"no journal at {journal}: nothing to check", EXIT_INVALID)
    if not journal.is_file():
        fail(f"{journal} is not a file", EXIT_INVALID)
    problems = check_integrity(journal)
    clips = journal.parent / "clips"
    out.print(f"journal {journal}: " + ("intact" if not problems else "DAMAGED"), markup=False)
    for problem in problems[:10]:
        out.print(f"  {problem}", markup=False)
    out.print(f"clips with sidecars in {clips}: {len(read_sidecars(clips))}", markup=False)
    if check:
        raise typer.Exit(EXIT_FAILED if problems else 0)
    try:
        with journal_lock(journal):
            if problems:
                _set_aside(journal)
            _rebuild(journal, clips)
        if problems:
            out.print(
                "Tasks that were still running when the journal was damaged are not in "
                "the new one: check the kie.ai dashboard before rendering again.",
                markup=False,
            )
    except OSError as exc:
        fail(f"cannot repair {journal}: {exc.strerror or exc} ({exc.filename})", EXIT_INVALID)


def _set_aside(journal: Path) -> None:
    """Move the damaged journal (and its WAL files) to ``<name>.damaged-<time>``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for suffix in ("", "-wal", "-shm"):
        path = journal.with_name(journal.name + suffix)
        if path.exists():
            moved = journal.with_name(f"{journal.name}.damaged-{stamp}{suffix}")
            path.rename(moved)
            out.print(f"moved {path.name} aside to {moved} (kept)", markup=False)


def _rebuild(journal: Path, clips: Path) -> None:
    with StateStore(journal) as store:
        adopted = adopt_clips(store, clips)
        version = store.version
        out.print(
            f"journal schema version {version} (this release: {SCHEMA_VERSION}); "
            f"{len(adopted)} clip(s) journaled from their sidecars"
        )
    out.print(
        "[green]✓[/] the journal is usable; `storyboard plan` shows what a render would pay for"
    )
