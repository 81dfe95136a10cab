"""The emulator's behaviour, without HTTP: accounts, tasks and their lifecycle, rendering,
stored files, callbacks and counters. :mod:`.app` maps kie.ai's endpoints onto it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import itertools
import logging
import math
import random
import secrets
import tempfile
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import anyio
import httpx

from storyboard.kling import check_request
from storyboard.pricing import estimate
from storyboard.providers.emulator.config import (
    INPROCESS_BASE_URL,
    PREVIEW_HINT,
    EmulatorConfig,
    Renderer,
)
from storyboard.providers.emulator.faults import FaultInjector
from storyboard.providers.emulator.live import (
    live_latency,
    live_record,
    live_task_id,
    normalise_body,
)
from storyboard.providers.emulator.state import (
    ApiFailure,
    Counters,
    StoredFile,
    Task,
    envelope,
    iso_time,
    ms,
    task_record,
    task_state,
)
from storyboard.providers.emulator.uploads import decode_base64_data
from storyboard.providers.kie.callbacks import signature_headers
from storyboard.ratelimit import TokenBucket

__all__ = ["Emulator"]

logger = logging.getLogger("storyboard.emulator")

_CLOCK_STEP = 0.05
"""Longest sleep between looks at the clock while a task waits out its latency."""


class Emulator:
    """An in-memory kie.ai account: tasks, uploads, credits, faults and counters."""

    def __init__(self, config: EmulatorConfig | None = None, *, base_url: str | None = None):
        self.config = config or EmulatorConfig()
        self.base_url = (base_url or self.config.public_base_url or INPROCESS_BASE_URL).rstrip("/")
        self.faults = FaultInjector(self.config.faults)
        self.counters = Counters()
        self.credits: float = self.config.credits
        self.tasks: dict[str, Task] = {}
        self.uploads: dict[str, StoredFile] = {}
        self.results: dict[str, StoredFile] = {}
        self.links: dict[str, tuple[str, float]] = {}
        # Millisecond start plus a random part: emulators started together (one per
        # process or per render) must not hand out the same task ids.
        self._ids = itertools.count(ms(self.config.clock()) * 10**6 + secrets.randbelow(10**6))
        self._pool = ThreadPoolExecutor(
            max_workers=self.config.render_concurrency, thread_name_prefix="emulator-render"
        )
        self._tmp = (
            tempfile.TemporaryDirectory(prefix="kie-emulator-", ignore_cleanup_errors=True)
            if self.config.storage_dir is None
            else None
        )
        self.storage = Path(self._tmp.name) if self._tmp else Path(self.config.storage_dir or ".")
        self._drivers: set[asyncio.Task[None]] = set()
        rate = self.config.rate_limit
        self._limiter = TokenBucket(rate, max(1.0, rate)) if rate else None
        self._timing = random.Random(self.config.faults.seed)
        self._id_rng = random.Random(secrets.randbits(64))

    @property
    def live(self) -> bool:
        """True under the ``live`` profile (answers as recorded kie.ai traffic shows)."""
        return self.config.profile == "live"

    def __repr__(self) -> str:
        return f"Emulator(base_url={self.base_url!r}, tasks={len(self.tasks)})"

    @property
    def now(self) -> float:
        """The emulator's clock (seconds)."""
        return self.config.clock()

    # -- requests ----------------------------------------------------------------------

    def authorize(self, header: str | None) -> None:
        """Raise 401 unless ``header`` is ``Bearer <the configured key>``."""
        scheme, _, key = (header or "").partition(" ")
        expected = self.config.api_key.encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip().encode(), expected):
            raise ApiFailure(401, "You do not have access permissions: missing or invalid API key")

    def throttle(self) -> None:
        """Raise 429 (with Retry-After) when calls come faster than ``rate_limit``."""
        wait = self._limiter.admit(self.now) if self._limiter else None
        if wait is not None:
            after = str(max(1, math.ceil(wait)))
            raise ApiFailure(429, self.rate_limit_message, {"Retry-After": after})

    @property
    def rate_limit_message(self) -> str:
        """The 429 message (the live service's own words under the live profile)."""
        if self.live:
            return "Your call frequency is too high. Please try again later."
        return "Rate limited: too many requests"

    def count_call(self, endpoint: str) -> None:
        """Count one API call (before any fault is injected)."""
        self.counters.requests += 1
        if endpoint == "createTask":
            self.counters.create_task_calls += 1
        elif endpoint == "recordInfo":
            self.counters.polls += 1

    # -- tasks -------------------------------------------------------------------------

    def create_task(self, body: Any) -> Task:
        """Validate, charge and start a generation."""
        if not isinstance(body, Mapping):
            raise ApiFailure(422, "the request body must be a JSON object")
        body, preview = _preview_hint(body)
        self._check_prompt_lengths(body)
        if self.live:
            body = normalise_body(body)
        errors = [v for v in check_request(body, self.config.limits) if v.severity == "error"]
        if errors:
            raise ApiFailure(422, "; ".join(str(v) for v in errors))
        cost = estimate(body, self.config.prices).credits
        if cost > self.credits:
            raise ApiFailure(
                402, f"Insufficient credits: this generation costs {cost}, {self.credits} left"
            )
        self.credits -= cost
        self.counters.credits_spent += cost
        task = Task(
            task_id=self._new_task_id(),
            body=dict(body),
            created=self.now,
            cost=cost,
            will_fail=self.faults.roll("generation_fail") is not None,
            latency=self._latency(body),
            preview=preview,
        )
        self.tasks[task.task_id] = task
        self.counters.tasks_created += 1
        self._start(task)
        return task

    def _check_prompt_lengths(self, body: Mapping[str, Any]) -> None:
        """Refuse an oversized prompt before any other work (a hostile body must not
        reach the rules or the renderer)."""
        data = body.get("input")
        if not isinstance(data, Mapping):
            return
        prompt, most = data.get("prompt"), self.config.limits.single_prompt_chars
        if isinstance(prompt, str) and len(prompt) > most:
            raise ApiFailure(422, f"prompt is {len(prompt)} characters; the limit is {most}")
        shots = data.get("multi_prompt")
        for index, shot in enumerate(shots if isinstance(shots, list) else []):
            text = shot.get("prompt") if isinstance(shot, Mapping) else None
            if isinstance(text, str) and len(text) > most:
                raise ApiFailure(
                    422, f"multi_prompt[{index}].prompt is {len(text)} characters; too long"
                )

    def _new_task_id(self) -> str:
        return live_task_id(self._id_rng) if self.live else f"task_kling-3.0_{next(self._ids)}"

    def _latency(self, body: Mapping[str, Any]) -> float:
        scale = self.config.time_scale
        return self.config.latency if scale is None else live_latency(body, self._timing, scale)

    def record(self, task_id: str | None) -> dict[str, Any] | None:
        """recordInfo ``data`` of a task (None: the live service's ``data: null``)."""
        if not task_id:
            raise ApiFailure(422, "taskId is required")
        task = self.tasks.get(task_id)
        if task is None:
            raise ApiFailure(404, f"task {task_id} not found")
        task.polls += 1
        if task.polls <= self.config.record_null_polls:
            if task.polls % 2:
                raise ApiFailure(422, "recordInfo is null")
            return None
        return self.record_data(task)

    def record_data(self, task: Task) -> dict[str, Any]:
        """A task's record in the profile's shape."""
        record = task_record(task, self.now, self.result_url(task), live=self.live)
        if not self.live:
            return record
        spent = None
        if task.outcome is not None:
            refunded = task.outcome == "fail" and self.config.refund_failed
            spent = 0.0 if refunded else task.cost
        return live_record(record, spent)

    def result_url(self, task: Task) -> str | None:
        """The public URL of a finished task's clip (live: the result CDN's
        ``k/<taskId>_1_<unix>_<n>.mp4`` form, under the separate ``/files`` prefix)."""
        if not task.result_file:
            return None
        if self.live:
            stamp = int(task.finished if task.finished is not None else task.created)
            return f"{self.base_url}/files/results/k/{task.task_id}_1_{stamp}_0.mp4"
        return f"{self.base_url}/files/results/{task.task_id}.mp4"

    def _start(self, task: Task) -> None:
        driver = asyncio.get_running_loop().create_task(self._drive(task))
        self._drivers.add(driver)
        driver.add_done_callback(self._drivers.discard)

    async def _drive(self, task: Task) -> None:
        try:
            if not task.will_fail:
                await self._render(task)
            await self._until(task.created + task.latency)
            self._finish(task)
            if task.callback_url:
                await self._send_callback(task)
        except Exception:  # the driver must never die silently
            logger.exception("emulator: task %s broke", task.task_id)
            task.fail_code, task.fail_msg = "500", "internal emulator error"
            self._finish(task)

    async def _until(self, due: float) -> None:
        """Sleep until the emulator's clock reaches ``due`` (a test may move the clock)."""
        while (remaining := due - self.now) > 0:  # noqa: ASYNC110 - the clock is injectable
            await asyncio.sleep(min(remaining, _CLOCK_STEP))

    async def _render(self, task: Task) -> None:
        out = self.storage / f"{task.task_id}.mp4"
        try:
            renderer = self.config.renderer or _animatic()
            hints: dict[str, Any] = {"label": task.task_id}
            if task.preview is not None and self.config.renderer is None:
                scene, take = task.preview
                hints = {"label": f"{scene} · take {take}", "take": take}
            call = functools.partial(
                renderer, task.body, out, fetch_asset=self.fetch_asset, **hints
            )
            path = await asyncio.get_running_loop().run_in_executor(self._pool, call)
        except Exception as exc:
            logger.warning("emulator: rendering %s failed: %s", task.task_id, exc)
            task.fail_code, task.fail_msg = "500", f"rendering failed: {exc}"
            return
        self.counters.renders += 1
        size = (await anyio.Path(path).stat()).st_size
        task.result_file = str(path)
        self.results[task.task_id] = StoredFile(
            Path(path).name, "video/mp4", size, self.now, float("inf"), path=Path(path)
        )

    def _finish(self, task: Task) -> None:
        task.finished = self.now
        if task.will_fail or task.fail_code:
            task.outcome = "fail"
            task.fail_code = task.fail_code or "501"
            task.fail_msg = task.fail_msg or "Generation failed (emulated fault)"
            task.result_file = None
            if self.config.refund_failed:
                self.credits += task.cost
                self.counters.credits_spent -= task.cost
        else:
            task.outcome = "success"
            self.results[task.task_id].expires = task.finished + self.config.result_ttl

    async def _send_callback(self, task: Task) -> None:
        assert task.callback_url is not None
        success = task.outcome == "success"
        body = envelope(
            200 if success else 501,
            "success" if success else task.fail_msg or "failed",
            self.record_data(task),
        )
        headers = {}
        if self.config.hmac_key:
            headers = signature_headers(self.config.hmac_key, task.task_id, self.now)
        transport = (
            _Borrowed(self.config.callback_transport) if self.config.callback_transport else None
        )
        try:
            async with httpx.AsyncClient(transport=transport, timeout=10) as http:
                response = await http.post(task.callback_url, json=body, headers=headers)
            delivered = response.status_code < 300
        except httpx.HTTPError as exc:
            logger.warning("emulator: callback for %s failed: %s", task.task_id, exc)
            delivered = False
        if delivered:
            self.counters.callbacks_sent += 1
        else:
            self.counters.callbacks_failed += 1

    # -- files -------------------------------------------------------------------------

    def store_upload(self, key: str, content: bytes, mime: str) -> dict[str, Any]:
        """Store an upload under ``key`` (same key overwrites); return its ``data``."""
        now = self.now
        name = key.rsplit("/", 1)[-1]
        self.uploads[key] = StoredFile(
            name, mime, len(content), now, now + self.config.upload_ttl, content=content
        )
        self.counters.uploads += 1
        return {
            **({"success": True} if self.live else {}),
            "fileName": name,
            "filePath": key,
            "downloadUrl": f"{self.base_url}/files/uploads/{key}",
            "fileSize": len(content),
            "mimeType": mime,
            "uploadedAt": iso_time(now),
        }

    def served_file(self, kind: str, name: str) -> StoredFile | None:
        """The live file behind ``/files/{kind}/{name}``, or None (missing or expired)."""
        found: StoredFile | None = None
        if kind == "uploads":
            found = self.uploads.get(name)
        elif kind == "results":
            live = name.startswith("k/")
            stem = name.removeprefix("k/").removesuffix(".mp4")
            found = self.results.get(stem.split("_", 1)[0] if live else stem)
        elif kind == "dl":
            token, _, _ = name.partition("/")
            task_id, expires = self.links.get(token, ("", 0.0))
            found = self.results.get(task_id) if self.now < expires else None
        if found is None or self.now >= found.expires:
            return None
        return found

    def own_file(self, url: str) -> StoredFile | None:
        """The file behind one of the emulator's own URLs."""
        if not url.startswith(self.base_url + "/files/"):
            return None
        kind, _, name = unquote(urlsplit(url).path).removeprefix("/files/").partition("/")
        return self.served_file(kind, name)

    def download_link(self, url: Any) -> str:
        """A temporary link to a generated file (download-url)."""
        found = self.own_file(url) if isinstance(url, str) else None
        task_id = next((t for t, f in self.results.items() if f is found), None)
        if found is None or task_id is None:
            message = "url is wrong" if self.live else "url must be a live file generated here"
            raise ApiFailure(422, message)
        token = secrets.token_urlsafe(12)
        self.links[token] = (task_id, self.now + self.config.download_url_ttl)
        return f"{self.base_url}/files/dl/{token}/{task_id}.mp4"

    def fetch_asset(self, url: str) -> bytes | None:
        """Bytes of an asset the renderer asks for: own URLs and data URLs, no network."""
        if url.startswith("data:"):
            return decode_base64_data(url)[0]
        found = self.own_file(url)
        if found is None:
            return None
        return found.content if found.content is not None else _read(found)

    # -- stats and lifecycle -----------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters, tasks by state, credits and injected faults (``/emulator/stats``)."""
        now = self.now
        states = Counter(
            task_state(task, now, live=self.live) for task in list(self.tasks.values())
        )
        return {
            **self.counters.as_dict(),
            "tasks_by_state": dict(states),
            "credits_left": self.credits,
            "faults_injected": dict(self.faults.injected),
        }

    async def aclose(self) -> None:
        """Stop running tasks and renders; remove the temporary storage."""
        for driver in list(self._drivers):
            driver.cancel()
        await asyncio.gather(*self._drivers, return_exceptions=True)
        shutdown = functools.partial(self._pool.shutdown, wait=True, cancel_futures=True)
        await asyncio.get_running_loop().run_in_executor(None, shutdown)
        if self._tmp is not None:
            self._tmp.cleanup()


def _read(found: StoredFile) -> bytes | None:
    with contextlib.suppress(OSError):
        return found.path.read_bytes() if found.path else None
    return None


def _preview_hint(body: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, int] | None]:
    """The body without storyboard's preview hint, and the hint (scene, take) if valid."""
    rest = {k: v for k, v in body.items() if k != PREVIEW_HINT}
    hint = body.get(PREVIEW_HINT)
    if isinstance(hint, Mapping):
        scene, take = hint.get("scene"), hint.get("take")
        if isinstance(scene, str) and isinstance(take, int) and not isinstance(take, bool):
            return rest, (scene[:80], max(1, take))
    return rest, None


def _animatic() -> Renderer:
    """The animatic renderer (imported late: it is heavy, and optional for tests)."""
    try:
        from storyboard.providers.animatic import render_animatic
    except ImportError as exc:
        raise RuntimeError("the animatic renderer is not available") from exc
    return render_animatic


class _Borrowed(httpx.AsyncBaseTransport):
    """A transport lent to a short-lived client: closing the client leaves it open."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self.transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.transport.handle_async_request(request)
