"""The async kie.ai client: policy (auth, retries, polling, downloads) above one
``httpx.AsyncClient`` whose transport is injectable (the emulator plugs in there).

Usage::

    async with KieClient(KieSettings.from_env()) as client:
        task_id = await client.create_task(body, scene="wake-up")
        record = await client.wait_for_task(task_id, scene="wake-up")
        await client.download_result(record, Path("out/wake-up.mp4"), scene="wake-up")
"""

from __future__ import annotations

import asyncio
import base64
import logging
import mimetypes
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio
import httpx
from pydantic import BaseModel, ValidationError

from storyboard.kling import CreateTaskRequest
from storyboard.providers.kie.download import Download, download_file
from storyboard.providers.kie.errors import (
    CreateTaskUncertain,
    KieApiError,
    KieAuthError,
    KieError,
    KieTransportError,
    ServerError,
    ServiceUnavailable,
    TaskNotVisible,
    UnexpectedResponse,
    error_for_code,
)
from storyboard.providers.kie.models import CreateTaskData, Envelope, TaskRecord, UploadedFile
from storyboard.providers.kie.polling import (
    OnState,
    Pause,
    PollPolicy,
    TaskWatch,
    poll_delays,
    raise_if_failed,
)
from storyboard.providers.kie.retry import Sleep, call_with_retries, parse_retry_after
from storyboard.providers.kie.settings import KieSettings
from storyboard.ratelimit import Limiter

__all__ = ["KieClient"]

logger = logging.getLogger("storyboard.kie")
M = TypeVar("M", bound=BaseModel)

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
"""Transport errors that certainly happened before the server saw the request."""

_NOT_CREATED_STATUSES = frozenset({401, 402, 404, 422, 429, 455, 500, 503, 505})
"""HTTP statuses of non-envelope answers that mean createTask did not create a task."""


@dataclass(frozen=True)
class _Call:
    """One API call, re-sendable as is on every retry."""

    endpoint: str
    method: str
    url: str
    params: dict[str, str] | None = None
    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    task_id: str | None = None
    scene: str | None = None
    create: bool = False

    @property
    def context(self) -> dict[str, Any]:
        """The keyword context every error of this call carries."""
        return {"endpoint": self.endpoint, "task_id": self.task_id, "scene": self.scene}


class KieClient:
    """kie.ai's API, upload and file hosts behind one connection pool."""

    def __init__(
        self,
        settings: KieSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings if settings is not None else KieSettings.from_env()
        self._timeout = httpx.Timeout(self.settings.timeout, connect=self.settings.connect_timeout)
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=self._timeout,
            follow_redirects=False,
            headers={"User-Agent": "storyboard-kie/0.1"},
        )
        self._sleep: Sleep = sleep or asyncio.sleep
        self.retries = 0
        """API calls and downloads repeated so far after a retryable failure."""
        self._clock = clock or time.monotonic
        self._rng = rng or random.Random()

    def __repr__(self) -> str:
        key = "set" if self.settings.api_key else "unset"
        return f"KieClient(base_url={self.settings.base_url!r}, api_key={key})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # -- tasks -------------------------------------------------------------------------

    async def create_task(
        self, body: CreateTaskRequest | Mapping[str, Any], *, scene: str | None = None
    ) -> str:
        """Create a generation; return its task id.

        Raises :class:`CreateTaskUncertain` (never retried) when the request may have
        reached the server before the failure.
        """
        return (await self.create_task_data(body, scene=scene)).task_id

    async def create_task_data(
        self, body: CreateTaskRequest | Mapping[str, Any], *, scene: str | None = None
    ) -> CreateTaskData:
        """Like :meth:`create_task`, returning the whole answer (task id and record id)."""
        payload = body.to_body() if isinstance(body, CreateTaskRequest) else dict(body)
        url = self._api("/api/v1/jobs/createTask")
        call = _Call("createTask", "POST", url, json=payload, scene=scene, create=True)
        data = _data(await self._envelope(call), CreateTaskData, call)
        logger.info("kie.ai: created task %s%s", data.task_id, f" for {scene}" if scene else "")
        return data

    async def get_task(self, task_id: str, *, scene: str | None = None) -> TaskRecord:
        """One recordInfo query.

        Raises :class:`TaskNotVisible` when the service does not show the task yet (422
        "recordInfo is null", or ``data: null``), as it may right after createTask.
        """
        url = self._api("/api/v1/jobs/recordInfo")
        query = {"taskId": task_id}
        call = _Call("recordInfo", "GET", url, params=query, task_id=task_id, scene=scene)
        envelope = await self._envelope(call)
        if envelope.data is None:
            raise TaskNotVisible("recordInfo answered data: null", code=200, **call.context)
        return _data(envelope, TaskRecord, call)

    async def wait_for_task(
        self,
        task_id: str,
        *,
        scene: str | None = None,
        poll: PollPolicy | None = None,
        on_state: OnState | None = None,
        wake: Awaitable[object] | None = None,
        limiter: Limiter | None = None,
    ) -> TaskRecord:
        """Poll until the task succeeds (returned) or fails (:class:`GenerationFailed`).

        The one way to wait for a task. Polls recordInfo on ``poll``'s schedule (default:
        the settings'); a retryable error that outlasts one poll's retries does not end the
        wait, and "recordInfo is null" answers are tolerated for ``poll.not_visible_timeout``.
        ``on_state(state)`` hears each change of state (``"not visible yet"`` included).
        When ``wake`` (e.g. ``receiver.wait(task_id)``) completes, the current pause ends
        and the next poll follows at once (once per wait); the result still comes from
        recordInfo.
        ``limiter`` is awaited before every poll. Raises :class:`PollTimeout` after
        ``poll.timeout`` seconds, or when the task stays invisible too long.
        """
        policy = poll or self.settings.poll
        watch = TaskWatch(policy, self._clock, task_id, scene, on_state)
        pause = Pause(self._sleep, wake)
        try:
            for delay in poll_delays(policy):
                if limiter is not None:
                    await limiter.acquire()
                record = await watch.poll(lambda: self.get_task(task_id, scene=scene))
                if record is not None and record.is_final:
                    return raise_if_failed(record, scene)
                watch.check_deadline(delay)
                await pause(delay)
        finally:
            pause.close()
        raise AssertionError("poll_delays is endless")  # pragma: no cover

    # -- files -------------------------------------------------------------------------

    async def upload_file(
        self,
        source: Path | str | bytes,
        *,
        upload_path: str,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> UploadedFile:
        """Multipart upload (``file-stream-upload``); the preferred way for large files."""
        content = source if isinstance(source, bytes) else await anyio.Path(source).read_bytes()
        name = file_name or (Path(source).name if not isinstance(source, bytes) else "upload.bin")
        kind = mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        form = {"uploadPath": upload_path, **({"fileName": file_name} if file_name else {})}
        url = self._upload("/api/file-stream-upload")
        files = {"file": (name, content, kind)}
        call = _Call("file-stream-upload", "POST", url, data=form, files=files)
        return _data(await self._envelope(call), UploadedFile, call)

    async def upload_base64(
        self,
        content: bytes | str,
        *,
        upload_path: str,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> UploadedFile:
        """Base64 upload (small files): ``content`` is raw bytes, base64 text or a data URL."""
        if isinstance(content, bytes):
            encoded = base64.b64encode(content).decode("ascii")
            content = f"data:{mime_type};base64,{encoded}" if mime_type else encoded
        body = {"base64Data": content, "uploadPath": upload_path}
        url = self._upload("/api/file-base64-upload")
        call = _Call("file-base64-upload", "POST", url, json=_with_name(body, file_name))
        return _data(await self._envelope(call), UploadedFile, call)

    async def upload_url(
        self, file_url: str, *, upload_path: str, file_name: str | None = None
    ) -> UploadedFile:
        """Have the service fetch ``file_url`` (``file-url-upload``)."""
        body = {"fileUrl": file_url, "uploadPath": upload_path}
        url = self._upload("/api/file-url-upload")
        call = _Call("file-url-upload", "POST", url, json=_with_name(body, file_name))
        return _data(await self._envelope(call), UploadedFile, call)

    # -- account and downloads -----------------------------------------------------------

    async def get_credits(self) -> float:
        """Remaining credits on the account (the live service answers fractions)."""
        call = _Call("credit", "GET", self._api("/api/v1/chat/credit"))
        data = (await self._envelope(call)).data
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise UnexpectedResponse("credit: data is not a number", **call.context)
        return float(data)

    async def get_download_url(self, url: str) -> str:
        """A temporary (20 min) download link for a generated file's URL."""
        endpoint = self._api("/api/v1/common/download-url")
        call = _Call("download-url", "POST", endpoint, json={"url": url})
        data = (await self._envelope(call)).data
        if not isinstance(data, str) or not data:
            raise UnexpectedResponse("download-url: data is not a URL", **call.context)
        return data

    async def download(
        self,
        url: str,
        dest: Path | str,
        *,
        task_id: str | None = None,
        scene: str | None = None,
        max_bytes: int | None = None,
    ) -> Path:
        """Stream ``url`` to ``dest`` (temp file + rename). Never sends the API key."""
        job = Download(
            url=url,
            dest=Path(dest),
            max_bytes=max_bytes or self.settings.download_max_bytes,
            attempts=self.settings.download_attempts,
            task_id=task_id,
            scene=scene,
        )
        return await download_file(
            self._http,
            job,
            policy=self.settings.retry,
            sleep=self._retry_sleep,
            rng=self._rng,
        )

    async def download_result(
        self, record: TaskRecord, dest: Path | str, *, scene: str | None = None
    ) -> Path:
        """Download the first result URL of a successful task."""
        context: dict[str, Any] = {
            "endpoint": "recordInfo",
            "task_id": record.task_id,
            "scene": scene,
        }
        try:
            urls = record.result_urls
        except ValueError as exc:
            raise UnexpectedResponse(f"resultJson is malformed: {exc}", **context) from exc
        if not urls:
            raise UnexpectedResponse("the task has no result URL", **context)
        return await self.download(urls[0], dest, task_id=record.task_id, scene=scene)

    # -- plumbing ------------------------------------------------------------------------

    def _api(self, path: str) -> str:
        return self.settings.base_url + path

    def _upload(self, path: str) -> str:
        return self.settings.upload_base_url + path

    async def _envelope(self, call: _Call) -> Envelope:
        return await call_with_retries(
            lambda: self._attempt(call), self.settings.retry, sleep=self._retry_sleep, rng=self._rng
        )

    async def _retry_sleep(self, seconds: float) -> None:
        """The wait before a retry (counted in :attr:`retries`; poll pauses are not)."""
        self.retries += 1
        await self._sleep(seconds)

    async def _attempt(self, call: _Call) -> Envelope:
        try:
            response = await self._http.request(
                call.method,
                call.url,
                params=call.params,
                json=call.json,
                data=call.data,
                files=call.files,
                headers=self._auth_headers(call),
            )
        except httpx.TransportError as exc:
            raise _transport_error(exc, call) from exc
        envelope = self._parse(response, call)
        logger.debug("kie.ai %s → HTTP %d, code 200", call.endpoint, response.status_code)
        return envelope

    def _auth_headers(self, call: _Call) -> dict[str, str]:
        key = self.settings.api_key
        if key is None or not key.get_secret_value():
            raise KieAuthError("no kie.ai API key configured (set KIE_API_KEY)", **call.context)
        if not self.settings.is_authorized_host(call.url):  # pragma: no cover - defensive
            raise KieError("refusing to send the API key to a foreign host", **call.context)
        return {"Authorization": f"Bearer {key.get_secret_value()}"}

    def _parse(self, response: httpx.Response, call: _Call) -> Envelope:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        try:
            envelope = Envelope.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            raise _status_error(response.status_code, call, retry_after) from exc
        if envelope.code == 200:
            return envelope
        logger.info(
            "kie.ai %s → HTTP %d, code %d", call.endpoint, response.status_code, envelope.code
        )
        cls = error_for_code(envelope.code)
        if call.endpoint == "recordInfo" and _not_visible(envelope):
            cls = TaskNotVisible
        message = self._redact(envelope.msg) or f"code {envelope.code}"
        raise cls(message, code=envelope.code, retry_after=retry_after, **call.context)

    def _redact(self, text: str) -> str:
        key = self.settings.api_key.get_secret_value() if self.settings.api_key else ""
        return text.replace(key, "***") if key else text


def _not_visible(envelope: Envelope) -> bool:
    """422 "recordInfo is null": the task is not visible yet (documented, and special-cased
    by public clients right after createTask)."""
    return envelope.code == 422 and "recordinfo is null" in envelope.msg.lower()


def _with_name(body: dict[str, str], file_name: str | None) -> dict[str, str]:
    return {**body, "fileName": file_name} if file_name else body


def _data(envelope: Envelope, model: type[M], call: _Call) -> M:
    try:
        return model.model_validate(envelope.data)
    except ValidationError as exc:
        raise UnexpectedResponse(
            f"{call.endpoint}: data does not match {model.__name__} ({exc.error_count()} problems)",
            **call.context,
        ) from exc


def _transport_error(exc: httpx.TransportError, call: _Call) -> KieTransportError:
    what = f"{type(exc).__name__} on {call.endpoint}"
    if call.create and not isinstance(exc, _NOT_SENT):
        return CreateTaskUncertain(
            f"{what}: the request may have reached kie.ai, so the task may exist; not retried",
            **call.context,
        )
    return KieTransportError(what, **call.context)


def _status_error(status: int, call: _Call, retry_after: float | None) -> KieError:
    """An error for an answer that is not a kie.ai envelope, from its HTTP status."""
    what = f"HTTP {status} without a kie.ai envelope"
    if call.create and status not in _NOT_CREATED_STATUSES:
        return CreateTaskUncertain(f"{what}: the task may exist; not retried", **call.context)
    if status == 503:
        return ServiceUnavailable(what, code=status, retry_after=retry_after, **call.context)
    if status >= 500:
        return ServerError(what, code=status, retry_after=retry_after, **call.context)
    if status >= 400:
        cls: type[KieApiError] = error_for_code(status)
        return cls(what, code=status, retry_after=retry_after, **call.context)
    return UnexpectedResponse(what, code=status, **call.context)
