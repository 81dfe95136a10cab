"""kie.ai's HTTP surface over the :class:`Emulator`: same paths, envelopes and codes.

Every ``/api`` call goes through one wrapper that counts it, refuses an oversized body
(413 envelope, before anything else is read), injects faults (slow answer, 500/429/455:
HTTP 200 with the code in the body under the live profile, HTTP status = code under
docs), checks the Bearer key, reads the body once and wraps the handler's ``data`` in the
envelope. Files (results, uploads, download links) are served under ``/files`` without
auth, with Range support and optional dropped connections; a file request carrying an
API key is counted (``key_sent_to_files``).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from storyboard.providers.emulator.config import EmulatorConfig
from storyboard.providers.emulator.engine import Emulator
from storyboard.providers.emulator.faults import Fault
from storyboard.providers.emulator.state import ApiFailure, StoredFile, envelope
from storyboard.providers.emulator.transport import ConnectionDropped
from storyboard.providers.emulator.uploads import (
    decode_base64_data,
    extension_of,
    guess_mime,
    live_upload_key,
    parse_multipart,
    upload_key,
)

__all__ = ["create_app", "emulator_of"]

Handler = Callable[[Request, bytes], Awaitable[Any]]
_CHUNK = 64 * 1024
_RANGE = re.compile(r"bytes=(\d+)-\d*")
_FAULT_MESSAGES = {
    429: "Rate limited: too many requests (emulated fault)",
    455: "Service unavailable: maintenance (emulated fault)",
    500: "Server error (emulated fault)",
}


def create_app(
    config: EmulatorConfig | None = None, *, emulator: Emulator | None = None
) -> Starlette:
    """The emulator as a Starlette app; its :class:`Emulator` is ``emulator_of(app)``."""
    emulator = emulator or Emulator(config)
    api = _Api(emulator)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await emulator.aclose()

    routes = [
        api.route("/api/v1/jobs/createTask", "createTask", api.create_task, "POST"),
        api.route("/api/v1/jobs/recordInfo", "recordInfo", api.record_info, "GET"),
        api.route("/api/file-stream-upload", "upload", api.stream_upload, "POST"),
        api.route("/api/file-base64-upload", "upload", api.base64_upload, "POST"),
        api.route("/api/file-url-upload", "upload", api.url_upload, "POST"),
        api.route("/api/v1/chat/credit", "credit", api.credit, "GET"),
        api.route("/api/v1/common/download-url", "download-url", api.download_url, "POST"),
        Route("/files/{kind}/{name:path}", api.serve_file, methods=["GET", "HEAD"]),
        Route("/emulator/stats", api.stats, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_exception},
    )
    app.state.emulator = emulator
    return app


def emulator_of(app: Starlette) -> Emulator:
    """The :class:`Emulator` behind an app made by :func:`create_app`."""
    emulator = app.state.emulator
    assert isinstance(emulator, Emulator)
    return emulator


async def _http_exception(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return JSONResponse(envelope(status, f"{request.url.path}: {_reason(status)}"), status)


def _reason(status: int) -> str:
    return {404: "not found", 405: "method not allowed"}.get(status, "error")


class _Api:
    def __init__(self, emulator: Emulator) -> None:
        self.em = emulator

    def route(self, path: str, name: str, handler: Handler, method: str) -> Route:
        upload = name == "upload"

        limit = self.em.config.max_upload_bytes if upload else self.em.config.max_body_bytes

        async def endpoint(request: Request) -> Response:
            self.em.count_call(name)
            try:
                _check_declared_size(request, limit)  # before anything is read
            except ApiFailure as failure:
                self.em.counters.reject(failure.code)
                return self._failure(failure, upload)
            if (slow := self.em.faults.roll("slow")) is not None:
                await asyncio.sleep(slow.seconds or self.em.config.faults.slow_seconds)
            if (fault := self.em.faults.roll("http_error")) is not None:
                return self._fault(fault)
            try:
                content = await _bounded_body(request, limit)
                self.em.authorize(request.headers.get("authorization"))
                self.em.throttle()
                data = await handler(request, content)
            except ApiFailure as failure:
                self.em.counters.reject(failure.code)
                return self._failure(failure, upload)
            if isinstance(data, Response):
                return data
            msg = "File uploaded successfully" if upload else "success"
            return JSONResponse(_body(200, msg, data, upload))

        return Route(path, endpoint, methods=[method])

    def _failure(self, failure: ApiFailure, upload: bool = False) -> Response:
        mirrored = self.em.config.mirror_http_status or failure.code == 413
        status = failure.code if mirrored else 200
        body = _body(failure.code, failure.msg, None, upload)
        return JSONResponse(body, status, headers=failure.headers)

    def _fault(self, fault: Fault) -> Response:
        code = fault.code or 500
        headers = {"Retry-After": str(self.em.config.faults.retry_after)} if code == 429 else {}
        message = _FAULT_MESSAGES.get(code, "error")
        if code == 429 and self.em.live:
            message = self.em.rate_limit_message
        status = 200 if self.em.live else code
        return JSONResponse(envelope(code, message), status, headers)

    # -- handlers: each returns the envelope's data ---------------------------------------

    async def create_task(self, request: Request, content: bytes) -> Any:
        task = self.em.create_task(_json(content))
        data = {"taskId": task.task_id}
        if self.em.live:
            data["recordId"] = task.task_id
        if self.em.faults.roll("drop_create") is not None:
            return _Dropped(json.dumps(envelope(200, "success", data)).encode())
        return data

    async def record_info(self, request: Request, content: bytes) -> Any:
        return self.em.record(request.query_params.get("taskId"))

    def _key(
        self, upload_path: Any, file_name: Any, source_name: str | None, mime: str | None
    ) -> str:
        """Where an upload is stored. Live: under ``kieai/<uid>/``, a generated name when
        no ``fileName`` is given. Docs: ``uploadPath/fileName`` (else the source's name)."""
        path = upload_path if isinstance(upload_path, str) else None
        name = file_name if isinstance(file_name, str) and file_name else None
        if self.em.live:
            extension = extension_of(source_name, mime)
            stamp = int(self.em.now * 1000)
            return live_upload_key(self.em.config.uid, path, name, extension, stamp)
        return upload_key(path, name or source_name, _extension(mime))

    async def stream_upload(self, request: Request, content: bytes) -> Any:
        parts = parse_multipart(content, request.headers.get("content-type", ""))
        file = parts.get("file")
        if file is None or file.filename is None:
            raise ApiFailure(422, "file is required (a multipart file field)")
        path = parts["uploadPath"].text if "uploadPath" in parts else None
        name = parts["fileName"].text if "fileName" in parts else None
        key = self._key(path, name, file.filename, file.content_type)
        return self.em.store_upload(key, file.content, guess_mime(key, file.content_type))

    async def base64_upload(self, request: Request, content: bytes) -> Any:
        body = _json(content)
        data = body.get("base64Data") if isinstance(body, dict) else None
        if not isinstance(data, str) or not data:
            raise ApiFailure(422, "base64Data is required")
        decoded, mime = decode_base64_data(data)
        key = self._key(body.get("uploadPath"), body.get("fileName"), None, mime)
        return self.em.store_upload(key, decoded, guess_mime(key, mime))

    async def url_upload(self, request: Request, content: bytes) -> Any:
        body = _json(content)
        url = body.get("fileUrl") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url:
            raise ApiFailure(422, "fileUrl is required")
        found = self.em.own_file(url)
        if found is None:
            raise ApiFailure(
                422,
                f"fileUrl could not be fetched: the emulator has no network and fetches only "
                f"its own live files ({self.em.base_url}/files/...); use file-stream-upload",
            )
        fetched = await _content(found)
        key = self._key(body.get("uploadPath"), body.get("fileName"), found.name, found.mime)
        return self.em.store_upload(key, fetched, found.mime)

    async def credit(self, request: Request, content: bytes) -> Any:
        return float(self.em.credits) if self.em.live else self.em.credits

    async def download_url(self, request: Request, content: bytes) -> Any:
        body = _json(content)
        return self.em.download_link(body.get("url") if isinstance(body, dict) else None)

    # -- unauthenticated routes -------------------------------------------------------------

    async def serve_file(self, request: Request) -> Response:
        if request.headers.get("authorization"):
            self.em.counters.key_sent_to_files += 1
        found = self.em.served_file(request.path_params["kind"], request.path_params["name"])
        if found is None:
            return PlainTextResponse("Not Found: the file expired or never existed", 404)
        content = await _content(found)
        match = _RANGE.fullmatch(request.headers.get("range", ""))
        start = int(match[1]) if match else 0
        if start >= len(content) > 0:
            return PlainTextResponse("Range Not Satisfiable", 416)
        self.em.counters.downloads += 1
        drop = self.em.faults.roll("drop_download") is not None
        return _FileBody(content, found.mime, start, drop)

    async def stats(self, request: Request) -> Response:
        return JSONResponse(self.em.stats())


def _body(code: int, msg: str, data: Any, upload: bool) -> dict[str, Any]:
    return (
        {"success": code == 200, **envelope(code, msg, data)}
        if upload
        else envelope(code, msg, data)
    )


def _check_declared_size(request: Request, limit: int) -> None:
    """Refuse (413) a body whose Content-Length exceeds ``limit`` bytes, unread."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiFailure(413, _too_large(int(declared), limit))


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it grows past ``limit`` bytes (a body
    sent without Content-Length, or longer than declared)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiFailure(413, _too_large(size, limit))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> str:
    return f"Request body too large: {size} bytes, the limit is {limit} bytes"


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, RecursionError) as exc:
        raise ApiFailure(422, "the request body is not valid JSON") from exc


async def _content(found: StoredFile) -> bytes:
    if found.content is not None:
        return found.content
    assert found.path is not None
    return await anyio.Path(found.path).read_bytes()


def _extension(mime: str | None) -> str:
    return {"image/png": ".png", "image/jpeg": ".jpg", "video/mp4": ".mp4"}.get(mime or "", "")


class _Dropped(Response):
    """Starts a 200 answer, sends half of it, then cuts the connection."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(self.body)),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        half = self.body[: len(self.body) // 2]
        await send({"type": "http.response.body", "body": half, "more_body": True})
        raise ConnectionDropped("createTask answered halfway (emulated fault)")


class _FileBody(Response):
    """A file answer (200, or 206 from ``start``), optionally dropped halfway."""

    def __init__(self, content: bytes, mime: str, start: int, drop: bool) -> None:
        self.content, self.mime, self.start, self.drop = content, mime, start, drop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        total, body = len(self.content), self.content[self.start :]
        headers = [
            (b"content-type", self.mime.encode()),
            (b"content-length", b"%d" % len(body)),
            (b"accept-ranges", b"bytes"),
        ]
        if self.start:
            span = f"bytes {self.start}-{total - 1}/{total}".encode()
            headers.append((b"content-range", span))
        status = 206 if self.start else 200
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        end = len(body) // 2 if self.drop else len(body)
        for offset in range(0, end, _CHUNK):
            chunk = body[offset : min(offset + _CHUNK, end)]
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if self.drop:
            raise ConnectionDropped("download cut halfway (emulated fault)")
        await send({"type": "http.response.body", "body": b""})
