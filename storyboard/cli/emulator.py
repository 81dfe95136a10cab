"""``storyboard emulator``: serve the kie.ai emulator on a real socket."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from storyboard.cli.console import EXIT_INVALID, fail, out
from storyboard.providers.emulator import (
    DEFAULT_API_KEY,
    PROFILES,
    EmulatorConfig,
    FaultConfig,
    serve,
)

__all__ = ["app", "emulator_app"]

app = typer.Typer(
    help="A local kie.ai emulator (same API, free animatic clips, seeded faults).",
    no_args_is_help=True,
)
emulator_app = app


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8765,
    profile: Annotated[
        str,
        typer.Option(
            help="live: answer as recorded kie.ai traffic shows; docs: exactly as documented."
        ),
    ] = "live",
    latency: Annotated[float, typer.Option(help="Seconds from createTask to done.", min=0)] = 0.0,
    time_scale: Annotated[
        float | None,
        typer.Option(
            help="Follow the live timing profile (create to success 120-170 s for a 5 s clip,"
            " longer for pro/4K/longer clips) times this factor, e.g. 0.01; overrides --latency.",
            min=0.0,
        ),
    ] = None,
    record_null_polls: Annotated[
        int,
        typer.Option(
            help="Answer the first N recordInfo polls of each task with 422 'recordInfo is "
            "null' / data: null, as the live service may right after createTask.",
            min=0,
        ),
    ] = 0,
    max_body_bytes: Annotated[
        int, typer.Option(help="Largest JSON request body (413 beyond).", min=1024)
    ] = 1024 * 1024,
    fail_rate: Annotated[
        float, typer.Option(help="Share of API calls answered 500/429/455.", min=0.0, max=1.0)
    ] = 0.0,
    generation_fail_rate: Annotated[
        float, typer.Option(help="Share of tasks ending fail (501).", min=0.0, max=1.0)
    ] = 0.0,
    drop_rate: Annotated[
        float, typer.Option(help="Share of downloads cut halfway.", min=0.0, max=1.0)
    ] = 0.0,
    rate_limit: Annotated[
        float | None, typer.Option(help="API calls per second allowed (429 beyond).", min=0.1)
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the fault generator.")] = 0,
    api_key: Annotated[str, typer.Option(help="Bearer key the emulator accepts.")] = (
        DEFAULT_API_KEY
    ),
    hmac_key: Annotated[
        str | None, typer.Option(help="Sign completion callbacks with this key.")
    ] = None,
    credits: Annotated[float, typer.Option(help="Starting credit balance.", min=0)] = 100_000,
    public_url: Annotated[
        str | None, typer.Option(help="Base URL clients reach it at (default: where it listens).")
    ] = None,
    storage_dir: Annotated[
        Path | None, typer.Option(help="Keep rendered clips here (default: a temp folder).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the emulator until Ctrl-C; point KIE_BASE_URL and KIE_UPLOAD_BASE_URL at it."""
    if profile not in PROFILES:
        fail(f"--profile must be one of {', '.join(PROFILES)}, got {profile!r}", EXIT_INVALID)
    if host not in {"127.0.0.1", "localhost", "::1"}:
        out.print(f"warning: listening on {host}, not loopback: anyone who can reach it can use it")
    config = EmulatorConfig(
        profile="docs" if profile == "docs" else "live",
        time_scale=time_scale,
        record_null_polls=record_null_polls,
        max_body_bytes=max_body_bytes,
        api_key=api_key,
        public_base_url=public_url,
        credits=credits,
        latency=latency,
        rate_limit=rate_limit,
        hmac_key=hmac_key,
        storage_dir=storage_dir,
        faults=FaultConfig(
            seed=seed,
            http_error_rate=fail_rate,
            generation_fail_rate=generation_fail_rate,
            drop_download_rate=drop_rate,
        ),
    )
    try:
        serve(config, host=host, port=port, log_level=log_level, announce=_announce(api_key))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_INVALID)


def _announce(api_key: str) -> Callable[[str], None]:
    def announce(base_url: str) -> None:
        key = api_key if api_key == DEFAULT_API_KEY else "<the key you passed with --api-key>"
        out.print(f"kie.ai emulator at {base_url} — point the client at it with:", markup=False)
        out.print(f"  export KIE_BASE_URL={base_url}", markup=False)
        out.print(f"  export KIE_UPLOAD_BASE_URL={base_url}", markup=False)
        out.print(f"  export KIE_API_KEY={key}", markup=False)
        out.print(f"Counters: {base_url}/emulator/stats", markup=False)

    return announce
