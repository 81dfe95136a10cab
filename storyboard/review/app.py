"""The review web app (Starlette): the page, its live updates, media, and the actions.

Every request needs the token the server printed (query ``?token=`` once, then a cookie);
actions are POST only and need it in the ``X-Storyboard-Token`` header (a cookie alone
is not enough, so another site cannot post on the user's behalf). Media ids are looked
up in the board's :class:`~storyboard.review.board.MediaIndex`: no path from a request
reaches the file system.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from storyboard.review.board import Board
from storyboard.review.dag import dag_svg
from storyboard.review.service import ActionRefused, ReviewService, Unavailable

__all__ = ["COOKIE", "HEADER", "ReviewApp", "create_review_app"]

COOKIE = "storyboard_review"
HEADER = "x-storyboard-token"
_TEMPLATES = Path(__file__).parent / "templates"
Handler = Callable[[Request], Awaitable[Response]]


class ReviewApp:
    """Routes over one :class:`ReviewService`, guarded by ``token``."""

    def __init__(self, service: ReviewService, token: str, *, poll: float = 0.3) -> None:
        self.service, self.token, self.poll = service, token, poll
        self.closed = False
        self.env = Environment(
            loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"])
        )

    # -- guards --------------------------------------------------------------------------

    def _valid(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given), self.token)

    def guard_get(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            given = request.query_params.get("token") or request.cookies.get(COOKIE)
            if not self._valid(given):
                return _refused("open the address with ?token= that `storyboard review` printed")
            return await handler(request)

        return guarded

    def guard_post(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            if not self._valid(request.headers.get(HEADER)):
                return _refused(f"actions need the {HEADER} header")
            try:
                return await handler(request)
            except ActionRefused as exc:
                return JSONResponse({"error": str(exc)}, 409)
            except Unavailable as exc:
                return JSONResponse({"error": str(exc)}, 409)

        return guarded

    # -- pages ---------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        html = self.env.get_template("page.html").render(token=self.token, **await self._context())
        response = HTMLResponse(html, headers={"Cache-Control": "no-store"})
        response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
        return response

    async def fragment(self, request: Request) -> Response:
        html = self.env.get_template("board.html").render(**await self._context())
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    async def _context(self) -> dict[str, Any]:
        try:
            board = await asyncio.to_thread(self.service.board)
        except Unavailable as exc:
            return {
                "board": None,
                "problems": exc.problems,
                "job": self.service.job,
                "dag": "",
                "path": self.service.path.name,
            }
        dag = await asyncio.to_thread(self._dag)
        return {
            "board": board,
            "problems": [],
            "job": self.service.job,
            "dag": dag,
            "path": self.service.path.name,
        }

    def _dag(self) -> str:
        prepared = self.service.prepare()
        every = prepared.all_status()
        status: dict[str, str] = {
            prepared.plan.take_node(p): every[p.name].kind
            for t in prepared.plan.takes.values()
            for p in t.values()
        }
        return dag_svg(prepared.plan, status)

    async def events(self, request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            last = ""
            yield "retry: 1000\n\n"
            while not self.closed and not await request.is_disconnected():
                now = await asyncio.to_thread(self.service.fingerprint)
                if now != last:
                    last = now
                    yield f"event: changed\ndata: {json.dumps(now)}\n\n"
                await asyncio.sleep(self.poll)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    async def media(self, request: Request) -> Response:
        media_id = str(request.path_params["media_id"])
        path = await asyncio.to_thread(self._media_path, media_id)
        if path is None:
            return JSONResponse({"error": "no such media in the journal or lock file"}, 404)
        kind = "video/mp4" if path.suffix == ".mp4" else "image/png"
        return FileResponse(path, media_type=kind, headers={"Cache-Control": "no-cache"})

    def _media_path(self, media_id: str) -> Path | None:
        try:
            board: Board = self.service.board()
        except Unavailable:
            return None
        index = board.media
        if media_id == "edit":
            return index.edit
        if media_id in index.clips:
            return index.clips[media_id]
        found = index.clip_for_frame(media_id)
        return self.service.frame(*found) if found else None

    # -- actions -------------------------------------------------------------------------

    async def pick(self, request: Request) -> Response:
        data = await _json(request)
        scene, take = str(data.get("scene", "")), _int(data.get("take"), "take")
        return JSONResponse(await asyncio.to_thread(self.service.pick, scene, take))

    async def generate(self, request: Request) -> Response:
        """Reroll (``scene``, ``n``) or render the stale takes (no scene): a quote without
        ``confirm``, the job started with it."""
        data = await _json(request)
        scene = str(data["scene"]) if data.get("scene") else None
        n = _int(data.get("n", 1), "n")
        if not 1 <= n <= 4:
            raise ActionRefused("n must be 1-4")
        if not data.get("confirm"):
            quote = await asyncio.to_thread(self.service.quote, scene, n)
            return JSONResponse({"confirm": True, **quote.to_json()})
        quote = await asyncio.to_thread(self.service.start, scene, n)
        return JSONResponse({"started": True, **quote.to_json()}, 202)

    async def note(self, request: Request) -> Response:
        data = await _json(request)
        await asyncio.to_thread(
            self.service.note, str(data.get("scene", "")), str(data.get("text", ""))
        )
        return JSONResponse({"ok": True})


def create_review_app(service: ReviewService, token: str, *, poll: float = 0.3) -> Starlette:
    """The Starlette app; ``app.state.review`` is the :class:`ReviewApp`."""
    review = ReviewApp(service, token, poll=poll)
    get, post = review.guard_get, review.guard_post
    routes = [
        Route("/", get(review.page), methods=["GET"]),
        Route("/board", get(review.fragment), methods=["GET"]),
        Route("/events", get(review.events), methods=["GET"]),
        Route("/media/{media_id:str}", get(review.media), methods=["GET"]),
        Route("/api/pick", post(review.pick), methods=["POST"]),
        Route("/api/generate", post(review.generate), methods=["POST"]),
        Route("/api/note", post(review.note), methods=["POST"]),
    ]
    hosts = Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])
    app = Starlette(routes=routes, middleware=[hosts])
    app.state.review = review
    return app


def _refused(why: str) -> Response:
    return JSONResponse({"error": f"forbidden: {why}"}, 403)


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError as exc:
        raise ActionRefused("the request body must be JSON") from exc
    if not isinstance(data, dict):
        raise ActionRefused("the request body must be a JSON object")
    return data


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ActionRefused(f"{name} must be a whole number") from exc
