"""Batches on a Dask LocalCluster: the same videos as in-process, global generation slots,
and a worker killed mid-batch without any generation paid twice."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.providers.emulator import ServedEmulator
from storyboard.recipes import BatchResult, JobResult, connect, load_recipe, plan_batch, run_batch
from storyboard.recipes.limits import ClusterLimits, distributed

from .recipe_helpers import distinct_keys, output_facts, stats, write_rows

pytest.importorskip("distributed")


@pytest.fixture
def cluster() -> Iterator[Any]:
    with connect("local", workers=2, threads=2) as client:
        yield client


def test_slots_and_rate_are_global_across_workers(cluster: Any, tmp_path: Path) -> None:
    def hold_slots(limits: ClusterLimits, holds: int, tally: str) -> None:
        """On a worker: take a slot ``holds`` times at once, each for 0.3 s, making one
        paced request in it (a local function, so Dask ships it by value: workers can't
        import the tests). Holders count themselves in and out of the ``tally`` file
        (under an exclusive lock, shared by every worker process), keeping the peak.
        The bucket's clock is frozen, so its state counts reservations, not seconds."""
        import fcntl
        import json

        import storyboard.recipes.limits as module

        module.time = type("Frozen", (), {"time": staticmethod(lambda: 1000.0)})

        def count(change: int) -> None:
            with open(tally, "r+") as file:
                fcntl.flock(file, fcntl.LOCK_EX)
                inside, peak = json.load(file)
                inside += change
                file.seek(0)
                file.truncate()
                json.dump([inside, max(peak, inside)], file)

        async def main() -> None:
            async def one() -> None:
                async with slots:
                    count(+1)
                    await limiter.acquire()
                    await asyncio.sleep(0.3)
                    count(-1)

            await asyncio.gather(*(one() for _ in range(holds)))

        with limits.open() as (slots, limiter):
            asyncio.run(main())

    tally = tmp_path / "tally.json"
    tally.write_text("[0, 0]")
    limits = ClusterLimits.create(cluster, concurrency=3, rate=10.0)
    try:
        futures = cluster.map(hold_slots, [limits] * 4, [3] * 4, [str(tally)] * 4, pure=False)
        cluster.gather(futures)
        tat = distributed().Variable(limits.rate_name, client=cluster).get()
    finally:
        limits.close(cluster)
    inside, peak = json.loads(tally.read_text())
    assert inside == 0 and peak == 3  # 12 holders on 2 workers, never more than 3 at once
    # one bucket for the cluster: 12 reservations of 1/10 s each from the frozen "now";
    # a burst of 3, then the 4th..12th waited 0.1..0.9 s (storyboard.ratelimit.reserve)
    assert tat == pytest.approx(1000.0 + 12 / 10.0)


def test_thirty_rows_in_process_and_on_a_cluster_give_the_same_videos(
    offline: None, mini: Path, tmp_path: Path, cluster: Any
) -> None:
    rows = write_rows(tmp_path / "rows.csv", [f"kite {i}" for i in range(30)])
    recipe = load_recipe(mini)
    local = run_batch(plan_batch(recipe, tmp_path / "local", rows_file=rows), parallel=2)
    remote = run_batch(plan_batch(recipe, tmp_path / "dask", rows_file=rows), client=cluster)
    assert local.summary()["done"] == remote.summary()["done"] == 30
    assert output_facts(local) == output_facts(remote)
    assert len({r.worker for r in remote.results}) == 2  # both workers rendered rows
    again = run_batch(plan_batch(recipe, tmp_path / "dask", rows_file=rows), client=cluster)
    assert again.count("cached") == 30 and again.tasks_created == 0


def test_a_running_scheduler_by_address(
    offline: None, mini: Path, tmp_path: Path, cluster: Any
) -> None:
    rows = write_rows(tmp_path / "rows.csv", ["sun", "moon"])
    plan = plan_batch(load_recipe(mini), tmp_path / "out", rows_file=rows)
    with connect(cluster.scheduler.address) as client:
        result = run_batch(plan, client=client)
    assert result.runner == f"dask ({cluster.scheduler.address})"
    assert [r.status for r in result.results] == ["done", "done"]


def test_a_worker_killed_mid_batch_pays_nothing_twice(
    served: ServedEmulator, mini: Path, tmp_path: Path, cluster: Any
) -> None:
    rows = write_rows(tmp_path / "rows.csv", [f"boat {i}" for i in range(12)], scenes=2)
    plan = plan_batch(load_recipe(mini), tmp_path / "out", rows_file=rows)
    pids = cluster.run(os.getpid)
    killed: list[str] = []

    def kill_a_busy_worker(result: JobResult) -> None:
        if killed:
            return
        busy = [w for w, keys in cluster.processing().items() if keys]
        os.kill(pids[busy[0]], signal.SIGKILL)
        killed.append(busy[0])

    result: BatchResult = run_batch(plan, client=cluster, on_result=kill_a_busy_worker)
    assert killed
    # a row the killed worker had finished is "cached" when the cluster runs it again
    uncertain = [r for r in result.results if r.status not in ("done", "cached")]
    # The one unclosable window: killed while a createTask was in flight. Such a row fails
    # rather than pay twice; the user checks the dashboard and resubmits it.
    assert all("in flight" in (r.error or "") for r in uncertain), [r.error for r in uncertain]
    if uncertain:
        plan = plan_batch(
            load_recipe(mini), tmp_path / "out", rows_file=rows, resubmit_uncertain=True
        )
        assert run_batch(plan, client=cluster).count("failed") == 0
    counters = stats(served)
    assert counters["create_task_calls"] == counters["tasks_created"]
    assert 24 <= counters["create_task_calls"] <= 24 + len(uncertain)  # == 24 in practice
    assert len(distinct_keys(result)) == 24
    assert result.tasks_created <= 24  # rows re-run after the kill resumed their tasks
