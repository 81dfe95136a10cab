"""One storyboard of a batch: what to render, how, and what became of it.

:func:`render_job` renders one job with :func:`storyboard.run.render.render_async`
(generation + assembly) and never raises for a failure of its own: it returns a
:class:`JobResult`. :func:`run_job` is the same for a Dask worker (synchronous, builds
its backend from the worker's environment and opens the cluster-wide limits).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from storyboard.errors import StoryboardError
from storyboard.ratelimit import Limiter
from storyboard.run.backend import Backend, BackendName, BackendUnavailable, choose_backend
from storyboard.run.lock import shared_journal_lock
from storyboard.run.outputs import PathResolver, overwritten_input
from storyboard.run.render import RenderOutcome
from storyboard.run.session import RenderSession
from storyboard.run.steps import RunOptions
from storyboard.validate import Report, StoryboardInvalid

if TYPE_CHECKING:
    from storyboard.recipes.limits import ClusterLimits

__all__ = [
    "Job",
    "JobResult",
    "JobStatus",
    "RenderSettings",
    "hold_journals",
    "output_problem",
    "render_job",
    "run_job",
]

JobStatus = Literal["done", "cached", "failed", "invalid"]


@dataclass(frozen=True)
class Job:
    """One storyboard to render: a row (and variant), its file, its output, its journal."""

    row_number: int
    variant: str | None
    where: str
    """Where its values came from: ``rows.csv:7``, or ``--param``."""
    storyboard: Path
    output: Path
    state: Path
    inputs: tuple[Path, ...] = ()
    """The files the batch read for it besides its storyboard: the recipe, the rows file,
    the files its values name (before they were staged); its output may not be one."""

    @property
    def label(self) -> str:
        return f"row {self.row_number}" + (f" ({self.variant})" if self.variant else "")

    @property
    def key(self) -> str:
        """A name unique within the batch (Dask task keys, progress lines)."""
        return f"row-{self.row_number:04d}" + (f"-{self.variant}" if self.variant else "")


@dataclass(frozen=True)
class RenderSettings:
    """How every job of a batch is rendered (plain data: it travels to Dask workers)."""

    backend: BackendName
    namespace: str
    """The store namespace the driver planned with; a worker whose environment points at
    another service refuses to render rather than pay there."""
    concurrency: int = 4
    rate: float = 5.0
    retry_budget: int = 2
    resubmit_uncertain: bool = False
    """Create again tasks whose createTask was in flight when a process died (may pay
    twice; see ``storyboard render --resubmit-uncertain``)."""
    shared: bool = False
    """Limits are global (a paid or served service all jobs share); offline jobs each
    talk to their own in-process emulator, so their limits are their own. Shared jobs
    also share the batch's journal, whose lock the batch holds (see :func:`hold_journals`);
    other jobs lock their own journal."""

    def options(
        self,
        backend: Backend,
        slots: AbstractAsyncContextManager[Any] | None,
        limiter: Limiter | None,
    ) -> RunOptions:
        """The session's options for ``backend`` with the batch's limits."""
        return RenderSession(backend).options(
            resubmit_uncertain=self.resubmit_uncertain,
            concurrency=self.concurrency,
            requests_per_second=self.rate,
            retry_budget=self.retry_budget,
            slots=slots,
            limiter=limiter,
        )


@dataclass
class JobResult:
    """What became of one job."""

    row_number: int
    variant: str | None
    where: str
    status: JobStatus
    output: str | None = None
    credits: float = 0.0
    tasks_created: int = 0
    elapsed: float = 0.0
    error: str | None = None
    diagnostics: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    """Content keys of the job's generations (equal keys = equal clips)."""
    worker: str | None = None

    @property
    def label(self) -> str:
        return f"row {self.row_number}" + (f" ({self.variant})" if self.variant else "")

    @classmethod
    def of(cls, job: Job, status: JobStatus, **values: Any) -> JobResult:
        return cls(job.row_number, job.variant, job.where, status, **values)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


async def render_job(
    job: Job,
    settings: RenderSettings,
    backend: Backend,
    slots: AbstractAsyncContextManager[Any] | None = None,
    limiter: Limiter | None = None,
    *,
    lock: bool = True,
) -> JobResult:
    """Generate what is not cached and assemble the job's output; a result, never raises
    for a failure of the job itself. ``lock``: take the job's journal lock (shared with
    the other jobs of this process); off where the batch's driver holds it."""
    started = time.monotonic()
    try:
        outcome = await RenderSession(backend).render(
            job.storyboard,
            output=job.output,
            state_path=job.state,
            inputs=job.inputs,
            options=settings.options(backend, slots, limiter),
            lock=lock,
        )
    except StoryboardInvalid as exc:
        return JobResult.of(
            job,
            "failed",
            error="the storyboard is invalid",
            diagnostics=[str(d) for d in exc.diagnostics],
            elapsed=time.monotonic() - started,
        )
    except StoryboardError as exc:  # the job fails (e.g. its journal is in use); the batch goes on
        return JobResult.of(job, "failed", error=str(exc), elapsed=time.monotonic() - started)
    except Exception as exc:  # the job fails; the batch goes on
        return JobResult.of(
            job, "failed", error=f"{type(exc).__name__}: {exc}", elapsed=time.monotonic() - started
        )
    return _result(job, outcome, time.monotonic() - started)


def _result(job: Job, outcome: RenderOutcome, elapsed: float) -> JobResult:
    run = outcome.result
    keys = [p.key for p in outcome.prepared.plan.generations.values()]
    common: dict[str, Any] = {
        "credits": run.credits,
        "tasks_created": len(run.submitted),
        "elapsed": elapsed,
        "keys": keys,
        "worker": _where_am_i(),
    }
    if not outcome.ok:
        errors = [f"{s}: {g.error}" for s, g in run.generations.items() if not g.ok]
        errors += [f"{n}: {e}" for n, e in run.other_failures.items()]
        return JobResult.of(job, "failed", error="; ".join(errors) or "failed", **common)
    cached = not run.submitted and outcome.edit is not None and outcome.edit.reused
    output = str(outcome.edit.path) if outcome.edit else None
    return JobResult.of(job, "cached" if cached else "done", output=output, **common)


@contextmanager
def hold_journals(
    jobs: Iterable[Job],
    settings: RenderSettings,
    *,
    wait: bool = False,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the batch's journal lock while its jobs run, when they share one journal
    (``settings.shared``): another batch or render on the same folder is then refused
    (:class:`~storyboard.run.lock.JournalBusy`) or, with ``wait``, waits; the jobs in
    this process share the lock, and Dask workers leave it to this holder."""
    journals = sorted({job.state for job in jobs}) if settings.shared else []
    with ExitStack() as held:
        for journal in journals:
            held.enter_context(shared_journal_lock(journal, wait=wait, on_wait=on_wait))
        yield


def output_problem(job: Job, report: Report, resolve: PathResolver | None = None) -> str | None:
    """Why the job's output may not be written (it, or a hand-off beside it, would
    overwrite an input: the recipe, the rows, a file a value names, the storyboard's
    files, the journal); None when it may. ``resolve``: one for the whole batch."""
    what = overwritten_input(job.output, report, job.state, job.inputs, resolve=resolve)
    if what is None:
        return None
    return f"{job.label} ({job.where}) writes {job.output}, which would overwrite {what}"


def _where_am_i() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# -- on a Dask worker --------------------------------------------------------------------


def run_job(
    job: Job, settings: RenderSettings, limits: ClusterLimits | None, *after: Any
) -> JobResult:
    """Render ``job`` on a Dask worker (``after``: results this job waits for, unused).

    The backend comes from the worker's own environment (KIE_API_KEY stays there); the
    generation slots and request rate are the cluster-wide ones in ``limits``. A shared
    journal's lock is the driver's (:func:`hold_journals`); a job's own journal is locked
    here.
    """
    try:
        backend = worker_backend(settings)
    except BackendUnavailable as exc:
        return JobResult.of(job, "failed", error=str(exc), worker=_where_am_i())
    lock = not settings.shared
    if limits is None:
        return asyncio.run(render_job(job, settings, backend, lock=lock))
    with limits.open() as (slots, limiter):
        return asyncio.run(render_job(job, settings, backend, slots, limiter, lock=lock))


def worker_backend(settings: RenderSettings) -> Backend:
    """The backend the driver planned with, rebuilt from this process's environment."""
    backend = choose_backend(settings.backend)
    if backend.namespace != settings.namespace:
        raise BackendUnavailable(
            f"this worker would talk to {backend.namespace!r}, but the batch was planned for "
            f"{settings.namespace!r}: give the workers the same KIE_* environment as the client"
        )
    return backend
