"""The run rules in one place: a :class:`RenderSession` for one backend.

Every way of running — ``storyboard render``, ``reroll``, ``recipe run``, a Dask worker,
the review page and the Python API — asks its session for:

* the default :class:`~storyboard.run.steps.RunOptions` of the backend (its poll policy;
  uploads reused and in-flight creates left alone only where tasks outlive the process);
* the cost gate's decision (a budget; confirmation above ``STORYBOARD_CONFIRM_ABOVE`` on
  a billed service, the setting parsed once per session);
* the journal's lock (one writer per journal), and what the journal says (the clips it
  holds, what lost local state costs, what the next run pays for).

The CLI commands are adapters around it: they parse options, ask, and print.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from storyboard.edit import AssemblyError, EditError
from storyboard.errors import Refused, StoryboardError
from storyboard.run.backend import Backend, BackendName, choose_backend
from storyboard.run.events import EventSink
from storyboard.run.lock import shared_journal_lock
from storyboard.run.outputs import OutputChoice, choose_output
from storyboard.run.render import (
    AssembledEdit,
    BudgetExceeded,
    CostEstimate,
    Prepared,
    RenderOutcome,
    RunResult,
    assemble_edit,
    generate_all,
    prepare,
    read_status,
)
from storyboard.run.steps import RunOptions
from storyboard.settings import Settings

__all__ = [
    "AssemblyFailed",
    "Confirm",
    "CostRefused",
    "Quote",
    "RenderSession",
    "take_label",
]

Confirm = Callable[[str], bool]
"""Asks the user a yes/no question (the CLI's terminal prompt)."""


class CostRefused(Refused):
    """The cost gate refused: spending above the confirmation threshold was not
    confirmed; nothing was submitted."""


class AssemblyFailed(StoryboardError):
    """The edit could not be assembled from the clips (the clips stay in the journal)."""


def take_label(name: str, take: int) -> str:
    """``wake-up`` for take 1 (``wake-up#1``), ``wake-up#2`` for the others."""
    return name.removesuffix("#1") if take == 1 else name


@dataclass(frozen=True)
class Quote:
    """What the next run pays for, and what it reuses, as the cost gate shows it."""

    cost: CostEstimate
    paying: list[str]
    """The takes it creates tasks for (``scene``, ``scene#2``)."""
    reused: int
    """Takes cached or resumed (a task already created)."""
    price: str
    """The estimate, or "free here" on a service that does not bill."""
    warnings: list[str]
    """What lost local state costs (clips journaled again, downloaded or paid again)."""

    def message(self, backend: Backend) -> str:
        names = ", ".join(self.paying) or "none"
        return (
            f"{backend.description}: {self.reused} cached or resumed, {len(self.paying)} "
            f"to generate ({names}); {self.price}"
        )


class RenderSession:
    """How runs on one backend behave; build one per command (or per worker)."""

    def __init__(self, backend: Backend, *, settings: Settings | None = None) -> None:
        self.backend = backend
        self._settings = settings

    @classmethod
    def choose(cls, requested: BackendName | None = None) -> RenderSession:
        """The session of ``requested`` (default: kie.ai when ``KIE_API_KEY`` is set, else
        offline); raises :class:`~storyboard.run.backend.BackendUnavailable`."""
        return cls(choose_backend(requested))

    @cached_property
    def confirm_above(self) -> float:
        """``STORYBOARD_CONFIRM_ABOVE``: credits a billed run may spend without asking
        (read once, and only when a billed run needs it)."""
        settings = self._settings or Settings.from_env()
        return settings.storyboard_confirm_above

    # -- options --------------------------------------------------------------------------

    def options(self, *, resubmit_uncertain: bool = False, **fields: Any) -> RunOptions:
        """The run options for this backend: its poll policy; uploads reused only where
        they outlive the process; a create that was in flight when a run died is created
        again when asked (``resubmit_uncertain``) or when the backend is the in-process
        emulator (the one that might hold the task died with that run; it bills nothing).
        ``fields``: any other :class:`RunOptions` field."""
        persistent = self.backend.persistent
        defaults = RunOptions(
            poll=self.backend.poll,
            reuse_uploads=persistent,
            resubmit_uncertain=resubmit_uncertain or not persistent,
        )
        return replace(defaults, **fields)

    # -- planning and the cost gate -------------------------------------------------------

    def prepare(self, path: Path, **options: Any) -> Prepared:
        """:func:`storyboard.run.render.prepare` on this backend."""
        return prepare(path, self.backend, **options)

    def quote(self, prepared: Prepared, only: set[str] | None = None) -> Quote:
        """What the next run of ``prepared`` (of the takes in ``only``) pays for."""
        every = {n: st for n, st in prepared.all_status().items() if only is None or n in only}
        cost = prepared.cost(only)
        paying = [take_label(n, st.take) for n, st in every.items() if st.will_pay]
        price = str(cost) if self.backend.billed else f"free here; on kie.ai: {cost}"
        return Quote(cost, paying, len(every) - len(paying), price, state_warnings(prepared))

    def check_cost(
        self,
        credits: float,
        *,
        budget: float | None,
        yes: bool,
        usd: float | None = None,
        confirm: Confirm | None = None,
    ) -> None:
        """The cost gate: raise :class:`BudgetExceeded` over ``budget``; on a billed
        service above ``STORYBOARD_CONFIRM_ABOVE`` without ``yes``, ask ``confirm`` and
        raise :class:`CostRefused` unless it says yes (or when there is no one to ask)."""
        if budget is not None and credits > budget:
            raise BudgetExceeded(
                f"the estimate ({credits:g} credits) exceeds the budget of "
                f"{budget:g}; nothing was submitted"
            )
        if not self.backend.billed or yes or credits <= self.confirm_above:
            return
        if confirm is None:
            raise CostRefused(
                f"about to spend ~{credits:g} credits on kie.ai; pass --yes to confirm"
            )
        price = f" (~${usd:.2f})" if usd is not None else ""
        if not confirm(f"Spend ~{credits:g} credits{price} on kie.ai?"):
            raise CostRefused("not confirmed; nothing was submitted")

    # -- the journal ----------------------------------------------------------------------

    @contextmanager
    def locked(
        self,
        prepared: Prepared,
        *,
        wait: bool = False,
        on_wait: Callable[[str], None] | None = None,
    ) -> Iterator[Prepared]:
        """Hold the journal's lock (shared by the holders in this process; another
        process gets :class:`~storyboard.run.lock.JournalBusy` unless ``wait``), then read
        the cache status again under it."""
        with shared_journal_lock(prepared.state_path, wait=wait, on_wait=on_wait):
            read_status(prepared)
            yield prepared

    # -- running --------------------------------------------------------------------------

    def output(
        self,
        prepared: Prepared,
        override: Path | None = None,
        *,
        allow_outside: bool = False,
        inputs: Iterable[Path] = (),
    ) -> OutputChoice:
        """Where the edit goes, checked (never one of the run's inputs, ``inputs``
        included: a batch's rows and recipe)."""
        return choose_output(
            prepared.report,
            prepared.state_path,
            override,
            allow_outside=allow_outside,
            extra_inputs=inputs,
        )

    def generate(
        self,
        prepared: Prepared,
        options: RunOptions,
        sink: EventSink,
        only: set[str] | None = None,
    ) -> RunResult:
        """:func:`~storyboard.run.render.generate_all`, synchronously."""
        return asyncio.run(generate_all(prepared, options, sink, only=only))

    def assemble(
        self,
        prepared: Prepared,
        clips: dict[str, Path],
        out: Path,
        *,
        progress: Callable[[str, float], None] | None = None,
        force: bool = False,
    ) -> AssembledEdit:
        """:func:`~storyboard.run.render.assemble_edit`; a failure of the edit raises
        :class:`AssemblyFailed`."""
        try:
            return assemble_edit(prepared, clips, out, progress=progress, force=force)
        except (EditError, AssemblyError) as exc:
            raise AssemblyFailed(f"assembly failed: {exc}") from exc

    async def render(
        self,
        path: str | Path,
        *,
        output: Path | None = None,
        options: RunOptions | None = None,
        sink: EventSink | None = None,
        budget: float | None = None,
        state_path: Path | None = None,
        assemble: bool = True,
        takes: int | None = None,
        inputs: Iterable[Path] = (),
        lock: bool = True,
    ) -> RenderOutcome:
        """The main job without a terminal: validate, plan, check the output, take the
        journal's lock (unless ``lock`` is off: the caller holds it), gate on ``budget``,
        generate what is not cached, and assemble. Raises before anything is paid for."""
        prepared = prepare(
            Path(path), self.backend, state_path=state_path, takes=takes, read_journal=False
        )
        out = self.output(prepared, output, inputs=inputs).path if assemble else None
        held = shared_journal_lock(prepared.state_path) if lock else nullcontext()
        with held:
            read_status(prepared)
            self.check_cost(prepared.cost().credits, budget=budget, yes=True)
            run_options = options or self.options()
            result = await generate_all(prepared, run_options, sink or _ignore)
            edit = None
            if out is not None and result.ok:
                edit = await asyncio.to_thread(assemble_edit, prepared, result.clips(), out)
        return RenderOutcome(prepared, result, edit)


def _ignore(event: object) -> None:
    """An event sink that shows nothing."""


def state_warnings(prepared: Prepared) -> list[str]:
    """What lost local state costs: clips journaled again from their sidecars, deleted
    clips downloaded again, deleted clips whose result expired (paid again)."""
    found = []
    if prepared.adopted:
        found.append(
            f"the journal {prepared.state_path} lacked {len(prepared.adopted)} "
            "clip(s) found on disk; journaled them again from their sidecars"
        )
    for scene, status in prepared.status.items():
        if status.clip_deleted:
            cost = prepared.plan.generations[scene].estimate
            paid = f" (~{cost.credits} credits)" if status.will_pay else ""
            found.append(f"scene {scene!r}: {'; '.join(status.reasons)}{paid}")
    return found
