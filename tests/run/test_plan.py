"""The plan: a DAG checked before anything runs, and content keys that change exactly when
what a generation would produce changes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from storyboard.compile import AssetSlot, Generation
from storyboard.diagnostics import FieldPath
from storyboard.plan import NodeId, PlanError, build_plan, changed_inputs, to_dot, to_mermaid

from .run_helpers import EXAMPLES, compile_text

HASHES = {
    "refs/room.png": "a" * 64,
    "refs/dog-1.png": "b" * 64,
    "refs/dog-2.png": "c" * 64,
    "refs/cat.mp4": "d" * 64,
}


def chase(tmp_path: Path, text: str | None = None) -> list[Generation]:
    source = (EXAMPLES / "continuity-chain.yaml").read_text(encoding="utf-8")
    return compile_text(text if text is not None else source, tmp_path)


def keys(generations: list[Generation], hashes: dict[str, str] = HASHES) -> dict[str, str]:
    plan = build_plan(generations, hashes, namespace="offline")
    return {scene: p.key for scene, p in plan.generations.items()}


def test_the_graph_has_uploads_frames_generations_and_assembly(tmp_path: Path) -> None:
    plan = build_plan(chase(tmp_path), HASHES, namespace="offline")
    assert plan.dependencies("generate:spotted") == [
        "frame:wake-up",
        "upload:refs/cat.mp4",
        "upload:refs/dog-1.png",
        "upload:refs/dog-2.png",
    ]
    assert plan.dependencies("frame:wake-up") == ["generate:wake-up"]
    assert plan.downstream("wake-up") == {"spotted", "chase"}
    assert plan.downstream("chase") == set()
    assert plan.order().index("generate:wake-up") < plan.order().index("generate:chase")
    assert plan.dependencies(NodeId("assemble")) == [
        "generate:chase",
        "generate:spotted",
        "generate:wake-up",
    ]
    assert '"frame:wake-up" -> "generate:spotted";' in to_dot(plan)
    assert to_mermaid(plan).startswith("flowchart LR\n")


def test_keys_are_stable_and_hold_content_hashes_not_urls(tmp_path: Path) -> None:
    first, again = keys(chase(tmp_path)), keys(chase(tmp_path))
    assert first == again and len(set(first.values())) == 3
    plan = build_plan(chase(tmp_path), HASHES, namespace="offline")
    text = str(plan.generations["spotted"].canonical)
    assert "sb://" not in text and "http" not in text
    assert f"sha256:{HASHES['refs/dog-1.png']}" in text
    assert f"last-frame-of:{first['wake-up']}" in text


def test_a_moved_file_with_the_same_content_keeps_every_key(tmp_path: Path) -> None:
    """A key depends on what a file holds, not where it is or which URL it was uploaded to
    (an upload expires after 3 days; uploading it again must not invalidate anything)."""
    source = (EXAMPLES / "continuity-chain.yaml").read_text(encoding="utf-8")
    moved = source.replace("refs/room.png", "stills/room-copy.png")
    hashes = {**HASHES, "stills/room-copy.png": HASHES["refs/room.png"]}
    assert keys(chase(tmp_path, moved), hashes) == keys(chase(tmp_path))


def test_a_changed_file_changes_its_scene_and_everything_downstream(tmp_path: Path) -> None:
    before = keys(chase(tmp_path))
    after = keys(chase(tmp_path), {**HASHES, "refs/room.png": "e" * 64})
    assert all(after[s] != before[s] for s in before)  # wake-up's first frame feeds the chain
    cat = keys(chase(tmp_path), {**HASHES, "refs/cat.mp4": "e" * 64})
    assert cat["wake-up"] == before["wake-up"]
    assert cat["spotted"] != before["spotted"] and cat["chase"] != before["chase"]


def test_an_edit_changes_that_scene_and_its_downstream_only(tmp_path: Path) -> None:
    source = (EXAMPLES / "continuity-chain.yaml").read_text(encoding="utf-8")
    before = keys(chase(tmp_path))
    edited = keys(chase(tmp_path, source.replace("and freezes", "and barks")))
    assert edited["wake-up"] == before["wake-up"]
    assert edited["spotted"] != before["spotted"] and edited["chase"] != before["chase"]
    last = keys(chase(tmp_path, source.replace("sheet music flying", "papers flying")))
    assert [s for s in before if last[s] != before[s]] == ["chase"]


def test_the_namespace_separates_keys(tmp_path: Path) -> None:
    offline = build_plan(chase(tmp_path), HASHES, namespace="offline")
    kie = build_plan(chase(tmp_path), HASHES, namespace="kie:https://api.kie.ai")
    assert {p.key for p in offline.generations.values()}.isdisjoint(
        p.key for p in kie.generations.values()
    )


def test_changed_inputs_names_the_paths() -> None:
    old = {"request": {"input": {"multi_prompt": [{"prompt": "a"}, {"prompt": "b"}], "x": 1}}}
    new = {"request": {"input": {"multi_prompt": [{"prompt": "a"}, {"prompt": "c"}], "x": 2}}}
    assert changed_inputs(old, new) == [
        "request.input.multi_prompt[1].prompt",
        "request.input.x",
    ]
    assert changed_inputs({"l": [1]}, {"l": [1, 2]}) == ["l"]


def _with_frames_from(gen: Generation, *scenes: str) -> Generation:
    slots = tuple(AssetSlot("last_frame", s, FieldPath(("scenes", 0))) for s in scenes)
    return dataclasses.replace(gen, assets=slots)


def test_a_cycle_is_refused_and_named(tmp_path: Path) -> None:
    text = "storyboard: 1\ntitle: t\nscenes:\n" + "".join(
        f"  - id: {s}\n    shots: [{{prompt: {s}, duration: 3}}]\n" for s in ("a", "b", "c")
    )
    a, b, c = compile_text(text, tmp_path)
    generations = [_with_frames_from(a, "c"), _with_frames_from(b, "a"), _with_frames_from(c, "b")]
    with pytest.raises(PlanError, match="cycle") as caught:
        build_plan(generations, {}, namespace="offline")
    message = str(caught.value)
    names = message.split(": ", 1)[1].split(" -> ")
    assert names[0] == names[-1] and sorted(names[:-1]) == ["a", "b", "c"], message


def test_a_missing_scene_is_refused_and_named(tmp_path: Path) -> None:
    text = "storyboard: 1\ntitle: t\nscenes:\n  - id: a\n    shots: [{prompt: a, duration: 3}]\n"
    (a,) = compile_text(text, tmp_path)
    with pytest.raises(PlanError, match=r"scene 'a' needs scene 'ghost', which does not exist"):
        build_plan([_with_frames_from(a, "ghost")], {}, namespace="offline")
