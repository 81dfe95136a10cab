"""A batch: rows (× variants) of a recipe → storyboards → rendered videos.

:func:`plan_batch` does everything short of generating, for every row first: resolve
and check the values, fill the template, write the storyboard into the work folder,
validate it (file:line), plan it, read its cache status and cost. A bad row becomes an
``invalid`` result naming its row; the good rows go on. :func:`run_batch` then renders
the jobs not already done — in-process (asyncio, several at once) or on a Dask client —
and :class:`BatchResult` sums up done, cached, failed, invalid and credits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.assets import resolve_asset
from storyboard.diagnostics import Diagnostic
from storyboard.filehash import file_sha256
from storyboard.load import LoadedStoryboard
from storyboard.plan import PlanError, build_plan, picked_generations
from storyboard.pricing import DEFAULT_PRICES, Estimate
from storyboard.ratelimit import RateLimiter
from storyboard.recipes.instantiate import InstanceInvalid, file_values, instantiate
from storyboard.recipes.jobs import Job, JobResult, RenderSettings, output_problem, render_job
from storyboard.recipes.load import LoadedRecipe, RecipeInvalid
from storyboard.recipes.params import FixedLayers, Layer, check_layer, resolve_values
from storyboard.recipes.rows import Row, read_rows
from storyboard.recipes.skeleton import Skeletons
from storyboard.recipes.workdir import WORK_FOLDER, staged_names, write_instance
from storyboard.run.backend import Backend, BackendName, choose_backend
from storyboard.run.outputs import PathResolver
from storyboard.run.render import Prepared, assembly_key, default_state_path
from storyboard.run.status import plan_status
from storyboard.store import StateStore
from storyboard.validate import Report, Shared, validate_loaded

__all__ = [
    "BatchPlan",
    "BatchResult",
    "PlannedJob",
    "chain_jobs",
    "is_done",
    "journal_path",
    "plan_batch",
    "run_batch",
    "run_inprocess",
]

OnResult = Callable[[JobResult], None]


@dataclass
class PlannedJob:
    """A valid job with its content keys, cache status and cost — a summary of its plan,
    so a batch of 10,000 rows holds no storyboards or graphs in memory."""

    job: Job
    keys: list[str]
    """Content keys of its generations (equal keys = equal clips)."""
    status: dict[str, str]
    """Scene -> cache status (cached, new, stale, resume, uncertain)."""
    estimates: dict[str, Estimate]
    """Content key -> estimate of each generation the next run pays for."""
    prices: str
    """Where the prices come from."""
    cached: bool
    """Every generation cached and the output assembled from them: nothing to do."""
    warnings: list[str] = field(default_factory=list)
    """The storyboard's warnings (e.g. a first frame whose shape differs from the ratio)."""

    @classmethod
    def of(cls, job: Job, prepared: Prepared, warnings: list[str]) -> PlannedJob:
        """The summary of ``prepared`` (whether it is done is read from its journal)."""
        plan, status = prepared.plan, prepared.status
        return cls(
            job,
            [p.key for p in plan.generations.values()],
            {s: st.kind for s, st in status.items()},
            {p.key: p.estimate for s, p in plan.generations.items() if status[s].will_pay},
            plan.prices.source,
            is_done(prepared, job.output),
            warnings,
        )

    def paying(self) -> dict[str, Estimate]:
        """Content key -> estimate of each generation the next run pays for."""
        return self.estimates


@dataclass
class BatchPlan:
    """Every job of a batch, validated and planned; nothing generated yet."""

    recipe: LoadedRecipe
    out_dir: Path
    backend: Backend
    settings: RenderSettings
    budget: float | None
    jobs: list[PlannedJob] = field(default_factory=list)
    invalid: list[JobResult] = field(default_factory=list)

    @property
    def work_dir(self) -> Path:
        """``<out>/.storyboards/<recipe>``: the storyboards, their files, their journal."""
        return self.out_dir / WORK_FOLDER / self.recipe.name

    @property
    def to_run(self) -> list[PlannedJob]:
        return [j for j in self.jobs if not j.cached]

    def cost(self) -> dict[str, Any]:
        """What the batch would pay for: each distinct generation once."""
        paying: dict[str, Estimate] = {}
        for planned in self.jobs:
            paying.update(planned.paying())
        prices = self.jobs[0].prices if self.jobs else ""
        return {
            "credits": sum(e.credits for e in paying.values()),
            "generations": len(paying),
            "seconds": sum(e.seconds for e in paying.values()),
            "usd": round(sum(e.usd for e in paying.values()), 2),
            "prices": prices,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe.name,
            "backend": self.backend.description,
            "out": str(self.out_dir),
            "estimate": self.cost(),
            "jobs": [_planned_json(j) for j in self.jobs],
            "invalid": [r.to_json() for r in self.invalid],
        }


def _planned_json(planned: PlannedJob) -> dict[str, Any]:
    job, status = planned.job, planned.status
    return {
        "row": job.row_number,
        "variant": job.variant,
        "where": job.where,
        "storyboard": str(job.storyboard),
        "output": str(job.output),
        "status": "cached" if planned.cached else "to render",
        "generations": dict(status),
        "credits": sum(e.credits for e in planned.paying().values()),
        "warnings": planned.warnings,
    }


# -- planning ----------------------------------------------------------------------------


def plan_batch(
    loaded: LoadedRecipe,
    out_dir: Path,
    *,
    params: Mapping[str, Any] | None = None,
    rows_file: Path | None = None,
    cwd: Path | None = None,
    backend: BackendName | Backend | None = None,
    concurrency: int | None = None,
    rate: float | None = None,
    budget: float | None = None,
    resubmit_uncertain: bool = False,
) -> BatchPlan:
    """Resolve, instantiate, write, validate and plan every job (raises
    :class:`RecipeInvalid` for bad ``--param`` values, ``RowsInvalid`` for an unusable rows
    file, ``BackendUnavailable``); bad rows become ``invalid`` results."""
    run = loaded.recipe.run
    chosen = backend if isinstance(backend, Backend) else _backend(backend, run.backend)
    settings = RenderSettings(
        chosen.name,
        chosen.namespace,
        concurrency or run.concurrency,
        rate or run.rate,
        resubmit_uncertain=resubmit_uncertain,
        shared=chosen.persistent,
    )
    plan = BatchPlan(
        loaded, out_dir.resolve(), chosen, settings, budget if budget is not None else run.budget
    )
    base = [loaded.defaults_layer()]
    if params:
        cli = loaded.cli_layer(dict(params), (cwd or Path.cwd()).resolve())
        if problems := check_layer(loaded.recipe, cli):
            raise RecipeInvalid(problems)
        base.append(cli)
    rows, bad = read_rows(rows_file) if rows_file else ([Row(1, 1, {}, Path("--param"))], [])
    plan.invalid += [_invalid(n, None, d.file + f":{d.line}", [d]) for n, d in bad]
    inputs = (loaded.path, *([rows_file] if rows_file else []))
    _Materializer(plan, base, from_rows=rows_file is not None, inputs=inputs).add_rows(rows)
    return plan


def _backend(override: BackendName | None, setting: str) -> Backend:
    requested: BackendName | None = override
    if requested is None and setting in {"offline", "kie"}:
        requested = "offline" if setting == "offline" else "kie"
    return choose_backend(requested)


class _Materializer:
    """Turns rows into planned jobs (or invalid results) for one batch plan."""

    def __init__(
        self,
        plan: BatchPlan,
        base: list[Layer],
        *,
        from_rows: bool,
        inputs: tuple[Path, ...] = (),
    ) -> None:
        self.plan, self.base, self.from_rows = plan, base, from_rows
        self.inputs = inputs
        """The recipe and the rows file: no output may overwrite them."""
        self.resolve = PathResolver()
        self.fixed = FixedLayers(base)
        self.staged: dict[Path, str] = {}
        self.outputs: dict[Path, str] = {}
        self.hashes: dict[tuple[Path, str], str] = {}
        self.copied: set[str] = set()
        self.shared = Shared()
        """Sandboxes and file checks: the rows name the same staged files."""
        self.skeletons = Skeletons(plan.recipe)
        """Rows are written and loaded from the template's skeleton where they allow."""

    def add_rows(self, rows: list[Row]) -> None:
        for row in rows:
            self.add_row(row)

    def add_row(self, row: Row) -> None:
        where = row.where if self.from_rows else "--param"
        layers = [*self.base, row.layer()] if self.from_rows else self.base
        recipe = self.plan.recipe
        values, problems = resolve_values(recipe.recipe, layers, self.fixed)
        if problems:
            self.plan.invalid.append(_invalid(row.number, None, where, problems))
            return
        staged = staged_names(file_values(values), self.staged)
        variants: list[str | None] = [*recipe.recipe.variants] or [None]
        for variant in variants:
            self.add_job(row, where, values, staged, variant)

    def add_job(
        self,
        row: Row,
        where: str,
        values: dict[str, Any],
        staged: dict[Path, str],
        variant: str | None,
    ) -> None:
        try:
            instance = instantiate(
                self.plan.recipe,
                values,
                staged,
                row_number=row.number,
                variant=variant,
                row=row.values,
                known_text=self.skeletons.text,
            )
        except InstanceInvalid as exc:
            self.plan.invalid.append(_invalid(row.number, variant, where, exc.diagnostics))
            return
        output = (self.plan.out_dir / instance.output).resolve()
        if (other := self.outputs.get(output)) is not None:
            message = f"{instance.label} ({where}) writes {instance.output}, like {other}"
            hint = "put {{ row_number }} (and {{ variant }}) in the output name"
            problem = self.plan.recipe.source.diagnostic(("run", "output"), message, hint=hint)
            self.plan.invalid.append(_invalid(row.number, variant, where, [problem]))
            return
        self.outputs[output] = instance.label
        path = write_instance(instance, self.plan.work_dir, self.copied)
        job = Job(
            row.number,
            variant,
            where,
            path,
            output,
            journal_path(path, self.plan.backend),
            inputs=(*self.inputs, *instance.assets.values()),
        )
        self.plan_job(job, self.skeletons.load(instance.text, instance.context, path))

    def plan_job(self, job: Job, loaded: LoadedStoryboard) -> None:
        report = validate_loaded(loaded, shared=self.shared)
        if not report.ok:
            self.plan.invalid.append(
                _invalid(job.row_number, job.variant, job.where, report.errors)
            )
            return
        if (overwrites := output_problem(job, report, self.resolve)) is not None:
            hint = "choose another --out folder, or another run.output in the recipe"
            found = self.plan.recipe.source.diagnostic(("run", "output"), overwrites, hint=hint)
            self.plan.invalid.append(_invalid(job.row_number, job.variant, job.where, [found]))
            return
        warnings = [str(d) for d in report.warnings]
        try:
            planned = self.summarise(job, report, warnings)
        except PlanError as exc:
            problem = Diagnostic(str(job.storyboard), 1, 1, (), str(exc))
            self.plan.invalid.append(_invalid(job.row_number, job.variant, job.where, [problem]))
            return
        self.plan.jobs.append(planned)

    def summarise(self, job: Job, report: Report, warnings: list[str]) -> PlannedJob:
        """Plan a validated job and read its status from its journal — only when the
        journal exists: planning never creates one (a job that runs does). Without a
        journal every generation is new, and only their keys and costs are needed."""
        base = report.loaded.base_dir
        files = {a.source for g in report.generations for a in g.assets if a.kind == "file"}
        hashes = {f: self.hash(base, f) for f in sorted(files)}
        backend = self.plan.backend
        if job.state.is_file():
            plan = build_plan(
                report.generations, hashes, namespace=backend.namespace, renderer=backend.renderer
            )
            with StateStore(job.state) as store:
                status = plan_status(plan, store, str(job.storyboard.resolve()))
            prepared = Prepared(report, plan, backend, job.state, status)
            return PlannedJob.of(job, prepared, warnings)
        picked = picked_generations(
            report.generations, hashes, namespace=backend.namespace, renderer=backend.renderer
        )
        return PlannedJob(
            job,
            [p.key for p in picked.values()],
            dict.fromkeys(picked, "new"),
            {p.key: p.estimate for p in picked.values()},
            DEFAULT_PRICES.source,
            False,
            warnings,
        )

    def hash(self, base: Path, name: str) -> str:
        """sha256 of the file ``name`` in ``base``, once per batch (rows share their
        staged files)."""
        key = (base, name)
        if key not in self.hashes:
            self.hashes[key] = file_sha256(resolve_asset(base, name))
        return self.hashes[key]


def journal_path(storyboard: Path, backend: Backend) -> Path:
    """The state store of a job: one per batch (``.storyboard/state.sqlite`` in the work
    folder, where ``storyboard render`` of the file finds it too) for a service the jobs
    share, so a generation shared by rows is paid once; one per job offline, where each
    job has its own in-process emulator (whose task ids are only unique to itself)."""
    if backend.persistent:
        return default_state_path(storyboard)
    return storyboard.parent / ".storyboard" / f"{storyboard.stem}.sqlite"


def _invalid(number: int, variant: str | None, where: str, problems: list[Diagnostic]) -> JobResult:
    first = problems[0].message if problems else "invalid"
    return JobResult(
        number, variant, where, "invalid", error=first, diagnostics=[str(p) for p in problems]
    )


def is_done(prepared: Prepared, output: Path) -> bool:
    """True when every clip is in the journal and ``output`` was assembled from them."""
    if not all(status.kind == "cached" for status in prepared.status.values()):
        return False
    if not prepared.state_path.is_file():
        return False
    with StateStore(prepared.state_path) as store:
        records = {s: store.generation(p.key) for s, p in prepared.plan.generations.items()}
        clips = {s: r.clip for s, r in records.items() if r is not None and r.clip is not None}
        if len(clips) != len(records):
            return False
        return store.assembly(output, assembly_key(prepared, clips)) is not None


# -- running -----------------------------------------------------------------------------


def chain_jobs(jobs: list[PlannedJob]) -> list[list[Job]]:
    """Jobs grouped so that jobs sharing a generation run one after the other (in row
    order) and never create the same task at once; groups are independent."""
    parent = list(range(len(jobs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for index, planned in enumerate(jobs):
        for key in planned.keys:
            if key in owner:
                parent[root(index)] = root(owner[key])
            owner.setdefault(key, index)
    groups: dict[int, list[Job]] = {}
    for index, planned in enumerate(jobs):
        groups.setdefault(root(index), []).append(planned.job)
    return list(groups.values())


@dataclass
class BatchResult:
    """Every job's result and the batch's totals."""

    results: list[JobResult]
    elapsed: float
    runner: str

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def credits(self) -> float:
        return sum(r.credits for r in self.results)

    @property
    def tasks_created(self) -> int:
        return sum(r.tasks_created for r in self.results)

    @property
    def videos_per_minute(self) -> float:
        """Videos rendered (not cached) per minute of the run."""
        return self.count("done") / (max(self.elapsed, 1e-3) / 60)

    @property
    def exit_code(self) -> int:
        """0 all done; 2 some row invalid; 1 some job failed (see the CLI's exit codes)."""
        if self.count("invalid"):
            return 2
        return 1 if self.count("failed") else 0

    def summary(self) -> dict[str, Any]:
        return {
            "done": self.count("done"),
            "cached": self.count("cached"),
            "failed": self.count("failed"),
            "invalid": self.count("invalid"),
            "credits": self.credits,
            "tasks_created": self.tasks_created,
            "elapsed_s": round(self.elapsed, 3),
            "videos_per_minute": round(self.videos_per_minute, 2),
            "runner": self.runner,
        }

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary(), "rows": [r.to_json() for r in self.results]}


def run_batch(
    plan: BatchPlan,
    *,
    client: Any = None,
    parallel: int = 2,
    on_result: OnResult = lambda result: None,
) -> BatchResult:
    """Render the plan's jobs that are not done: on ``client``'s Dask cluster when given,
    else in-process with ``parallel`` jobs at once. Cached and invalid jobs are reported
    without running anything."""
    started = time.monotonic()
    results = list(plan.invalid)
    for planned in plan.jobs:
        if planned.cached:
            results.append(_cached(planned))
    for result in results:
        on_result(result)
    chains = chain_jobs(plan.to_run)
    if client is not None and chains:
        from storyboard.recipes.cluster import run_on_cluster

        if plan.backend.factory is not None:
            raise ValueError("a backend with a client factory can only run in-process")
        results += run_on_cluster(client, chains, plan.settings, on_result)
        runner = f"dask ({client.scheduler.address})"
    else:
        results += asyncio.run(
            run_inprocess(chains, plan.settings, plan.backend, parallel, on_result)
        )
        runner = f"in-process ({parallel} at once)"
    results.sort(key=lambda r: (r.row_number, r.variant or ""))
    return BatchResult(results, time.monotonic() - started, runner)


def _cached(planned: PlannedJob) -> JobResult:
    return JobResult.of(planned.job, "cached", output=str(planned.job.output), keys=planned.keys)


async def run_inprocess(
    chains: list[list[Job]],
    settings: RenderSettings,
    backend: Backend,
    parallel: int = 2,
    on_result: OnResult = lambda result: None,
) -> list[JobResult]:
    """Run the chains in this process: ``parallel`` jobs at once, one set of limits."""
    gate = asyncio.Semaphore(max(1, parallel))
    slots = asyncio.Semaphore(settings.concurrency) if settings.shared else None
    limiter = RateLimiter(settings.rate, burst=settings.concurrency) if settings.shared else None

    async def run_chain(chain: list[Job]) -> list[JobResult]:
        done = []
        for job in chain:
            async with gate:
                result = await render_job(job, settings, backend, slots, limiter)
            on_result(result)
            done.append(result)
        return done

    finished = await asyncio.gather(*(run_chain(chain) for chain in chains))
    return [result for chain in finished for result in chain]
