"""The continuity cycle check (plain Python) agrees with networkx on any scene graph."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from storyboard.checks import _find_cycle, continuity_graph
from storyboard.spec import Storyboard


def _board(sources: list[int | None]) -> Storyboard:
    """Scene ``s{i}`` starts from scene ``s{sources[i]}`` (or from a file when None)."""
    scenes = [
        {
            "id": f"s{i}",
            "first_frame": "a.png" if source is None else {"from": f"s{source}"},
            "shots": [{"prompt": "x", "duration": 3}],
        }
        for i, source in enumerate(sources)
    ]
    return Storyboard.model_validate({"storyboard": 1, "title": "t", "scenes": scenes})


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.lists(st.none() | st.integers(0, n - 1), min_size=n, max_size=n)
    )
)
def test_a_cycle_is_found_exactly_when_networkx_finds_one(sources: list[int | None]) -> None:
    board = _board(sources)
    graph = continuity_graph(board)
    cycle = _find_cycle(board)
    assert bool(cycle) == (not nx.is_directed_acyclic_graph(graph))
    edges = list(zip(cycle, [*cycle[1:], *cycle[:1]], strict=True))
    assert all(graph.has_edge(a, b) for a, b in edges), (cycle, list(graph.edges))
    assert len(set(cycle)) == len(cycle)


def test_the_cycle_starts_where_networkx_starts() -> None:
    board = _board([1, 0])  # s0 from s1, s1 from s0
    assert [*_find_cycle(board), "s0"] == ["s0", "s1", "s0"]
    assert [edge[0] for edge in nx.find_cycle(continuity_graph(board))] == ["s0", "s1"]


def test_a_long_chain_has_no_cycle() -> None:
    assert _find_cycle(_board([None, *range(4999)])) == []
