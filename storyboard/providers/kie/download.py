"""Streaming a result file to disk: temp file in the target folder, size cap, content
type check, retries with Range resume, atomic rename.

The request never carries the API key: result URLs live on CDNs, not on kie.ai's hosts.
"""

from __future__ import annotations

import logging
import random
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import httpx

from storyboard.providers.kie.errors import (
    DownloadError,
    DownloadTooLarge,
    KieTransportError,
    ResultExpired,
    UnexpectedContentType,
)
from storyboard.providers.kie.retry import RetryPolicy, Sleep, backoff_delay

__all__ = ["ACCEPTED_CONTENT_TYPES", "Download", "download_file", "is_video_content_type"]

logger = logging.getLogger("storyboard.kie")

ACCEPTED_CONTENT_TYPES = ("video/", "application/octet-stream", "binary/octet-stream")
"""Content types accepted for a generated clip (``video/*`` or raw bytes)."""

_EXPIRED = frozenset({403, 404, 410})
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


@dataclass(frozen=True)
class Download:
    """One download's parameters and context."""

    url: str
    dest: Path
    max_bytes: int
    attempts: int
    task_id: str | None = None
    scene: str | None = None


class _RetryableStatus(DownloadError):
    """A 429/5xx answer from the file host: worth another try."""


class _Interrupted(Exception):
    """The connection dropped; ``received`` bytes are on disk."""

    def __init__(
        self, error: DownloadError | KieTransportError, received: int, resumable: bool
    ) -> None:
        super().__init__(str(error))
        self.error, self.received, self.resumable = error, received, resumable


def is_video_content_type(value: str | None) -> bool:
    """True for ``video/*`` and octet-stream types (parameters ignored)."""
    kind = (value or "").split(";", 1)[0].strip().lower()
    return any(kind.startswith(t) if t.endswith("/") else kind == t for t in ACCEPTED_CONTENT_TYPES)


async def download_file(
    http: httpx.AsyncClient,
    job: Download,
    *,
    policy: RetryPolicy,
    sleep: Sleep,
    rng: random.Random,
) -> Path:
    """Download ``job.url`` to ``job.dest``; nothing is left behind on failure."""
    dest = Path(job.dest)
    part = anyio.Path(dest.parent / f".{dest.name}.{secrets.token_hex(4)}.part")
    await part.parent.mkdir(parents=True, exist_ok=True)
    try:
        await _fetch_with_retries(http, job, part, policy, sleep, rng)
        await part.replace(dest)
        logger.info("kie.ai: downloaded %s → %s", _safe_url(job.url), dest.name)
        return dest
    finally:
        await part.unlink(missing_ok=True)


async def _fetch_with_retries(
    http: httpx.AsyncClient,
    job: Download,
    part: anyio.Path,
    policy: RetryPolicy,
    sleep: Sleep,
    rng: random.Random,
) -> None:
    received, resumable = 0, False
    for attempt in range(1, job.attempts + 1):
        try:
            await _fetch_once(http, job, part, received if resumable else 0)
            return
        except _Interrupted as stop:
            received, resumable = stop.received, stop.resumable
            error: DownloadError | KieTransportError = stop.error
        except _RetryableStatus as exc:
            error = exc
        if attempt == job.attempts:
            raise error
        delay = backoff_delay(attempt, policy, rng)
        logger.info("kie.ai: download interrupted (%s); retry in %.2f s", error, delay)
        await sleep(delay)


async def _fetch_once(
    http: httpx.AsyncClient, job: Download, part: anyio.Path, offset: int
) -> None:
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    received, resumable = offset, offset > 0  # a failed resume may be resumed again
    try:
        async with http.stream("GET", job.url, headers=headers, follow_redirects=True) as response:
            start = _check_response(response, job, offset)
            resumable = response.headers.get("accept-ranges", "").lower() == "bytes"
            received = start
            async with await anyio.open_file(part, "ab" if start else "wb") as sink:
                async for chunk in response.aiter_bytes():
                    received += len(chunk)
                    _check_size(received, job)
                    await sink.write(chunk)
    except httpx.TransportError as exc:
        error = KieTransportError(
            f"download dropped after {received} bytes: {type(exc).__name__}",
            endpoint=_safe_url(job.url),
            task_id=job.task_id,
            scene=job.scene,
        )
        raise _Interrupted(error, received, resumable) from exc


def _check_response(response: httpx.Response, job: Download, offset: int) -> int:
    """Validate status, type and size; return the byte offset the body starts at."""
    status = response.status_code
    context = {"endpoint": _safe_url(job.url), "task_id": job.task_id, "scene": job.scene}
    if status in _EXPIRED:
        raise ResultExpired(
            f"result URL answered HTTP {status}: it expired or never existed (result URLs "
            "live about 24 h; fetch a fresh one with recordInfo or download-url)",
            status=status,
            **context,
        )
    if status == 429 or status >= 500:
        raise _RetryableStatus(f"file host answered HTTP {status}", status=status, **context)
    if status not in (200, 206):
        raise DownloadError(f"file host answered HTTP {status}", status=status, **context)
    if not is_video_content_type(response.headers.get("content-type")):
        raise UnexpectedContentType(
            f"expected a video, got content type {response.headers.get('content-type')!r}",
            status=status,
            **context,
        )
    start, total = _span(response, offset)
    if total is not None:
        _check_size(total, job)
    return start


def _span(response: httpx.Response, offset: int) -> tuple[int, int | None]:
    """(first byte offset, total size if known) of a 200 or 206 answer."""
    length = response.headers.get("content-length")
    if response.status_code == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", ""))
        if match and int(match[1]) == offset:
            total = match[3]
            return offset, int(total) if total != "*" else None
        error = DownloadError("file host answered a different range than asked for")
        raise _Interrupted(error, 0, resumable=False)
    return 0, int(length) if length and length.isdigit() else None


def _check_size(size: int, job: Download) -> None:
    if size > job.max_bytes:
        raise DownloadTooLarge(
            f"file is over the download cap of {job.max_bytes} bytes",
            endpoint=_safe_url(job.url),
            task_id=job.task_id,
            scene=job.scene,
        )


def _safe_url(url: str) -> str:
    """Host and path only: signed query strings stay out of logs and errors."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
