"""Settings of the kie.ai emulator: account, timing, storage and fault injection."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from storyboard.kling import DEFAULT_LIMITS, KlingLimits
from storyboard.pricing import DEFAULT_PRICES, PriceTable

__all__ = [
    "DEFAULT_API_KEY",
    "INPROCESS_BASE_URL",
    "EmulatorConfig",
    "FaultConfig",
    "FetchAsset",
    "Renderer",
]

DEFAULT_API_KEY = "emulator-key"
"""The key the emulator accepts unless told otherwise (not a secret)."""

INPROCESS_BASE_URL = "http://emulator.invalid"
"""Public base URL of an in-process emulator (``.invalid`` never resolves)."""

FetchAsset = Callable[[str], bytes | None]


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

    api_key: str = DEFAULT_API_KEY
    """The Bearer key accepted (anything else gets 401)."""
    public_base_url: str | None = None
    """Base of the URLs it hands out (results, uploads); defaults to where it is served,
    or ``http://emulator.invalid`` in-process."""
    credits: int = 100_000
    """Starting balance; each generation costs its price (``storyboard.pricing``)."""
    refund_failed: bool = True
    """Give back the credits of a generation that ends ``fail``."""
    latency: float = 0.0
    """Seconds from createTask to a finished task (waiting 10 %, queuing 20 %, then
    generating); the task also waits for its clip to be rendered."""
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
