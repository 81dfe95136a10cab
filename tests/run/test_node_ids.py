"""Plan node ids are typed: a kind and a name, kept as parts, shown as ``kind:name``."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import pytest

from storyboard.plan import NodeId, build_plan
from storyboard.run.events import Event

from .run_helpers import EXAMPLES, compile_text

HASHES = {
    "refs/room.png": "a" * 64,
    "refs/dog-1.png": "b" * 64,
    "refs/dog-2.png": "c" * 64,
    "refs/cat.mp4": "d" * 64,
}


def test_every_graph_node_carries_its_kind_and_name(tmp_path: Path) -> None:
    source = (EXAMPLES / "continuity-chain.yaml").read_text(encoding="utf-8")
    plan = build_plan(
        compile_text(source, tmp_path), HASHES, namespace="offline", takes={"chase": 2}
    )
    nodes = {(n.kind, n.name): n for n in plan.graph}
    assert all(isinstance(n, NodeId) for n in plan.graph)
    assert all(plan.graph.nodes[n]["kind"] == n.kind for n in plan.graph)
    assert nodes["upload", "refs/dog-1.png"] == "upload:refs/dog-1.png"
    assert nodes["frame", "wake-up"] == "frame:wake-up"
    assert nodes["take", "chase#2"] == "take:chase#2"
    assert nodes["assemble", ""] == "assemble"
    assert plan.planned_for(nodes["take", "chase#2"]).take == 2
    assert plan.planned_for("generate:chase").take == 1  # the text finds the same node


def test_a_name_with_a_colon_stays_whole() -> None:
    node = NodeId("upload", "refs/12:30.png")
    assert (node.kind, node.name, str(node)) == (
        "upload",
        "refs/12:30.png",
        "upload:refs/12:30.png",
    )


def test_the_text_form_is_what_json_the_journal_and_lookups_see() -> None:
    node = NodeId("generate", "wake-up")
    assert node == "generate:wake-up" and hash(node) == hash("generate:wake-up")
    assert {"generate:wake-up": 1}[node] == 1
    assert json.dumps({node: [node]}) == '{"generate:wake-up": ["generate:wake-up"]}'
    assert repr(node) == "'generate:wake-up'"


@pytest.mark.parametrize(
    "clone", [copy.copy, copy.deepcopy, lambda n: pickle.loads(pickle.dumps(n))]
)
def test_copies_keep_the_parts(clone: object) -> None:
    node = NodeId("take", "wake-up#2")
    again = clone(node)  # type: ignore[operator]
    assert isinstance(again, NodeId) and (again.kind, again.name) == ("take", "wake-up#2")


def test_a_node_id_cannot_be_changed() -> None:
    node = NodeId("clip", "a")
    with pytest.raises(AttributeError):
        node.name = "b"  # type: ignore[misc]


def test_an_event_knows_its_scene_from_the_node_kind() -> None:
    assert Event(NodeId("generate", "a"), "done").scene == "a"
    assert Event(NodeId("take", "a#2"), "done").scene == "a#2"
    assert Event(NodeId("frame", "a"), "done").scene is None
    assert Event(NodeId("upload", "generate:x.png"), "done").scene is None
    assert Event(NodeId("generate", "a"), "done").to_json()["node"] == "generate:a"
