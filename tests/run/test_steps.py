"""Never paying twice (run.steps): a created task is polled, not created again; an in-flight
createTask is never resubmitted without --resubmit-uncertain; failed generations are
retried within the budget and accounted for; a finished run makes no request at all."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storyboard.providers.emulator import EmulatorConfig
from storyboard.run.backend import Backend
from storyboard.run.events import Event
from storyboard.run.render import Prepared, RunResult, generate_all, prepare
from storyboard.run.steps import RunOptions
from storyboard.store import StateStore

from .run_helpers import Recorder, TinyRenderer, chain_storyboard, fast_options, shared_emulator

pytestmark = pytest.mark.anyio


def board(project: Path, chains: tuple[int, ...] = (3,), singles: int = 0) -> Path:
    path = project / "storyboard.yaml"
    path.write_text(chain_storyboard(chains, singles), encoding="utf-8")
    return path


async def run(
    path: Path, backend: Backend, options: RunOptions | None = None, sink: Recorder | None = None
) -> tuple[RunResult, Prepared]:
    prepared = prepare(path, backend)
    result = await generate_all(prepared, options or fast_options(), sink or Recorder())
    return result, prepared


class Crash(BaseException):
    """The process dies (raised from the event sink, so nothing after it runs)."""


async def crashed(path: Path, backend: Backend, when: str) -> Recorder:
    """Run until the first event whose ``state/message`` starts with ``when``; die there."""
    recorder = Recorder()

    def sink(event: Event) -> None:
        recorder(event)
        if f"{event.state}/{event.message}".startswith(when):
            raise Crash(when)

    with pytest.raises(Crash):
        await generate_all(prepare(path, backend), fast_options(), sink)
    return recorder


def config(renderer: TinyRenderer, **changes: object) -> EmulatorConfig:
    values: dict[str, object] = {"latency": 0.3, "credits": 10**6, **changes}
    return EmulatorConfig(renderer=renderer, **values)  # type: ignore[arg-type]


async def test_a_task_created_before_a_crash_is_polled_not_created_again(
    project: Path, tiny_renderer: TinyRenderer
) -> None:
    path = board(project)
    async with shared_emulator(config(tiny_renderer)) as (backend, emulator):
        first = await crashed(path, backend, "generating/task created")
        assert first.created() == ["c0s0"] and emulator.counters.create_task_calls == 1
        assert prepare(path, backend).status["c0s0"].kind == "resume"
        recorder = Recorder()
        result, _ = await run(path, backend, sink=recorder)
    assert result.ok, result.to_json()
    assert emulator.counters.create_task_calls == 3 and emulator.counters.tasks_created == 3
    assert "resumed" in recorder.states("generate:c0s0")
    assert recorder.created() == ["c0s1", "c0s2"]
    assert result.generations["c0s0"].status_before == "resume"
    assert result.generations["c0s0"].credits == 0  # paid in the run that died


async def test_a_finished_task_is_downloaded_and_a_dead_partial_download_removed(
    project: Path, tiny_renderer: TinyRenderer
) -> None:
    path = board(project, (1,))
    async with shared_emulator(config(tiny_renderer)) as (backend, emulator):
        await crashed(path, backend, "downloading")
        prepared = prepare(path, backend)
        planned = prepared.plan.generations["c0s0"]
        clips = prepared.state_path.parent / "clips"
        dead = clips / f".c0s0-{planned.key[:12]}.mp4.0badc0de.part"  # a killed download's
        clips.mkdir(parents=True, exist_ok=True)
        dead.write_bytes(b"half a clip")
        with StateStore(prepared.state_path) as store:
            assert store.generation(planned.key).state == "generated"  # type: ignore[union-attr]
        recorder = Recorder()
        result, _ = await run(path, backend, sink=recorder)
    assert result.ok and emulator.counters.create_task_calls == 1
    assert recorder.states("generate:c0s0") == ["resumed", "downloading", "done"]
    assert not dead.exists() and not list(clips.glob("*.part"))


async def test_an_in_flight_create_is_refused_until_the_user_says_so(
    project: Path, tiny_renderer: TinyRenderer
) -> None:
    path = board(project, (2,), singles=1)
    async with shared_emulator(config(tiny_renderer)) as (backend, emulator):
        prepared = prepare(path, backend)
        head = prepared.plan.generations["c0s0"]
        with StateStore(prepared.state_path) as store:  # died between intent and task id
            store.begin_attempt(
                head.key,
                namespace="offline",
                storyboard=str(prepared.path),
                scene_id="c0s0",
                canonical=head.canonical,
            )
        assert prepare(path, backend).status["c0s0"].kind == "uncertain"
        result, _ = await run(path, backend)
        assert not result.ok
        assert "--resubmit-uncertain" in (result.generations["c0s0"].error or "")
        assert "not run" in (result.generations["c0s1"].error or "")
        assert result.generations["single0"].ok  # an independent scene goes on
        assert emulator.counters.create_task_calls == 1
        again, _ = await run(path, backend)  # still refused: the journal says uncertain
        assert not again.ok and emulator.counters.create_task_calls == 1
        forced, _ = await run(path, backend, fast_options(resubmit_uncertain=True))
    assert forced.ok and emulator.counters.create_task_calls == 3


async def test_a_dropped_create_is_uncertain_and_not_retried(
    project: Path, tiny_renderer: TinyRenderer
) -> None:
    path = board(project, (1,))
    async with shared_emulator(config(tiny_renderer)) as (backend, emulator):
        emulator.faults.force("drop_create")
        result, _ = await run(path, backend)
        assert not result.ok and "--resubmit-uncertain" in (result.generations["c0s0"].error or "")
        assert emulator.counters.tasks_created == 1  # the service did create (and charge) it
        assert prepare(path, backend).status["c0s0"].kind == "uncertain"


async def test_failed_generations_are_retried_within_the_budget_and_accounted(
    project: Path, tiny_renderer: TinyRenderer
) -> None:
    path = board(project, (1,))
    async with shared_emulator(config(tiny_renderer)) as (backend, emulator):
        emulator.faults.force("generation_fail", 2)
        recorder = Recorder()
        result, _ = await run(path, backend, fast_options(retry_budget=2), recorder)
        stats = emulator.stats()
    assert result.ok
    gen = result.generations["c0s0"]
    assert (gen.retries, gen.failures, gen.attempts, len(gen.task_ids)) == (2, 2, 3, 3)
    summary = result.to_json()
    assert summary["tasks_created"] == 3 and summary["tasks_failed"] == 2
    assert summary["retries"] == 2 == recorder.states("generate:c0s0").count("retrying")
    per_task = summary["credits"] / 3
    assert summary["credits_failed"] == 2 * per_task
    assert stats["credits_spent"] == summary["credits"] - summary["credits_failed"]
    assert stats["tasks_by_state"] == {"fail": 2, "success": 1}


async def test_the_budget_ends_a_generation_that_keeps_failing(
    project: Path, tiny_renderer: TinyRenderer
) -> None:
    path = board(project, (2,))
    async with shared_emulator(config(tiny_renderer)) as (backend, emulator):
        emulator.faults.force("generation_fail", 2)
        result, _ = await run(path, backend, fast_options(retry_budget=1))
    assert not result.ok
    assert "failed 2 time(s)" in (result.generations["c0s0"].error or "")
    assert "not run" in (result.generations["c0s1"].error or "")
    assert emulator.counters.create_task_calls == 2


async def test_a_finished_storyboard_makes_no_request_at_all(
    project: Path, tiny_renderer: TinyRenderer
) -> None:
    path = board(project, (2,), singles=1)
    async with shared_emulator(config(tiny_renderer)) as (backend, emulator):
        first, _ = await run(path, backend)
        requests, uploads = emulator.counters.requests, emulator.counters.uploads
        recorder = Recorder()
        second, prepared = await run(path, backend, sink=recorder)
    assert first.ok and second.ok and second.submitted == []
    assert emulator.counters.requests == requests and emulator.counters.uploads == uploads
    assert {e.state for e in recorder.events} == {"cached"}
    assert all(st.kind == "cached" for st in prepared.status.values())


async def test_the_critical_path_gets_the_slot_first(
    project: Path, tiny_renderer: TinyRenderer
) -> None:
    """With one slot, the chain (the critical path) runs link after link before the
    independent scenes, although those are ready first (its last link then weighs the
    same as an independent scene)."""
    path = board(project, (3,), singles=3)
    async with shared_emulator(config(tiny_renderer, latency=0.1)) as (backend, _):
        recorder = Recorder()
        result, _ = await run(path, backend, fast_options(concurrency=1), recorder)
    assert result.ok
    created = recorder.created()
    assert created[:2] == ["c0s0", "c0s1"] and sorted(created) == sorted(result.generations)


async def test_a_failed_upload_releases_the_slot_kept_for_its_scene(
    project: Path, tiny_renderer: TinyRenderer
) -> None:
    path = board(project, (2,), singles=2)
    async with shared_emulator(config(tiny_renderer, latency=0.1)) as (backend, emulator):
        emulator.faults.force("http_error", 20, code=422)  # not retried: the uploads fail
        result, _ = await asyncio.wait_for(run(path, backend, fast_options(concurrency=1)), 20)
    assert not result.ok and result.submitted == []
    assert all(not g.ok for g in result.generations.values())


def test_run_result_json_lists_every_figure() -> None:
    result = RunResult({}, {}, 1.0, ["t1", "t2"], {"t2": 5.0}, api_retries=3)
    assert result.to_json() == {
        "ok": True,
        "elapsed_s": 1.0,
        "credits": 0,
        "credits_actual": None,
        "tasks_created": 2,
        "tasks_failed": 1,
        "credits_failed": 5.0,
        "retries": 0,
        "api_retries": 3,
        "generations": {},
        "takes": {},
        "failures": {},
    }


async def test_api_retries_are_counted_by_the_backends_own_client(project: Path) -> None:
    """The offline backend builds its client itself, so the run can count its retries."""
    path = project / "storyboard.yaml"
    path.write_text(chain_storyboard((1,)), encoding="utf-8")
    result, _ = await run(path, Backend("offline", "offline", billed=False))
    assert result.ok and result.api_retries == 0


HOLE_IN_THE_CHAIN = """storyboard: 1
title: T
defaults: {mode: std, aspect_ratio: "16:9", sound: false}
elements:
  dog: {description: golden retriever, images: [refs/dog-1.png, refs/dog-2.png]}
scenes:
  - id: c0s0
    first_frame: refs/room.png
    shots: [{prompt: "the room", duration: 3}]
  - id: c0s1
    first_frame: {from: c0s0}
    shots: [{prompt: "@dog wakes up", duration: 3}]
  - id: c0s2
    first_frame: {from: c0s1}
    shots: [{prompt: "the room again", duration: 3}]
  - id: single0
    first_frame: refs/harbour.png
    shots: [{prompt: "the harbour", duration: 3}]
output: out/t.mp4
"""


async def test_a_scene_whose_other_input_failed_earlier_keeps_no_slot(
    project: Path, tiny_renderer: TinyRenderer
) -> None:
    """c0s1 needs c0s0's last frame and an upload that fails first: when c0s0 finishes,
    c0s1 must not be expected (it never asks), or the single would wait for ever."""
    path = project / "storyboard.yaml"
    path.write_text(HOLE_IN_THE_CHAIN, encoding="utf-8")
    async with shared_emulator(config(tiny_renderer, latency=0.2)) as (backend, _):
        prepared = prepare(path, backend)
        (project / "refs" / "dog-1.png").unlink()  # its upload fails at once
        run_all = generate_all(prepared, fast_options(concurrency=1), Recorder())
        result = await asyncio.wait_for(run_all, 30)
    assert result.generations["c0s0"].ok and result.generations["single0"].ok
    assert not result.generations["c0s1"].ok and not result.generations["c0s2"].ok
