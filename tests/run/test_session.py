"""RenderSession: the one owner of the run rules — default options per backend, the cost
gate, and the journal lock shared by the holders of one process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from storyboard.providers.kie import KieSettings
from storyboard.recipes import load_recipe, plan_batch, run_batch
from storyboard.run.backend import Backend, choose_backend
from storyboard.run.lock import JournalBusy, journal_lock, shared_journal_lock
from storyboard.run.render import BudgetExceeded
from storyboard.run.session import CostRefused, RenderSession
from storyboard.settings import Settings
from storyboard.store import StateStore

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "recipes" / "fixtures" / "mini"
KIE = KieSettings(api_key="k", base_url="https://api.kie.ai")


def billed(confirm_above: str = "100") -> RenderSession:
    backend = Backend("kie", "kie:https://api.kie.ai", billed=True, settings=KIE)
    settings = Settings.from_env({"STORYBOARD_CONFIRM_ABOVE": confirm_above})
    return RenderSession(backend, settings=settings)


def test_offline_options_resubmit_in_flight_creates_and_reuse_no_uploads() -> None:
    options = RenderSession(choose_backend("offline")).options(concurrency=2, retry_budget=0)
    assert options.resubmit_uncertain and not options.reuse_uploads
    assert (options.concurrency, options.retry_budget) == (2, 0)


def test_a_service_that_keeps_tasks_resubmits_only_when_asked() -> None:
    session = billed()
    assert not session.options().resubmit_uncertain and session.options().reuse_uploads
    assert session.options(resubmit_uncertain=True).resubmit_uncertain
    assert session.options().poll == KIE.poll


def test_the_cost_gate_refuses_over_the_budget_on_any_backend() -> None:
    offline = RenderSession(choose_backend("offline"))
    with pytest.raises(BudgetExceeded, match=r"estimate \(216 credits\) exceeds the budget of 150"):
        offline.check_cost(216, budget=150, yes=True)
    offline.check_cost(10**6, budget=None, yes=False)  # free: never asks


def test_the_cost_gate_asks_above_the_threshold_on_a_billed_service() -> None:
    session = billed("50")
    asked: list[str] = []
    session.check_cost(50, budget=None, yes=False)  # at the threshold: no question
    session.check_cost(80, budget=None, yes=True)  # --yes: no question
    with pytest.raises(CostRefused, match="pass --yes to confirm"):
        session.check_cost(80, budget=None, yes=False)  # no terminal to ask
    with pytest.raises(CostRefused, match="not confirmed"):
        session.check_cost(
            80, usd=0.4, budget=None, yes=False, confirm=lambda q: asked.append(q) or False
        )
    session.check_cost(80, budget=None, yes=False, confirm=lambda q: True)
    assert asked == ["Spend ~80 credits (~$0.40) on kie.ai?"]


def test_the_threshold_is_read_once_and_only_when_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_CONFIRM_ABOVE", "not a number")
    offline = Backend("offline", "offline", billed=False)
    RenderSession(offline).check_cost(500, budget=None, yes=False)  # free: never read
    monkeypatch.setenv("STORYBOARD_CONFIRM_ABOVE", "10")
    backend = Backend("kie", "kie:https://api.kie.ai", billed=True, settings=KIE)
    session = RenderSession(backend)
    assert session.confirm_above == 10.0
    monkeypatch.setenv("STORYBOARD_CONFIRM_ABOVE", "1000")
    assert session.confirm_above == 10.0  # parsed once per session


def test_the_shared_lock_is_one_os_lock_per_process(tmp_path: Path) -> None:
    journal = tmp_path / "state.sqlite"
    busy = pytest.raises(JournalBusy)  # an unshared holder, as another process would be
    with shared_journal_lock(journal), shared_journal_lock(journal), busy, journal_lock(journal):
        pass  # pragma: no cover - never reached
    with journal_lock(journal):  # released with the last holder
        pass


def test_an_offline_batch_resubmits_a_create_its_dead_run_left_in_flight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offline, every row has its own in-process emulator, gone with the run that died: the
    batch creates the task again (nothing is billed), like ``render`` does."""
    for var in ("KIE_API_KEY", "KIE_BASE_URL", "KIE_UPLOAD_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    shutil.copytree(MINI, tmp_path / "mini")
    plan = plan_batch(load_recipe(tmp_path / "mini"), tmp_path / "out", params={"name": "kite"})
    (planned,) = plan.jobs
    job = planned.job
    prepared = RenderSession(plan.backend).prepare(job.storyboard, state_path=job.state)
    (generation,) = prepared.plan.generations.values()
    with StateStore(job.state) as store:
        store.begin_attempt(
            generation.key,
            namespace=prepared.plan.namespace,
            storyboard=str(job.storyboard.resolve()),
            scene_id=generation.scene_id,
            canonical=generation.canonical,
        )
    assert (
        RenderSession(plan.backend)
        .prepare(job.storyboard, state_path=job.state)
        .status[generation.scene_id]
        .kind
        == "uncertain"
    )
    result = run_batch(
        plan_batch(load_recipe(tmp_path / "mini"), tmp_path / "out", params={"name": "kite"})
    )
    (row,) = result.results
    assert row.status == "done", row.error
    assert row.tasks_created == 1
