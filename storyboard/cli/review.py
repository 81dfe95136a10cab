"""``storyboard review``: the review page in the browser."""

from __future__ import annotations

import webbrowser
from typing import Annotated

import typer

from storyboard.cli.console import EXIT_INVALID, err, fail, out
from storyboard.cli.production import BackendOpt, FileArg, StateOpt, prepare_or_exit
from storyboard.review import ReviewServer, ReviewService

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``review`` to ``app``."""
    app.command("review")(review_command)


def review_command(
    file: FileArg,
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: a free one).")
    ] = 8750,
    open_browser: Annotated[bool, typer.Option("--open", help="Open it in the browser.")] = False,
    backend: BackendOpt = None,
    state: StateOpt = None,
    budget: Annotated[
        float | None,
        typer.Option(
            help="Credits one reroll or render from the page may spend on kie.ai (default: "
            "none; offline is free).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Review the storyboard in the browser: every take of every scene side by side, the
    picked take highlighted, the assembled edit on top, the plan as a picture. Pick takes
    (written to film.lock), reroll a scene, add notes. Serves on 127.0.0.1 only; the
    printed address carries a random token (keep it private). Ctrl-C stops it."""
    prepared = prepare_or_exit(file, backend, state)
    service = ReviewService(prepared.path, prepared.backend, state, budget)
    try:
        server = ReviewServer(service, port=port)
    except OSError as exc:
        fail(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); try --port 0", EXIT_INVALID)
    out.print(f"Review {prepared.storyboard.title} at:\n  {server.url}", soft_wrap=True)
    err.print("Ctrl-C to stop.")
    if open_browser:
        webbrowser.open(server.url)
    server.run()
