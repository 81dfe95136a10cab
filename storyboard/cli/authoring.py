"""Commands for authoring: validate, compile, schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from storyboard.cli.console import EXIT_INVALID, err, out, print_diagnostics, print_json
from storyboard.spec import json_schema
from storyboard.validate import Report, validate

__all__ = ["register"]

FileArg = Annotated[
    Path, typer.Argument(help="The storyboard file (YAML or JSON).", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")]
OutsideOpt = Annotated[
    bool,
    typer.Option("--allow-outside", help="Allow asset paths outside the storyboard's folder."),
]


def register(app: typer.Typer) -> None:
    """Add the authoring commands to ``app``."""
    app.command("validate")(validate_command)
    app.command("compile")(compile_command)
    app.command("schema")(schema_command)


def validate_command(
    file: FileArg,
    strict: StrictOpt = False,
    as_json: JsonOpt = False,
    allow_outside: OutsideOpt = False,
) -> None:
    """Check a storyboard: every error and warning at once, as FILE:LINE:COL: field: message.

    Exit status: 0 when valid, 2 when invalid (with --strict, warnings count as errors).
    """
    report = validate(file, strict=strict, allow_outside=allow_outside)
    if as_json:
        print_json(_report_json(report))
    else:
        print_diagnostics(report.shown())
        _summary(report)
    if not report.ok:
        raise typer.Exit(EXIT_INVALID)


def compile_command(
    file: FileArg,
    as_json: JsonOpt = False,
    strict: StrictOpt = False,
    allow_outside: OutsideOpt = False,
) -> None:
    """Print the exact Kling 3.0 createTask bodies, one per scene (generation).

    Local files that must be uploaded first appear as sb://upload/<path> placeholders;
    continuity frames as sb://last-frame/<scene>.png; URLs pass through unchanged.
    """
    report = validate(file, strict=strict, allow_outside=allow_outside)
    if not report.ok:
        print_diagnostics(report.shown())
        raise typer.Exit(EXIT_INVALID)
    print_diagnostics(report.warnings)
    items = [
        {
            "scene": g.scene_id,
            "depends_on": list(g.depends_on),
            "uploads": [a.source for a in g.assets if a.kind == "file"],
            "request": g.body,
        }
        for g in report.generations
    ]
    if as_json:
        print_json(items)
        return
    for item in items:
        out.rule(f"scene {item['scene']}", style="cyan")
        out.print_json(json.dumps(item["request"]))


def schema_command() -> None:
    """Print the storyboard JSON Schema (for editor completion and checks)."""
    print_json(json_schema())


def _report_json(report: Report) -> dict[str, object]:
    return {
        "file": str(report.loaded.path),
        "valid": report.ok,
        "errors": [d.to_json() for d in report.errors],
        "warnings": [d.to_json() for d in report.warnings if not report.strict],
        "generations": len(report.generations) if report.compiled else 0,
    }


def _summary(report: Report) -> None:
    errors, warnings = len(report.errors), len(report.warnings)
    if report.ok:
        count = len(report.generations)
        err.print(
            f"[green]✓[/] {report.loaded.path}: valid — {count} generation(s), "
            f"{warnings} warning(s)"
        )
    else:
        err.print(f"[red]✗[/] {report.loaded.path}: {errors} error(s), {warnings} warning(s)")
