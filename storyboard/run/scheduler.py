"""Run a DAG of async steps: each node starts as soon as its inputs are done.

No business logic here: the caller gives the graph and one coroutine that runs a node
from its dependencies' results. A failed node blocks only what depends on it; the other
branches keep going. Cancelling (Ctrl-C) cancels every running node and waits for them,
so each step's own cleanup (and its journal writes) completes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import networkx as nx

__all__ = ["Blocked", "NodeOutcome", "execute"]

N = TypeVar("N", bound=Hashable)
"""The graph's node type (the plan's :class:`~storyboard.plan.NodeId`, or any hashable)."""
RunNode = Callable[[N, Mapping[N, Any]], Awaitable[Any]]


class Blocked(Exception):
    """A node did not run because a node it needs failed."""

    def __init__(self, node: Hashable, failed: list[Any]) -> None:
        super().__init__(f"not run: {', '.join(map(str, failed))} failed")
        self.node, self.failed = node, failed


@dataclass(frozen=True)
class NodeOutcome(Generic[N]):
    """What became of one node: a result, or the exception that ended it."""

    node: N
    result: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def execute(
    graph: nx.DiGraph, run_node: RunNode[N], *, nodes: set[N] | None = None
) -> dict[N, NodeOutcome[N]]:
    """Run ``nodes`` (default: all) of ``graph`` in dependency order, concurrently."""
    wanted = set(graph.nodes) if nodes is None else nodes
    futures: dict[N, asyncio.Future[Any]] = {}
    loop = asyncio.get_running_loop()
    for node in nx.topological_sort(graph):
        if node in wanted:
            futures[node] = loop.create_future()
    tasks = [
        asyncio.create_task(_run(node, graph, futures, run_node), name=str(node))
        for node in futures
    ]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            if not task.cancelling():  # a second cancel would cut the node's cleanup short
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return {node: _outcome(node, future) for node, future in futures.items()}


async def _run(
    node: N, graph: nx.DiGraph, futures: dict[N, asyncio.Future[Any]], run_node: RunNode[N]
) -> None:
    inputs: dict[N, Any] = {}
    failed: list[N] = []
    for dep in graph.predecessors(node):
        if dep not in futures:
            continue
        try:
            inputs[dep] = await asyncio.shield(futures[dep])
        except Exception:  # the dependency's own outcome records why
            failed.append(dep)
    future = futures[node]
    if failed:
        future.set_exception(Blocked(node, sorted(failed)))
        return
    try:
        future.set_result(await run_node(node, inputs))
    except asyncio.CancelledError:
        future.cancel()
        raise
    except Exception as exc:
        future.set_exception(exc)


def _outcome(node: N, future: asyncio.Future[Any]) -> NodeOutcome[N]:
    if future.cancelled():
        return NodeOutcome(node, error=asyncio.CancelledError())
    error = future.exception()
    return NodeOutcome(node, error=error) if error else NodeOutcome(node, future.result())
