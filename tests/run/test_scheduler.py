"""The DAG executor: nodes start as soon as their inputs are done, a failure blocks only
what depends on it, and cancelling waits for every running node's cleanup."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import networkx as nx
import pytest

from storyboard.run.scheduler import Blocked, execute

pytestmark = pytest.mark.anyio


def graph(*edges: tuple[str, str], nodes: tuple[str, ...] = ()) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    return g


async def test_results_flow_along_the_edges() -> None:
    g = graph(("a", "c"), ("b", "c"), ("c", "d"))

    async def run(node: str, inputs: Mapping[str, Any]) -> str:
        return node + "(" + ",".join(inputs[k] for k in sorted(inputs)) + ")"

    outcomes = await execute(g, run)
    assert outcomes["d"].result == "d(c(a(),b()))"
    assert all(o.ok for o in outcomes.values())


async def test_a_failure_blocks_only_its_dependents() -> None:
    g = graph(
        ("bad", "child"),
        ("child", "grandchild"),
        ("good", "other"),
        ("good", "join"),
        ("bad", "join"),
    )
    ran: list[str] = []

    async def run(node: str, inputs: Mapping[str, Any]) -> str:
        ran.append(node)
        if node == "bad":
            raise ValueError("broken input")
        return node

    outcomes = await execute(g, run)
    assert isinstance(outcomes["bad"].error, ValueError)
    for node, failed in (("child", ["bad"]), ("grandchild", ["child"]), ("join", ["bad"])):
        error = outcomes[node].error
        assert isinstance(error, Blocked) and error.failed == failed, (node, error)
    assert outcomes["good"].ok and outcomes["other"].ok
    assert sorted(ran) == ["bad", "good", "other"]
    assert "not run: bad failed" in str(outcomes["join"].error)


async def test_a_node_starts_while_an_unrelated_one_still_runs() -> None:
    g = graph(("fast", "after-fast"), nodes=("slow",))
    release = asyncio.Event()
    order: list[str] = []

    async def run(node: str, inputs: Mapping[str, Any]) -> str:
        if node == "slow":
            await release.wait()
        order.append(node)
        if node == "after-fast":
            release.set()
        return node

    await asyncio.wait_for(execute(g, run), timeout=5)
    assert order == ["fast", "after-fast", "slow"]


async def test_only_the_wanted_nodes_run_and_missing_inputs_are_ignored() -> None:
    g = graph(("upload", "generate"), ("generate", "assemble"))
    ran: list[str] = []

    async def run(node: str, inputs: Mapping[str, Any]) -> str:
        ran.append(node)
        return node

    outcomes = await execute(g, run, nodes={"generate"})
    assert ran == ["generate"] and set(outcomes) == {"generate"}


async def test_cancelling_cancels_running_nodes_and_waits_for_their_cleanup() -> None:
    g = graph(("a", "after-a"), nodes=("b",))
    started = asyncio.Event()
    cleaned: list[str] = []
    ran: list[str] = []

    async def run(node: str, inputs: Mapping[str, Any]) -> str:
        ran.append(node)
        try:
            if node in {"a", "b"}:
                started.set()
                await asyncio.sleep(60)
            return node
        finally:
            await asyncio.sleep(0.01)  # cleanup that itself awaits (a journal write, a delete)
            cleaned.append(node)

    run_all = asyncio.ensure_future(execute(g, run))
    await started.wait()
    await asyncio.sleep(0.01)
    run_all.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run_all
    assert sorted(cleaned) == ["a", "b"]
    assert "after-a" not in ran


async def test_a_node_error_is_kept_not_raised() -> None:
    g = graph(nodes=("x",))

    async def run(node: str, inputs: Mapping[str, Any]) -> None:
        raise KeyError("x")

    outcomes = await execute(g, run)
    assert not outcomes["x"].ok and isinstance(outcomes["x"].error, KeyError)
