"""Serving the review app with uvicorn on loopback: in the foreground or a thread."""

from __future__ import annotations

import secrets
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn
from starlette.applications import Starlette

from storyboard.providers.emulator.server import bind
from storyboard.review.app import ReviewApp, create_review_app
from storyboard.review.service import ReviewService

__all__ = ["ReviewServer", "new_token"]


def new_token() -> str:
    """A random token for the review URL (like Jupyter's)."""
    return secrets.token_urlsafe(24)


class ReviewServer:
    """``with ReviewServer(service) as server:`` — the review app on 127.0.0.1.

    ``server.url`` is the address to open (token included); port 0 picks a free port.
    :meth:`run` serves in the foreground instead (``storyboard review``).
    """

    def __init__(
        self, service: ReviewService, *, port: int = 0, token: str | None = None, poll: float = 0.3
    ) -> None:
        self.service, self.token = service, token or new_token()
        self.app: Starlette = create_review_app(service, self.token, poll=poll)
        self.sock, self.base_url = bind("127.0.0.1", port)
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{self.base_url}/?token={self.token}"

    @property
    def review(self) -> ReviewApp:
        app: ReviewApp = self.app.state.review
        return app

    def run(self) -> None:
        """Serve until interrupted (blocking)."""
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.review.closed = True
            self.sock.close()

    def __enter__(self) -> Self:
        self._thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.sock]},
            daemon=True,
            name="storyboard-review",
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the review server did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.review.closed = True
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sock.close()
