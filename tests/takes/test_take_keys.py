"""Take keys: take 1 keeps the key a scene had before takes existed (journals made before
takes never pay again); every other take is its own generation; continuity follows the
picked take."""

from __future__ import annotations

from pathlib import Path

from storyboard.load import load_text
from storyboard.plan import NodeId, build_plan
from storyboard.validate import validate_loaded

TEXT = """\
storyboard: 1
title: T
scenes:
  - id: a
    shots: [{prompt: "one", duration: 3}]
  - id: b
    first_frame: {from: a}
    shots: [{prompt: "two", duration: 3}]
"""


def generations(tmp_path: Path):  # type: ignore[no-untyped-def]
    report = validate_loaded(load_text(TEXT, tmp_path / "s.yaml"), check_files=False)
    assert report.ok, [str(d) for d in report.errors]
    return report.generations


def test_take_one_keeps_the_key_of_a_scene_without_takes(tmp_path: Path) -> None:
    gens = generations(tmp_path)
    plain = build_plan(gens, {}, namespace="offline")
    takes = build_plan(gens, {}, namespace="offline", takes={"a": 3, "b": 2})
    assert {s: p.key for s, p in plain.generations.items()} == {
        s: p.key for s, p in takes.generations.items()
    }
    keys = [p.key for t in takes.takes.values() for p in t.values()]
    assert len(keys) == len(set(keys)) == 5
    assert takes.takes["a"][2].canonical == {**plain.generations["a"].canonical, "take": 2}
    assert sorted(n for n in takes.graph if n.startswith("take:")) == [
        "take:a#2",
        "take:a#3",
        "take:b#2",
    ]
    assert set(takes.graph.predecessors("take:b#2")) == {NodeId("frame", "a")}


def test_continuity_follows_the_picked_take(tmp_path: Path) -> None:
    gens = generations(tmp_path)
    first = build_plan(gens, {}, namespace="offline", takes={"a": 2})
    second = build_plan(gens, {}, namespace="offline", takes={"a": 2}, picks={"a": 2})
    assert second.generations["a"].key == first.takes["a"][2].key
    assert second.generations["b"].key != first.generations["b"].key
    frame = second.generations["b"].canonical["request"]["input"]["image_urls"][0]
    assert frame == f"last-frame-of:{first.takes['a'][2].key}"
    assert second.take_node(first.takes["a"][1]) == "take:a#1"
    assert second.planned_for("take:a#1").key == first.generations["a"].key
    picked_beyond = build_plan(gens, {}, namespace="offline", picks={"a": 3})
    assert sorted(picked_beyond.takes["a"]) == [1, 2, 3]
