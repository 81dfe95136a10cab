"""The work of each plan node: upload a file, extract a frame, generate a clip.

The never-pay-twice rules live in :meth:`Steps.generate`: a finished clip is reused; a
task already created (journal state ``submitted``) is polled, not created again; an
intent with no task id (``creating``/``uncertain`` — the process died while createTask
was in flight) is never resubmitted without the user's say-so; a failed generation (501)
becomes a new task only within the retry budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from storyboard.compile import placeholder_for
from storyboard.errors import StoryboardError
from storyboard.filehash import file_sha256
from storyboard.media.frames import extract_last_frame
from storyboard.plan import NodeId, Plan, PlannedGeneration, asset_node
from storyboard.providers.emulator.config import PREVIEW_HINT
from storyboard.providers.kie import (
    CallbackReceiver,
    CreateTaskUncertain,
    DownloadError,
    GenerationFailed,
    KieApiError,
    KieClient,
    NotFound,
    PollPolicy,
    PollTimeout,
    ResultExpired,
    TaskRecord,
)
from storyboard.ratelimit import Limiter, RateLimiter
from storyboard.run.events import Event, EventSink, NodeState
from storyboard.run.sidecar import ClipSidecar, clip_name, write_sidecar
from storyboard.run.slots import chain_lengths, run_slots
from storyboard.store import GenerationRecord, StateStore

__all__ = ["GenerationError", "RunOptions", "Steps", "UncertainTask"]

CALLBACK_SAFETY_POLL = PollPolicy(initial=15.0, factor=1.5, max_interval=60.0, timeout=900.0)
"""Polling kept as a slow safety net while completion callbacks are expected."""

UPLOAD_LIFETIME = 3 * 24 * 3600.0
"""kie.ai deletes uploaded files after 3 days."""


class GenerationError(StoryboardError):
    """A generation did not produce a clip; the message says why and what to do."""


class UncertainTask(GenerationError):
    """createTask may have created a task we have no id for; resubmitting may pay twice."""


@dataclass
class RunOptions:
    """How a run behaves."""

    concurrency: int = 4
    requests_per_second: float = 5.0
    retry_budget: int = 2
    resubmit_uncertain: bool = False
    reuse_uploads: bool = True
    """Reuse uploads journaled by earlier runs (off for a per-process emulator)."""
    slots: AbstractAsyncContextManager[Any] | None = None
    """A shared generation slot (e.g. a cluster-wide semaphore); default: local
    :class:`PrioritySlots` of ``concurrency`` slots, longest chain first."""
    limiter: Limiter | None = None
    """A shared request-rate limiter; default: a local one at ``requests_per_second``."""
    poll: PollPolicy = field(default_factory=PollPolicy)
    callback_url: str | None = None
    """Public URL kie.ai POSTs completions to (sent as ``callBackUrl``); polling then
    slows to :data:`CALLBACK_SAFETY_POLL` and a callback triggers an immediate check."""
    callback_listen: tuple[str, int] = ("127.0.0.1", 8787)
    """Where the run's callback receiver listens (forward ``callback_url`` here)."""
    callbacks: CallbackReceiver | None = None
    """The receiver behind ``callback_url`` (started by the run, or injected by tests)."""
    work_dir: Path | None = None
    """Folder for clips and frames; default: beside the state store."""
    preview_hints: bool = False
    """Tell the offline emulator which scene and take a request is (its animatic shows
    them); set for the offline backend only, never sent to kie.ai."""

    @property
    def folder(self) -> Path:
        if self.work_dir is None:
            raise ValueError("RunOptions.work_dir is not set")
        return self.work_dir


class Steps:
    """Runs plan nodes against one client, one store and one set of limits."""

    def __init__(
        self,
        plan: Plan,
        store: StateStore,
        client: KieClient,
        options: RunOptions,
        *,
        storyboard: str,
        base_dir: Path,
        sink: EventSink,
        nodes: set[NodeId] | None = None,
    ) -> None:
        self.plan, self.store, self.client, self.options = plan, store, client, options
        self.storyboard, self.base_dir, self.sink = storyboard, base_dir, sink
        self.slots = run_slots(options.slots, options.concurrency)
        self.limiter = options.limiter or RateLimiter(
            options.requests_per_second, burst=options.concurrency
        )
        self.submitted: list[str] = []
        self.retries: dict[str, int] = {}
        """Scene id → new tasks created this run after a failed (or lost) one."""
        self._chain = chain_lengths(plan)
        self._finished: set[str] = set()
        self._failed: set[str] = set()
        self._nodes = set(plan.graph.nodes) if nodes is None else nodes
        """The nodes this run executes: only their generations may be expected."""
        for scene, planned in plan.generations.items():
            if not planned.generation.depends_on:
                self._expect(scene)

    def emit(self, node: str, state: NodeState, message: str = "", **data: Any) -> None:
        self.sink(Event(node, state, message, data))

    async def run_node(self, node: NodeId, inputs: Mapping[NodeId, Any]) -> Any:
        """Dispatch on the node kind (the scheduler's callback)."""
        try:
            return await self._run_node(node, inputs)
        except BaseException:
            self._failed.add(node)
            for later in nx.descendants(self.plan.graph, node):  # blocked now: slot not needed
                if later.kind == "generate":
                    self._withdraw(later.name)
            raise

    async def _run_node(self, node: NodeId, inputs: Mapping[NodeId, Any]) -> Any:
        kind, name = node.kind, node.name
        if kind == "upload":
            return await self.upload(node, self.base_dir / name)
        if kind == "frame":
            return await self.frame(node, name, inputs[NodeId("generate", name)])
        if kind == "clip":
            return await self.upload(node, inputs[NodeId("generate", name)])
        if kind in {"generate", "take"}:
            return await self.generate(node, self.plan.planned_for(node), inputs)
        raise ValueError(f"unknown node {node!r}")

    # -- uploads and frames ------------------------------------------------------------

    async def upload(self, node: str, path: Path) -> str:
        """Upload a file once per content (reused until it nears expiry); its URL."""
        digest = await asyncio.to_thread(file_sha256, path)
        known = self.store.find_upload(self.plan.namespace, digest)
        if known and self.options.reuse_uploads:
            self.emit(node, "cached", "already uploaded")
            return known.url
        self.emit(node, "uploading", path.name)
        await self.limiter.acquire()
        name = f"{digest[:20]}{path.suffix.lower()}"
        uploaded = await self.client.upload_file(path, upload_path="storyboard", file_name=name)
        expires = time.time() + UPLOAD_LIFETIME
        self.store.record_upload(
            self.plan.namespace,
            digest,
            uploaded.download_url,
            expires_at=expires,
            source=str(path),
            size=uploaded.file_size,
        )
        self.emit(node, "done", "uploaded")
        return uploaded.download_url

    async def frame(self, node: str, scene: str, clip: Path) -> str:
        """Extract the last frame of ``scene``'s clip and upload it."""
        self.emit(node, "extracting", f"last frame of {scene}")
        out = self.options.folder / "frames" / f"{clip.stem}-last.png"
        if not out.is_file():
            await asyncio.to_thread(extract_last_frame, clip, out)
        return await self.upload(node, out)

    # -- generations -------------------------------------------------------------------

    async def generate(
        self, node: str, planned: PlannedGeneration, inputs: Mapping[NodeId, Any]
    ) -> Path:
        """A clip for this generation, paying only when no clip or task exists."""
        try:
            clip = await self._generate(node, planned, inputs)
        finally:
            self._withdraw(self._slot_key(planned))
        self._done(planned)
        return clip

    async def _generate(
        self, node: str, planned: PlannedGeneration, inputs: Mapping[NodeId, Any]
    ) -> Path:
        record = self.store.generation(planned.key)
        if record and record.clip:
            self.emit(node, "cached", "clip already generated", task_id=record.task_id)
            self._remember(planned)
            return record.clip
        body = self._resolved_body(planned, inputs)
        if record is not None and record.state in {"submitted", "generated", "done"}:
            self._withdraw(self._slot_key(planned))  # polls or downloads without a slot
        resumed = await self._resume(node, planned, record)
        if resumed is not None:
            return resumed
        return await self._generate_new(node, planned, body)

    # -- slots: critical path first (see run.slots) --------------------------------------

    def _expect(self, scene: str) -> None:
        """Keep a slot for ``scene``, whose upstream generations are done, if it needs one."""
        node = NodeId("generate", scene)
        if node not in self._nodes:
            return
        if self._failed & nx.ancestors(self.plan.graph, node):
            return  # an input already failed: it will never ask
        record = self.store.generation(self.plan.generations[scene].key)
        if record is None or record.state in {"failed", "creating", "uncertain"}:
            self.slots.expect(scene, self._chain.get(scene, 1))

    def _withdraw(self, scene: str) -> None:
        self.slots.withdraw(scene)

    def _slot_key(self, planned: PlannedGeneration) -> str:
        """The picked take holds its scene's slot; other takes are ``scene#take``."""
        return planned.scene_id if self._picked(planned) else planned.name

    def _picked(self, planned: PlannedGeneration) -> bool:
        return self.plan.generations[planned.scene_id].take == planned.take

    def _done(self, planned: PlannedGeneration) -> None:
        """The picked take of a scene has (or is downloading) its clip: expect the scenes
        that waited only for it (if the download fails, :meth:`run_node` withdraws them)."""
        scene = planned.scene_id
        if not self._picked(planned) or scene in self._finished:
            return
        self._finished.add(scene)
        for later, planned in self.plan.generations.items():
            needs = planned.generation.depends_on
            if scene in needs and later not in self._finished and self._finished >= set(needs):
                self._expect(later)

    async def _resume(
        self, node: str, planned: PlannedGeneration, record: GenerationRecord | None
    ) -> Path | None:
        if record is None or record.state == "failed":
            return None
        if record.state in {"creating", "uncertain"} and not self.options.resubmit_uncertain:
            self.store.mark_uncertain(planned.key, "createTask was in flight when a run stopped")
            raise UncertainTask(
                f"scene {planned.scene_id!r}: a createTask request was in flight when an "
                "earlier run stopped, so a task may exist that this run cannot see; check the "
                "kie.ai dashboard, then re-run with --resubmit-uncertain to create it again"
            )
        if record.state in {"generated", "done"} and record.result_url and record.task_id:
            what = "a finished task" if record.state == "generated" else "a deleted clip again"
            self.emit(node, "resumed", f"downloading {what}", task_id=record.task_id)
            try:
                return await self._download(node, planned, record.task_id, record.result_url)
            except (DownloadError, KieApiError) as exc:
                message = f"the finished clip can no longer be downloaded ({exc})"
                self.store.task_failed(planned.key, record.task_id, "expired", message)
                self._retrying(node, planned, f"{message}; generating it again")
                return None
        if record.state == "submitted" and record.task_id:
            self.emit(node, "resumed", "polling the task created earlier", task_id=record.task_id)
            try:
                return await self._finish(node, planned, record.task_id)
            except NotFound:
                self.store.task_failed(planned.key, record.task_id, "404", "task not found")
                self._retrying(
                    node, planned, "the service no longer knows the task; creating it again"
                )
        return None

    async def _generate_new(
        self, node: str, planned: PlannedGeneration, body: dict[str, Any]
    ) -> Path:
        attempts = 1 + self.options.retry_budget
        for attempt in range(1, attempts + 1):
            try:
                return await self._attempt(node, planned, body)
            except GenerationFailed as exc:
                self.store.task_failed(planned.key, exc.task_id, exc.fail_code, str(exc))
                if attempt == attempts:
                    raise GenerationError(
                        f"scene {planned.scene_id!r} failed {attempts} time(s); last: "
                        f"{exc.fail_msg or exc}"
                    ) from exc
                self._retrying(
                    node, planned, f"attempt {attempt} failed: {exc.fail_msg}", attempt=attempt + 1
                )
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(self, node: str, planned: PlannedGeneration, body: dict[str, Any]) -> Path:
        self.emit(node, "queued", "waiting for a generation slot")
        async with self._slot(planned):
            await self.limiter.acquire()
            attempt = self.store.begin_attempt(
                planned.key,
                namespace=self.plan.namespace,
                storyboard=self.storyboard,
                scene_id=planned.scene_id,
                canonical=planned.canonical,
            )
            if self.options.callback_url:
                body = {**body, "callBackUrl": self.options.callback_url}
            if self.options.preview_hints:
                hint = {"scene": planned.scene_id, "take": planned.take}
                body = {**body, PREVIEW_HINT: hint}
            try:
                created = await self.client.create_task_data(body, scene=planned.scene_id)
            except CreateTaskUncertain as exc:
                self.store.mark_uncertain(planned.key, str(exc))
                raise UncertainTask(
                    f"scene {planned.scene_id!r}: createTask may have been accepted ({exc}); "
                    "re-run with --resubmit-uncertain after checking the kie.ai dashboard"
                ) from exc
            except Exception as exc:
                self.store.task_failed(planned.key, None, None, str(exc))
                raise
            task_id = created.task_id
            self.store.task_created(
                planned.key,
                task_id,
                attempt,
                planned.estimate.credits,
                record_id=created.record_id,
            )
            self.submitted.append(task_id)
            self.emit(node, "generating", "task created", task_id=task_id)
            record = await self._wait(node, planned, task_id)
            self._done(planned)  # before the slot is freed: the next link keeps it
        return await self._download(node, planned, task_id, _result_url(record))

    def _slot(self, planned: PlannedGeneration) -> AbstractAsyncContextManager[object]:
        chain = self._chain.get(planned.scene_id, 1) if self._picked(planned) else 1
        return self.slots.hold(chain, self._slot_key(planned))

    def _retrying(self, node: str, planned: PlannedGeneration, message: str, **data: Any) -> None:
        """Announce that the generation will be created again (a new task, more credits)."""
        self.retries[planned.name] = self.retries.get(planned.name, 0) + 1
        self.emit(node, "retrying", message, **data)

    async def _finish(self, node: str, planned: PlannedGeneration, task_id: str) -> Path:
        record = await self._wait(node, planned, task_id)
        return await self._download(node, planned, task_id, _result_url(record))

    async def _wait(self, node: str, planned: PlannedGeneration, task_id: str) -> TaskRecord:
        """Wait for the task (the client's one wait loop: polls paced by the run's limiter,
        woken by the task's callback when one is expected); journal the result URL."""
        receiver = self.options.callbacks
        try:
            record = await self.client.wait_for_task(
                task_id,
                scene=planned.scene_id,
                poll=self._poll_policy(),
                on_state=lambda state: self.emit(node, "generating", state, task_id=task_id),
                wake=receiver.wait(task_id) if receiver is not None else None,
                limiter=self.limiter,
            )
        except PollTimeout as exc:
            raise GenerationError(
                f"scene {planned.scene_id!r}: {exc.message}; task {task_id} is kept in the "
                "journal and the next run resumes polling it"
            ) from exc
        self.store.task_succeeded(
            planned.key, task_id, _result_url(record), credits_consumed=record.credits_consumed
        )
        return record

    def _poll_policy(self) -> PollPolicy:
        """The run's poll policy; slowed to a safety net while callbacks are expected."""
        policy = self.options.poll
        if self.options.callbacks is None:
            return policy
        limits = {"timeout": policy.timeout, "not_visible_timeout": policy.not_visible_timeout}
        return CALLBACK_SAFETY_POLL.model_copy(update=limits)

    async def _download(
        self, node: str, planned: PlannedGeneration, task_id: str, url: str
    ) -> Path:
        self.emit(node, "downloading", task_id=task_id)
        dest = self.options.folder / "clips" / clip_name(planned.scene_id, planned.key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        _remove_partial_downloads(dest)
        try:
            await self.client.download(url, dest, task_id=task_id, scene=planned.scene_id)
        except ResultExpired:
            fresh = await self.client.get_download_url(url)
            await self.client.download(fresh, dest, task_id=task_id, scene=planned.scene_id)
        self.store.clip_downloaded(planned.key, dest)
        write_sidecar(
            dest,
            ClipSidecar(
                key=planned.key,
                namespace=self.plan.namespace,
                scene_id=planned.scene_id,
                storyboard=self.storyboard,
                task_id=task_id,
                result_url=url,
                credits=planned.estimate.credits,
                size=dest.stat().st_size,
                canonical=planned.canonical,
            ),
        )
        self._remember(planned)
        self.emit(node, "done", "clip downloaded", task_id=task_id, path=str(dest))
        return dest

    def _remember(self, planned: PlannedGeneration) -> None:
        if not self._picked(planned):
            return
        self.store.use_for_scene(
            self.storyboard, self.plan.namespace, planned.scene_id, planned.key
        )

    def _resolved_body(
        self, planned: PlannedGeneration, inputs: Mapping[NodeId, Any]
    ) -> dict[str, Any]:
        urls: dict[str, str] = {}
        for slot in planned.generation.assets:
            urls[placeholder_for(slot.kind, slot.source)] = inputs[asset_node(slot)]
        body: dict[str, Any] = _substitute(planned.generation.body, urls)
        return body


def _remove_partial_downloads(dest: Path) -> None:
    """Delete what a killed run's download of ``dest`` left (the client writes
    ``.<name>.<random>.part`` beside it and renames it only when complete)."""
    for part in dest.parent.glob(f".{dest.name}.*.part"):
        part.unlink(missing_ok=True)


def _result_url(record: TaskRecord) -> str:
    urls = record.result_urls
    if not urls:
        raise GenerationError(f"task {record.task_id} succeeded without a result URL")
    return urls[0]


def _substitute(value: Any, urls: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, urls) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, urls) for v in value]
    return urls.get(value, value) if isinstance(value, str) else value
