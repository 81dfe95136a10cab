"""The main job, step by step: validate, plan, gate the cost, generate, assemble.

``render`` and ``assemble`` (the CLI commands) are thin shells over :func:`prepare`,
:func:`generate_all` and :func:`assemble_edit`, which Python users can call directly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from storyboard.assets import resolve_asset
from storyboard.edit import ASSEMBLER_VERSION, AssemblyReport, EditClip, assemble
from storyboard.edit.burnin import burn_in, burn_in_spans
from storyboard.edit.report import ScenePlacement
from storyboard.edit.subtitles import shot_lines
from storyboard.errors import Refused
from storyboard.filehash import file_sha256
from storyboard.lock import LockFile, LockState, lock_state, read_lock
from storyboard.plan import NodeId, Plan, build_plan, content_key, take_key
from storyboard.pricing import DEFAULT_PRICES, PriceTable
from storyboard.run.backend import Backend
from storyboard.run.callbacks import callback_receiver
from storyboard.run.events import EventSink
from storyboard.run.outputs import choose_output
from storyboard.run.scheduler import NodeOutcome, execute
from storyboard.run.sidecar import adopt_clips
from storyboard.run.status import GenerationStatus, extra_take_status, plan_status
from storyboard.run.steps import RunOptions, Steps
from storyboard.spec import Storyboard
from storyboard.store import StateStore
from storyboard.validate import Report, StoryboardInvalid, validate

__all__ = [
    "AssembledEdit",
    "BudgetExceeded",
    "CostEstimate",
    "GenerationResult",
    "Prepared",
    "RenderOutcome",
    "RunResult",
    "assemble_edit",
    "assembly_key",
    "default_state_path",
    "edit_clips",
    "generate_all",
    "output_path",
    "prepare",
    "read_status",
    "render",
    "render_async",
]


def default_state_path(storyboard: Path) -> Path:
    """``<storyboard folder>/.storyboard/state.sqlite``."""
    return storyboard.resolve().parent / ".storyboard" / "state.sqlite"


@dataclass
class CostEstimate:
    """What the next run would pay for (an estimate; see the price table's source)."""

    credits: int
    usd: float
    seconds: int
    generations: int
    source: str

    def __str__(self) -> str:
        return (
            f"~{self.credits} credits (~${self.usd:.2f}) for {self.generations} generation(s),"
            f" {self.seconds} s — estimate; prices: {self.source}"
        )


@dataclass
class Prepared:
    """A validated, planned storyboard with its cache status and cost."""

    report: Report
    plan: Plan
    backend: Backend
    state_path: Path
    status: dict[str, GenerationStatus]
    """The picked take of each scene, by scene id."""
    adopted: list[str] = field(default_factory=list)
    """Content keys journaled from clips found on disk (the journal had lost them)."""
    extra_status: dict[str, GenerationStatus] = field(default_factory=dict)
    """The other takes, by ``scene#take``."""
    lock: LockFile | None = None
    lock_states: dict[str, LockState] = field(default_factory=dict)

    def all_status(self) -> dict[str, GenerationStatus]:
        """Every take by ``scene#take``, in plan order."""
        picked = {self.plan.generations[s].name: st for s, st in self.status.items()}
        merged = {**picked, **self.extra_status}
        return {p.name: merged[p.name] for t in self.plan.takes.values() for p in t.values()}

    @property
    def storyboard(self) -> Storyboard:
        return self.report.storyboard

    @property
    def path(self) -> Path:
        return self.report.loaded.path.resolve()

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def stored_clips(self, *, on_disk: bool = False) -> dict[str, Path]:
        """Scene -> the clip of its picked take, for the scenes the journal has one for
        (``on_disk``: and whose file is there). Reads the journal."""
        clips = {}
        with StateStore(self.state_path) as store:
            for scene, planned in self.plan.generations.items():
                record = store.generation(planned.key)
                if record and record.clip and (not on_disk or record.clip.is_file()):
                    clips[scene] = record.clip
        return clips

    def cost(self, only: set[str] | None = None) -> CostEstimate:
        """Estimated cost of the generations the next run pays for (of the takes named
        ``scene#take`` in ``only``, when given)."""
        takes = {p.name: p for t in self.plan.takes.values() for p in t.values()}
        paying = [
            takes[name]
            for name, st in self.all_status().items()
            if st.will_pay and (only is None or name in only)
        ]
        return CostEstimate(
            credits=sum(p.estimate.credits for p in paying),
            usd=round(sum(p.estimate.usd for p in paying), 2),
            seconds=sum(p.estimate.seconds for p in paying),
            generations=len(paying),
            source=self.plan.prices.source,
        )


def prepare(
    path: Path,
    backend: Backend,
    *,
    state_path: Path | None = None,
    prices: PriceTable = DEFAULT_PRICES,
    allow_outside: bool = False,
    read_journal: bool = True,
    takes: int | None = None,
    more_takes: Mapping[str, int] | None = None,
    picks: Mapping[str, int] | None = None,
) -> Prepared:
    """Validate (raising :class:`StoryboardInvalid`), hash local files, plan, and read
    the status from the journal (later, with :func:`read_status`, unless ``read_journal``).

    Takes per scene: ``takes`` (else the storyboard's), or more when the journal holds
    more takes of the same request (``storyboard reroll``), plus ``more_takes``. Picks:
    the lock file's (raising :class:`~storyboard.lock.LockError`), overridden by ``picks``.
    """
    report = validate(path, allow_outside=allow_outside)
    if not report.ok:
        raise StoryboardInvalid(report.errors)
    base = report.loaded.base_dir
    files = {a.source for g in report.generations for a in g.assets if a.kind == "file"}
    hashes = {f: file_sha256(resolve_asset(base, f)) for f in sorted(files)}
    board, lock = report.storyboard, read_lock(path.resolve())
    counts = {s.id: takes or board.takes_of(s.id) for s in board.scenes}
    chosen = {s: t for s, t in {**lock.picks(), **(picks or {})}.items() if s in counts}

    def planned(counts: Mapping[str, int]) -> Plan:
        return build_plan(
            report.generations,
            hashes,
            namespace=backend.namespace,
            prices=prices,
            takes=counts,
            picks=chosen,
            renderer=backend.renderer,
        )

    plan = planned(counts)
    state = state_path or default_state_path(path)
    prepared = Prepared(report, plan, backend, state, {}, lock=lock)
    return read_status(prepared, more_takes) if read_journal else prepared


def read_status(prepared: Prepared, more_takes: Mapping[str, int] | None = None) -> Prepared:
    """Read (again) the cache status of every generation from the journal, first
    journaling the clips on disk it lacks (their sidecars name their content keys; the
    lock file names the picked ones), so a lost or emptied journal never pays again for a
    clip that is there. Takes the journal holds beyond the plan's (``storyboard reroll``),
    and ``more_takes``, are added to the plan."""
    with StateStore(prepared.state_path) as store:
        found = _journaled_takes(prepared.plan, store)
    if found or more_takes:
        prepared.plan = _replanned(prepared.plan, prepared.report, found, more_takes or {})
    plan = prepared.plan
    scenes = {p.key: p.scene_id for t in plan.takes.values() for p in t.values()}
    storyboard = str(prepared.path)
    with StateStore(prepared.state_path) as store:
        adopted = adopt_clips(store, prepared.state_path.parent / "clips", scenes, plan.namespace)
        if prepared.lock is not None:
            _adopt_locked_clips(plan, prepared.lock, store, storyboard, prepared.base_dir)
        prepared.status = plan_status(plan, store, storyboard)
        prepared.extra_status = extra_take_status(plan, store, storyboard)
    prepared.adopted = adopted
    if prepared.lock is not None:
        lock = prepared.lock
        prepared.lock_states = {s: lock_state(lock, s, p.key) for s, p in plan.generations.items()}
    return prepared


def _replanned(
    plan: Plan, report: Report, found: Mapping[str, int], more: Mapping[str, int]
) -> Plan:
    counts = {s: found.get(s, max(t)) + more.get(s, 0) for s, t in plan.takes.items()}
    picks = {s: p.take for s, p in plan.generations.items()}
    return build_plan(
        report.generations,
        plan.file_hashes,
        namespace=plan.namespace,
        prices=plan.prices,
        takes=counts,
        picks=picks,
        renderer=plan.renderer,
    )


MAX_JOURNALED_TAKES = 16
"""How far :func:`prepare` looks for takes added by ``storyboard reroll``."""


def _journaled_takes(plan: Plan, store: StateStore) -> dict[str, int]:
    """Scenes with more takes of their current request in the journal than planned."""
    found = {}
    for scene, takes in plan.takes.items():
        canonical, count = plan.generations[scene].canonical, max(takes)
        while count < MAX_JOURNALED_TAKES:
            if store.generation(take_key(plan.namespace, canonical, count + 1)) is None:
                break
            count += 1
        if count > max(takes):
            found[scene] = count
    return found


def _adopt_locked_clips(
    plan: Plan, lock: LockFile, store: StateStore, storyboard: str, base: Path
) -> None:
    """Journal the clips the lock file names (for another machine), when their hash and
    the request still match."""
    for scene, entry in lock.scenes.items():
        planned = plan.generations.get(scene)
        if planned is None or planned.key != entry.key or not entry.clip or not entry.sha256:
            continue
        record = store.generation(entry.key)
        if record is not None and record.clip is not None:
            continue
        clip = (base / entry.clip).resolve()
        if clip.is_file() and file_sha256(clip) == entry.sha256:
            store.adopt_locked_clip(
                entry.key,
                namespace=plan.namespace,
                storyboard=storyboard,
                scene_id=scene,
                canonical=planned.canonical,
                task_id=entry.task_id,
                clip_path=clip,
            )


@dataclass
class GenerationResult:
    """How one generation ended in a run."""

    scene_id: str
    ok: bool
    clip: Path | None
    status_before: str
    error: str | None
    task_ids: list[str]
    attempts: int
    failures: int
    credits: float
    """Credits of the tasks created for it in this run (estimate, charged at creation)."""
    retries: int = 0
    """New tasks created for it in this run after a failed or lost one."""
    credits_actual: float | None = None
    """Credits the service reported (``creditsConsumed``) for those tasks; None when it
    reported none."""
    take: int = 1

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "clip": str(self.clip) if self.clip else None}


@dataclass
class RunResult:
    """The outcome of generating every clip of a storyboard."""

    generations: dict[str, GenerationResult]
    other_failures: dict[str, str]
    elapsed: float
    submitted: list[str] = field(default_factory=list)
    """Task ids created in this run (each one createTask that was paid for)."""
    failed_tasks: dict[str, float] = field(default_factory=dict)
    """Of ``submitted``, the tasks that ended ``fail``, with their credits (kie.ai may
    refund these; the emulator does by default)."""
    api_retries: int | None = None
    """Requests the client repeated (HTTP 429/455/5xx, network errors, downloads resumed);
    None when the backend's client factory does not report them."""
    takes: dict[str, GenerationResult] = field(default_factory=dict)
    """The takes that are not picked, by ``scene#take``."""

    def all_results(self) -> list[GenerationResult]:
        return [*self.generations.values(), *self.takes.values()]

    @property
    def ok(self) -> bool:
        return all(g.ok for g in self.all_results()) and not self.other_failures

    @property
    def credits(self) -> float:
        return sum(g.credits for g in self.all_results())

    @property
    def credits_actual(self) -> float | None:
        """Credits kie.ai reported consuming (``creditsConsumed``) for this run's tasks;
        None when no record carried it."""
        reported = [g.credits_actual for g in self.all_results()]
        known = [c for c in reported if c is not None]
        return sum(known) if known else None

    def clips(self) -> dict[str, Path]:
        return {s: g.clip for s, g in self.generations.items() if g.clip is not None}

    @property
    def retries(self) -> int:
        """New tasks created in this run after a failed or lost one."""
        return sum(g.retries for g in self.all_results())

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "elapsed_s": round(self.elapsed, 3),
            "credits": self.credits,
            "credits_actual": self.credits_actual,
            "tasks_created": len(self.submitted),
            "tasks_failed": len(self.failed_tasks),
            "credits_failed": sum(self.failed_tasks.values()),
            "retries": self.retries,
            "api_retries": self.api_retries,
            "generations": {s: g.to_json() for s, g in self.generations.items()},
            "takes": {s: g.to_json() for s, g in self.takes.items()},
            "failures": self.other_failures,
        }


async def generate_all(
    prepared: Prepared, options: RunOptions, sink: EventSink, *, only: set[str] | None = None
) -> RunResult:
    """Run every upload, frame and generation node (or the takes named ``scene#take`` in
    ``only``, and what they need); never pays twice (see run.steps)."""
    started = time.monotonic()
    options.work_dir = options.work_dir or prepared.state_path.parent
    if prepared.backend.name == "offline" and prepared.backend.factory is None:
        options.preview_hints = True  # the in-process emulator: kie.ai never sees it
    storyboard = str(prepared.path)
    with StateStore(prepared.state_path) as store:
        nodes = _nodes_to_run(prepared.plan, store, only)
        run_id = store.start_run(storyboard, prepared.plan.namespace)
        async with AsyncExitStack() as stack:
            client = await stack.enter_async_context(prepared.backend.client())
            if options.callback_url and options.callbacks is None:
                options.callbacks = await stack.enter_async_context(
                    callback_receiver(prepared.backend.settings, options.callback_listen)
                )
            steps = Steps(
                prepared.plan,
                store,
                client,
                options,
                storyboard=storyboard,
                base_dir=prepared.base_dir,
                sink=sink,
                nodes=nodes,
            )
            try:
                outcomes = await execute(prepared.plan.graph, steps.run_node, nodes=nodes)
            except (asyncio.CancelledError, KeyboardInterrupt):
                store.finish_run(run_id, "interrupted", {})
                raise
        result = _result(prepared, store, outcomes, time.monotonic() - started, steps)
        if prepared.backend.factory is None:
            result.api_retries = client.retries
        store.finish_run(run_id, "ok" if result.ok else "failed", result.to_json())
    return result


def _nodes_to_run(plan: Plan, store: StateStore, only: set[str] | None = None) -> set[NodeId]:
    """Every take (or those named in ``only``), and the uploads, frames and generations that the
    takes without a clip need (a storyboard whose clips are all cached makes no request)."""
    wanted = {
        plan.take_node(p)
        for takes in plan.takes.values()
        for p in takes.values()
        if only is None or p.name in only
    }
    nodes = set(wanted)
    for node in wanted:
        record = store.generation(plan.planned_for(node).key)
        if record is None or record.clip is None:
            nodes |= nx.ancestors(plan.graph, node)
    return nodes


def _result(
    prepared: Prepared,
    store: StateStore,
    outcomes: dict[NodeId, NodeOutcome[NodeId]],
    elapsed: float,
    steps: Steps,
) -> RunResult:
    generations, takes, failed = {}, {}, {}
    submitted = set(steps.submitted)
    before = prepared.all_status()
    plan = prepared.plan
    for planned in (p for ts in plan.takes.values() for p in ts.values()):
        outcome = outcomes.get(plan.take_node(planned))
        if outcome is None:  # not asked for in this run
            continue
        record = store.generation(planned.key)
        tasks = store.tasks(planned.key)
        created = [t for t in tasks if t["task_id"] in submitted]
        failed.update({t["task_id"]: t["credits"] for t in created if t["state"] == "fail"})
        result = GenerationResult(
            scene_id=planned.scene_id,
            ok=outcome.ok,
            clip=outcome.result if outcome.ok else None,
            status_before=before[planned.name].kind,
            error=None if outcome.ok else str(outcome.error),
            task_ids=[t["task_id"] for t in tasks],
            attempts=record.attempts if record else 0,
            failures=record.failures if record else 0,
            credits=sum(t["credits"] for t in created),
            retries=steps.retries.get(planned.name, 0),
            take=planned.take,
            credits_actual=_consumed(created),
        )
        if plan.generations[planned.scene_id].take == planned.take:
            generations[planned.scene_id] = result
        else:
            takes[planned.name] = result
    others: dict[str, str] = {
        n: str(o.error)
        for n, o in outcomes.items()
        if not o.ok and n.kind not in {"generate", "take"}
    }
    return RunResult(generations, others, elapsed, steps.submitted, failed, takes=takes)


def _consumed(tasks: list[dict[str, Any]]) -> float | None:
    """Sum of the tasks' reported ``creditsConsumed``; None when none reported it."""
    known = [t["credits_consumed"] for t in tasks if t.get("credits_consumed") is not None]
    return float(sum(known)) if known else None


def output_path(
    prepared: Prepared, override: Path | None = None, *, allow_outside: bool = False
) -> Path:
    """Where the edit goes: ``-o`` or the storyboard's ``output.path`` ({title} filled),
    checked by :func:`storyboard.run.outputs.choose_output` (never an input; the field
    inside the storyboard's folder)."""
    return choose_output(
        prepared.report, prepared.state_path, override, allow_outside=allow_outside
    ).path


def assembly_key(prepared: Prepared, clips: dict[str, Path]) -> str:
    """What the edit depends on: clip contents (by generation key), the edit, the output
    settings, the music and font files, and the assembler's version."""
    board = prepared.storyboard
    extra = [board.edit.music.path] if board.edit.music else []
    extra += [t.font for t in board.edit.titles if t.font]
    extra += [board.edit.subtitles.font] if board.edit.subtitles.font else []
    extra += [m.path for s in board.scenes if (m := s.still or s.footage) is not None]
    extra += [o.image for o in board.edit.overlays if o.image]
    files = {}
    for name in extra:
        path = resolve_asset(prepared.base_dir, name)
        files[name] = file_sha256(path) if path.is_file() else "missing"
    inputs = {
        "assembler": ASSEMBLER_VERSION,
        "clips": {s: [prepared.plan.generations[s].key, str(p)] for s, p in clips.items()},
        "edit": board.edit.model_dump(mode="json"),
        "output": board.output.model_dump(mode="json"),
        "files": files,
        "scenes": [scene.id for scene in board.scenes],
        "dialogue": [[shot.dialogue for shot in scene.shots] for scene in board.scenes],
    }
    media = {
        s.id: s.model_dump(mode="json", include={"still", "footage", "effects"})
        for s in board.scenes
        if s.still or s.footage or s.effects
    }
    return content_key({**inputs, "media": media} if media else inputs)


def assemble_edit(
    prepared: Prepared,
    clips: dict[str, Path],
    out: Path,
    *,
    progress: Callable[[str, float], None] | None = None,
    force: bool = False,
) -> AssembledEdit:
    """Assemble the edit from the clips, unless the same inputs already made ``out``."""
    key = assembly_key(prepared, clips)
    with StateStore(prepared.state_path) as store:
        previous = None if force else store.assembly(out, key)
    if previous is not None:
        return AssembledEdit(out, previous, reused=True)
    report = _assemble(prepared, clips, out, progress)
    data = report.to_json()
    if burns_in(prepared):
        _burn_in(prepared, report.scenes, out)
        data["burn_in"] = True
    with StateStore(prepared.state_path) as store:
        store.record_assembly(out, key, data)
    return AssembledEdit(out, data, reused=False)


@dataclass(frozen=True)
class AssembledEdit:
    """The written edit and its report (``reused`` when inputs were unchanged)."""

    path: Path
    report: dict[str, Any]
    reused: bool

    @property
    def summary(self) -> str:
        how = "unchanged, kept" if self.reused else f"{self.report['assembly_path']} path"
        if self.report.get("burn_in") and not self.reused:
            how += " + burn-ins"
        return f"{self.path}  ({self.report['duration']:.2f} s, {how})"


def _assemble(
    prepared: Prepared,
    clips: dict[str, Path],
    out: Path,
    progress: Callable[[str, float], None] | None,
) -> AssemblyReport:
    board = prepared.storyboard
    out.parent.mkdir(parents=True, exist_ok=True)
    return assemble(
        edit_clips(prepared, clips),
        board.edit,
        board.output,
        out,
        base_dir=prepared.base_dir,
        progress=progress,
    )


def edit_clips(prepared: Prepared, clips: dict[str, Path]) -> list[EditClip]:
    """The edit's clips in storyboard order: the scenes that have a clip (with prompt,
    task id and dialogue), stills and footage."""
    task_ids = _task_ids(prepared)
    found: list[EditClip] = []
    for scene in prepared.storyboard.scenes:
        media = scene.still or scene.footage
        if media is not None:
            path = resolve_asset(prepared.base_dir, media.path)
        elif scene.id in clips:
            path = clips[scene.id]
        else:
            continue
        found.append(
            EditClip(
                scene_id=scene.id,
                path=path,
                prompt=" / ".join(s.prompt for s in scene.shots),
                task_id=task_ids.get(scene.id),
                still=scene.still,
                footage=scene.footage,
                dialogue=shot_lines([(shot.duration, shot.dialogue) for shot in scene.shots]),
                effects=tuple(scene.effects),
            )
        )
    return found


def burns_in(prepared: Prepared) -> bool:
    """Whether the edit gets review burn-ins: ``edit.review_burn_in``, by default on
    offline."""
    chosen = prepared.storyboard.edit.review_burn_in
    return prepared.backend.name == "offline" if chosen is None else chosen


def _burn_in(prepared: Prepared, placements: Sequence[ScenePlacement], out: Path) -> None:
    board = prepared.storyboard
    shots = {s.id: [shot.duration for shot in s.shots] for s in board.scenes}
    takes = {s: p.take for s, p in prepared.plan.generations.items()}
    spans = burn_in_spans(placements, shots, takes)
    burn_in(out, spans, fps=board.output.fps, crf=board.output.crf, preset=board.output.preset)


def _task_ids(prepared: Prepared) -> dict[str, str]:
    """Scene -> the task that made its clip, read in one pass over the journal."""
    ids: dict[str, str] = {}
    with StateStore(prepared.state_path) as store:
        for scene, planned in prepared.plan.generations.items():
            record = store.generation(planned.key)
            if record and record.task_id:
                ids[scene] = record.task_id
    return ids


class BudgetExceeded(Refused):
    """The estimate of what a render would pay exceeds the budget; nothing was submitted."""


@dataclass
class RenderOutcome:
    """Everything a render did: the plan, the generations, and the edit."""

    prepared: Prepared
    result: RunResult
    edit: AssembledEdit | None

    @property
    def ok(self) -> bool:
        return self.result.ok and (self.edit is not None or not self.result.generations)


async def render_async(
    path: str | Path,
    *,
    backend: Backend | None = None,
    output: Path | None = None,
    options: RunOptions | None = None,
    sink: EventSink | None = None,
    budget: float | None = None,
    state_path: Path | None = None,
    assemble: bool = True,
    takes: int | None = None,
) -> RenderOutcome:
    """The main job without a terminal: validate, plan, gate on ``budget``, generate what is
    not cached, and assemble (``takes``: takes per scene instead of the storyboard's), with
    the journal's lock held. Raises :class:`StoryboardInvalid`, :class:`BudgetExceeded` or
    :class:`~storyboard.run.lock.JournalBusy` before anything is paid for. The rules are
    :class:`~storyboard.run.session.RenderSession`'s."""
    from storyboard.run.backend import choose_backend
    from storyboard.run.session import RenderSession

    session = RenderSession(backend or choose_backend(None))
    return await session.render(
        path,
        output=output,
        options=options,
        sink=sink,
        budget=budget,
        state_path=state_path,
        assemble=assemble,
        takes=takes,
    )


def render(path: str | Path, **options: Any) -> RenderOutcome:
    """Synchronous :func:`render_async` (same keyword options)."""
    return asyncio.run(render_async(path, **options))
