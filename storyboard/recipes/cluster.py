"""Running a batch's jobs on Dask distributed: a LocalCluster or an existing scheduler.

Each job (one storyboard: generation + assembly) is one Dask task. Jobs that share a
generation are chained (the later one depends on the earlier one's future) so that two
processes never create the same task at once; the rest run in parallel on the workers.
When a worker dies, Dask runs its unfinished jobs again elsewhere; the shared SQLite
journal makes the re-run poll the tasks already created instead of paying again.
dask is imported only here, and only when a cluster is asked for.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from storyboard.errors import StoryboardError
from storyboard.recipes.jobs import Job, JobResult, RenderSettings, hold_journals, run_job
from storyboard.recipes.limits import ClusterLimits, distributed

__all__ = [
    "LOCAL_CLUSTER_CONFIG",
    "ClusterUnavailable",
    "connect",
    "dask_available",
    "run_on_cluster",
]

LOCAL_CLUSTER_CONFIG = {
    "distributed.scheduler.locks.lease-timeout": "10s",
    "distributed.scheduler.locks.lease-validation-interval": "2s",
}
"""A dead worker's generation slots come back after 10 s (Dask's default is 30 s)."""


class ClusterUnavailable(StoryboardError):
    """dask.distributed is not installed, or the scheduler can't be reached."""


def dask_available() -> bool:
    """True when ``dask.distributed`` can be imported (the ``dask`` extra)."""
    return importlib.util.find_spec("distributed") is not None


@contextmanager
def connect(address: str, *, workers: int = 2, threads: int = 2) -> Iterator[Any]:
    """A ``distributed.Client``: ``local`` starts a LocalCluster of ``workers`` processes
    with ``threads`` jobs each; ``tcp://HOST:PORT`` connects to a running scheduler."""
    if not dask_available():
        raise ClusterUnavailable("--cluster needs dask.distributed: pip install 'storyboard[dask]'")
    import dask

    dd = distributed()
    if address != "local":
        try:
            client = dd.Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ClusterUnavailable(
                f"cannot reach the Dask scheduler at {address}: {exc}"
            ) from exc
        with client:
            yield client
        return
    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        cluster = dd.LocalCluster(
            n_workers=workers,
            threads_per_worker=threads,
            processes=True,
            dashboard_address=":0",  # a free port: never "8787 is already in use"
        )
        with cluster, dd.Client(cluster) as client:
            yield client


def run_on_cluster(
    client: Any,
    chains: list[list[Job]],
    settings: RenderSettings,
    on_result: Callable[[JobResult], None] = lambda result: None,
) -> list[JobResult]:
    """Run the chains of jobs on ``client``'s cluster; a result per job, as they finish
    (a journal the jobs share is locked here, for the whole run)."""
    with hold_journals([job for chain in chains for job in chain], settings):
        return _run_chains(client, chains, settings, on_result)


def _run_chains(
    client: Any,
    chains: list[list[Job]],
    settings: RenderSettings,
    on_result: Callable[[JobResult], None],
) -> list[JobResult]:
    as_completed = distributed().as_completed
    limits = (
        ClusterLimits.create(client, settings.concurrency, settings.rate)
        if (settings.shared)
        else None
    )
    jobs: dict[str, Job] = {}
    futures = []
    batch = uuid.uuid4().hex[:8]
    try:
        for chain in chains:
            previous = None
            for job in chain:
                after = () if previous is None else (previous,)
                future = client.submit(
                    run_job,
                    job,
                    settings,
                    limits,
                    *after,
                    key=f"storyboard-{batch}-{job.key}",
                    pure=False,
                )
                jobs[future.key] = job
                futures.append(future)
                previous = future
        return [_collect(f, jobs[f.key], on_result) for f in as_completed(futures)]
    except BaseException:
        client.cancel(futures)
        raise
    finally:
        if limits is not None:
            limits.close(client)


def _collect(future: Any, job: Job, on_result: Callable[[JobResult], None]) -> JobResult:
    try:
        result: JobResult = future.result()
    except Exception as exc:  # the cluster gave up on it (e.g. workers kept dying)
        result = JobResult.of(
            job, "failed", error=f"the cluster could not run it: {type(exc).__name__}: {exc}"
        )
    on_result(result)
    return result
