"""Versioned outputs: the offline renderer's version is in the offline content keys and the
assembler's version in the assembly key, so a changed renderer or assembler makes new
outputs; kie.ai content keys stay those of the previous release (its clips are paid for).

``tests/hostile/state/content-keys-0.1.0.json`` holds the examples' keys as the previous
release computed them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import storyboard.providers.animatic as animatic
import storyboard.run.render as render_module
from storyboard.plan import build_plan
from storyboard.providers.emulator import Emulator
from storyboard.run.backend import Backend, choose_backend
from storyboard.run.render import prepare, render

from .run_helpers import EXAMPLES, copy_examples

PREVIOUS = Path(__file__).resolve().parents[1] / "hostile" / "state" / "content-keys-0.1.0.json"
KEYS: dict[str, dict[str, dict[str, str]]] = json.loads(PREVIOUS.read_text("utf-8"))["examples"]
BACKENDS = {
    "kie": {"KIE_API_KEY": "k"},
    "emulator": {"KIE_API_KEY": "k", "KIE_BASE_URL": "http://127.0.0.1:9"},
}


def test_every_example_has_keys_of_the_previous_release() -> None:
    assert sorted(KEYS) == sorted(p.name for p in EXAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("name", sorted(KEYS))
@pytest.mark.parametrize("service", sorted(BACKENDS))
def test_kie_content_keys_are_those_of_the_previous_release(
    name: str, service: str, tmp_path: Path
) -> None:
    backend = choose_backend("kie", BACKENDS[service])
    assert backend.renderer is None
    prepared = prepare(copy_examples(tmp_path / "p") / name, backend, read_journal=False)
    keys = {scene: planned.key for scene, planned in prepared.plan.generations.items()}
    assert keys == KEYS[name][service]
    assert all("renderer" not in p.canonical for p in prepared.plan.generations.values())


@pytest.mark.parametrize("name", sorted(KEYS))
def test_offline_keys_differ_from_the_previous_release_only_by_the_renderer(
    name: str, tmp_path: Path
) -> None:
    offline = choose_backend("offline", {})
    assert offline.renderer == f"animatic {animatic.ANIMATIC_VERSION}"
    prepared = prepare(copy_examples(tmp_path / "p") / name, offline, read_journal=False)
    keys = {scene: planned.key for scene, planned in prepared.plan.generations.items()}
    assert set(keys) == set(KEYS[name]["offline"])
    assert not set(keys.values()) & set(KEYS[name]["offline"].values())
    report, plan = prepared.report, prepared.plan
    unversioned = build_plan(report.generations, plan.file_hashes, namespace="offline")
    keys = {scene: planned.key for scene, planned in unversioned.generations.items()}
    assert keys == KEYS[name]["offline"]


def _offline() -> Backend:
    return choose_backend("offline", {})


def test_a_new_animatic_version_renders_the_clips_again(
    tmp_path: Path, offline_emulators: list[Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    board = copy_examples(tmp_path / "p") / "single-shot.yaml"
    first = render(board, backend=_offline(), assemble=False)
    again = render(board, backend=_offline(), assemble=False)
    assert first.result.ok and again.result.ok
    assert [e.stats()["create_task_calls"] for e in offline_emulators] == [1, 0]
    version = animatic.ANIMATIC_VERSION
    monkeypatch.setattr(animatic, "ANIMATIC_VERSION", version + 1)
    status = prepare(board, _offline()).status["hello"]
    assert (status.kind, status.reasons) == ("stale", ["renderer changed"])
    bumped = render(board, backend=_offline(), assemble=False)
    assert bumped.result.ok and offline_emulators[2].stats()["create_task_calls"] == 1
    assert bumped.result.clips()["hello"] != first.result.clips()["hello"]
    monkeypatch.setattr(animatic, "ANIMATIC_VERSION", version)
    back = render(board, backend=_offline(), assemble=False)  # the old clip is still journaled
    assert back.result.ok and offline_emulators[3].stats()["create_task_calls"] == 0


def test_a_new_assembler_version_assembles_again(
    tmp_path: Path, offline_emulators: list[Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    board = copy_examples(tmp_path / "p") / "single-shot.yaml"
    first = render(board, backend=_offline())
    again = render(board, backend=_offline())
    assert first.edit is not None and not first.edit.reused
    assert again.edit is not None and again.edit.reused
    monkeypatch.setattr(render_module, "ASSEMBLER_VERSION", render_module.ASSEMBLER_VERSION + 1)
    bumped = render(board, backend=_offline())
    assert bumped.edit is not None and not bumped.edit.reused
    assert [e.stats()["create_task_calls"] for e in offline_emulators] == [1, 0, 0]
