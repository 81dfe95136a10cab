"""An httpx transport that runs an ASGI app in-process, streaming its answers.

Unlike ``httpx.ASGITransport`` it streams response bodies, honours the request's read
timeout, and turns :class:`ConnectionDropped` raised by the app into the httpx errors a
real socket would give — so dropped connections look the same in-process and served.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.types import ASGIApp, Message

__all__ = ["ConnectionDropped", "InProcessTransport"]


class ConnectionDropped(Exception):
    """Raised by the emulator's app to cut the connection (fault injection)."""


_END: Message = {"type": "_end"}


class InProcessTransport(httpx.AsyncBaseTransport):
    """Send httpx requests straight to an ASGI app in the running event loop."""

    def __init__(self, app: ASGIApp, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self.app = app
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        exchange = _Exchange(self.app, _scope(request, self.client), body, _read_timeout(request))
        return await exchange.start()


def _scope(request: httpx.Request, client: tuple[str, int]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "headers": [(k.lower(), v) for k, v in request.headers.raw],
        "scheme": request.url.scheme,
        "path": request.url.path,
        "raw_path": request.url.raw_path.split(b"?")[0],
        "query_string": request.url.query,
        "server": (request.url.host, request.url.port),
        "client": client,
        "root_path": "",
    }


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout", {})
    value = timeout.get("read") if isinstance(timeout, dict) else None
    return float(value) if value is not None else None


class _Exchange:
    """One request/response: the app runs as a task feeding a queue of ASGI messages."""

    def __init__(self, app: ASGIApp, scope: dict[str, Any], body: bytes, timeout: float | None):
        self.app, self.scope, self.body, self.timeout = app, scope, body, timeout
        self.messages: asyncio.Queue[Message | BaseException] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.body_sent = False
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> httpx.Response:
        self.task = asyncio.get_running_loop().create_task(self._run())
        message = await self._next()
        if message["type"] != "http.response.start":
            await self.aclose()
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
        return httpx.Response(message["status"], headers=headers, stream=_Body(self))

    async def _run(self) -> None:
        try:
            await self.app(self.scope, self._receive, self._send)
        except Exception as exc:
            self.messages.put_nowait(exc)
        else:
            self.messages.put_nowait(_END)

    async def _receive(self) -> Message:
        if not self.body_sent:
            self.body_sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self.closed.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        self.messages.put_nowait(message)

    async def _next(self) -> Message:
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            # that arrives together with a message (Ctrl-C would then be ignored once).
            async with asyncio.timeout(self.timeout):
                item = await self.messages.get()
        except TimeoutError as exc:
            await self.aclose()
            raise httpx.ReadTimeout("in-process read timed out") from exc
        if isinstance(item, ConnectionDropped):
            await self.aclose()
            raise httpx.RemoteProtocolError("peer closed connection without a complete response")
        if isinstance(item, BaseException):
            await self.aclose()
            raise item
        return item

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            message = await self._next()
            if message["type"] == "_end":
                raise httpx.RemoteProtocolError("incomplete response body")
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def aclose(self) -> None:
        self.closed.set()
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


class _Body(httpx.AsyncByteStream):
    def __init__(self, exchange: _Exchange) -> None:
        self.exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.exchange.chunks():
            yield chunk

    async def aclose(self) -> None:
        await self.exchange.aclose()
