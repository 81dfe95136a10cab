"""``storyboard export``: the edit as a timeline an editor opens (Premiere, Resolve, FCP, Avid)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, get_args

import typer

from storyboard.cli.console import EXIT_FAILED, EXIT_INVALID, err, fail
from storyboard.edit import AssemblyError, EditError
from storyboard.edit.exports import (
    EXPORTS,
    ExportUnavailable,
    build_nle,
    export_path,
    missing_plugins,
    write_export,
)
from storyboard.edit.model import ExportFormat
from storyboard.edit.scenes import resolve_scenes
from storyboard.edit.subtitles import subtitle_cues
from storyboard.run.backend import BackendName
from storyboard.run.render import Prepared, edit_clips, output_path
from storyboard.run.session import RenderSession

__all__ = ["export_command", "register"]

FORMATS = get_args(ExportFormat)


def register(app: typer.Typer) -> None:
    """Add ``export`` to ``app``."""
    app.command("export")(export_command)


def export_command(
    file: Annotated[Path, typer.Argument(help="The storyboard file.", show_default=False)],
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help=f"One of: {', '.join(FORMATS)}.", show_default=False),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            show_default=False,
            help="Where to write. Default: beside the edit, e.g. out/film.fcp7.xml.",
        ),
    ] = None,
    backend: Annotated[
        BackendName | None,
        typer.Option("--backend", show_default=False, help="offline or kie (whose clips)."),
    ] = None,
) -> None:
    """Write the edit as fcp7xml (Premiere, Resolve), fcpxml (Final Cut Pro), edl (CMX 3600),
    aaf (Avid) or otio, from the clips already generated (nothing is generated or rendered).

    Needs the OpenTimelineIO plugins: pip install 'storyboard[nle]'. Exit: 0 written,
    1 no clips yet, 2 invalid input or a missing plugin.
    """
    if fmt not in FORMATS:
        fail(
            f"--format: unknown export format {fmt!r} (use one of: {', '.join(FORMATS)})",
            EXIT_INVALID,
        )
    chosen: ExportFormat = fmt  # type: ignore[assignment]
    if missing_plugins([chosen]):
        fail(str(ExportUnavailable([chosen])), EXIT_INVALID)
    session = RenderSession.choose(backend)
    prepared = session.prepare(file)
    clips = prepared.stored_clips(on_disk=True)
    missing = [s for s in prepared.plan.generations if s not in clips]
    if missing:
        fail(
            f"no clip yet for {', '.join(missing)}; run `storyboard render {file}` first",
            EXIT_FAILED,
        )
    edit_out = output_path(prepared)
    dest = output.resolve() if output is not None else export_path(edit_out, chosen)
    try:
        written = _export(prepared, clips, chosen, dest, edit_out.stem)
    except (EditError, AssemblyError) as exc:
        fail(f"export failed: {exc}")
    err.print(f"[green]✓[/] {written}  ({chosen}, {EXPORTS[chosen].adapter} adapter)")


def _export(
    prepared: Prepared, stored: dict[str, Path], fmt: ExportFormat, dest: Path, name: str
) -> Path:
    board = prepared.storyboard
    clips = edit_clips(prepared, stored)
    setup = resolve_scenes(clips, board.edit, board.output)  # stills, footage in/out, speeds
    timeline, infos = setup.timeline, setup.infos
    cues = subtitle_cues(timeline, clips)
    music = None
    if board.edit.music is not None:
        music = Path(board.edit.music.path)
        music = music if music.is_absolute() else prepared.base_dir / music
    nle = build_nle(
        timeline, clips, infos, board.edit, cues, name=name, music=music, base_dir=prepared.base_dir
    )
    return write_export(nle, fmt, dest)
