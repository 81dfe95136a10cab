"""Settings of the kie.ai emulator: account, timing, storage and fault injection."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx

from storyboard.kling import DEFAULT_LIMITS, KlingLimits
from storyboard.pricing import DEFAULT_PRICES, PriceTable

__all__ = [
    "DEFAULT_API_KEY",
    "INPROCESS_BASE_URL",
    "PROFILES",
    "EmulatorConfig",
    "FaultConfig",
    "FetchAsset",
    "Renderer",
]

DEFAULT_API_KEY = "emulator-key"
"""The key the emulator accepts unless told otherwise (not a secret)."""

INPROCESS_BASE_URL = "http://emulator.invalid"
"""Public base URL of an in-process emulator (``.invalid`` never resolves)."""

PREVIEW_HINT = "storyboard_preview"
"""Body field the offline emulator reads and strips: ``{"scene": id, "take": n}`` (never
sent to kie.ai). The animatic then shows the scene and take, and moves per take."""

FetchAsset = Callable[[str], bytes | None]

Profile = Literal["live", "docs"]
PROFILES: tuple[Profile, ...] = ("live", "docs")
"""``live``: answer as recorded kie.ai traffic shows (shared/kie-real-traffic.md);
``docs``: answer exactly as the documents describe (the emulator before live fidelity)."""


class Renderer(Protocol):
    """Renders a createTask body to an mp4 (blocking); ``render_animatic`` by default."""

    def __call__(
        self,
        body: Mapping[str, Any],
        out_path: str | Path,
        /,
        *,
        fetch_asset: FetchAsset | None = None,
        label: str | None = None,
    ) -> Path: ...


@dataclass(frozen=True)
class FaultConfig:
    """Seeded fault injection; every rate is a probability per occasion (0..1)."""

    seed: int = 0
    """Seed of the fault generator (``random.Random(seed)``): same seed, same faults."""
    http_error_rate: float = 0.0
    """Share of API calls answered with one of ``http_error_codes`` (nothing is done)."""
    http_error_codes: tuple[int, ...] = (500, 429, 455)
    """Codes the injected HTTP errors are drawn from."""
    retry_after: int = 1
    """``Retry-After`` seconds sent with injected 429s."""
    generation_fail_rate: float = 0.0
    """Share of tasks that end ``fail`` with failCode "501"."""
    drop_create_rate: float = 0.0
    """Share of createTask calls whose connection drops after the task was created."""
    drop_download_rate: float = 0.0
    """Share of file downloads whose connection drops halfway through the body."""
    slow_rate: float = 0.0
    """Share of API calls delayed by ``slow_seconds`` before they are handled."""
    slow_seconds: float = 0.0
    """Delay of a slow response, in seconds."""


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything the emulator can be told."""

    profile: Profile = "live"
    """``live`` (lenient bodies, 32-hex ids, live record shape, faults as HTTP 200,
    generated upload names) or ``docs`` (the documented shapes; see docs/kie.md)."""
    api_key: str = DEFAULT_API_KEY
    """The Bearer key accepted (anything else gets 401)."""
    public_base_url: str | None = None
    """Base of the URLs it hands out (results, uploads); defaults to where it is served,
    or ``http://emulator.invalid`` in-process."""
    credits: float = 100_000
    """Starting balance; each generation costs its price (``storyboard.pricing``)."""
    refund_failed: bool = True
    """Give back the credits of a generation that ends ``fail``."""
    latency: float = 0.0
    """Seconds from createTask to a finished task (docs profile: waiting 10 %, queuing
    20 %, then generating; live: generating at once); the task also waits for its clip."""
    time_scale: float | None = None
    """When set, each task's latency follows the live timing profile (120-170 s for a
    5 s std clip, longer for pro/4K/longer clips, seeded spread) times this factor;
    ``latency`` is then ignored."""
    record_null_polls: int = 0
    """The first this-many recordInfo polls of each new task answer as the live service
    may right after createTask: 422 "recordInfo is null", alternating with ``data: null``."""
    max_body_bytes: int = 1024 * 1024
    """Largest request body of a JSON API call; larger ones get a 413 envelope."""
    max_upload_bytes: int = 100 * 1024 * 1024
    """Largest upload request body; larger ones get a 413 envelope."""
    uid: str = "emulator"
    """The account id in generated upload paths (``kieai/<uid>/<uploadPath>/``)."""
    hmac_key: str | None = None
    """When set, completion callbacks carry X-Webhook-Timestamp/-Signature headers."""
    callback_transport: httpx.AsyncBaseTransport | None = None
    """Transport the callback POSTs go through (tests capture them with it)."""
    result_ttl: float = 24 * 3600
    """Seconds a result URL stays valid after completion (404 afterwards)."""
    download_url_ttl: float = 20 * 60
    """Seconds a link from download-url stays valid."""
    upload_ttl: float = 3 * 24 * 3600
    """Seconds an uploaded file is kept."""
    render_concurrency: int = 2
    """Clips rendered at once (rendering is CPU-bound)."""
    renderer: Renderer | None = None
    """Clip renderer; None means the animatic renderer."""
    storage_dir: Path | None = None
    """Folder for rendered clips; None means a temporary folder removed on close."""
    rate_limit: float | None = None
    """Average API calls per second allowed (bursts of as many); over it: 429 with
    Retry-After. None means unlimited."""
    mirror_http_status: bool = False
    """Send envelope errors with HTTP status = code (else HTTP 200, code in the body)."""
    limits: KlingLimits = DEFAULT_LIMITS
    """Kling limits createTask bodies are checked against."""
    prices: PriceTable = DEFAULT_PRICES
    """Price table credits are charged by."""
    faults: FaultConfig = field(default_factory=FaultConfig)
    """Fault injection."""
    clock: Callable[[], float] = time.time
    """Wall clock (seconds); tests move it to expire URLs."""
