"""Offline, a createTask that was in flight when a run died is simply created again: the
in-process emulator that might hold it died with that run, and nothing is billed."""

from __future__ import annotations

import shutil
from pathlib import Path

import storyboard
from storyboard.run.backend import choose_backend
from storyboard.run.render import prepare
from storyboard.store import StateStore

ROOT = Path(__file__).resolve().parents[2]


def test_offline_resubmits_an_in_flight_create(tmp_path: Path) -> None:
    shutil.copytree(
        ROOT / "examples", tmp_path / "p", ignore=shutil.ignore_patterns("out", ".storyboard")
    )
    path = tmp_path / "p" / "single-shot.yaml"
    prepared = prepare(path, choose_backend("offline"))
    (planned,) = prepared.plan.generations.values()
    with StateStore(prepared.state_path) as store:
        store.begin_attempt(
            planned.key,
            namespace=prepared.plan.namespace,
            storyboard=str(path.resolve()),
            scene_id=planned.scene_id,
            canonical=planned.canonical,
        )
    assert prepare(path, choose_backend("offline")).status[planned.scene_id].kind == "uncertain"
    outcome = storyboard.render(path, backend=choose_backend("offline"))
    assert outcome.ok and outcome.result.generations[planned.scene_id].ok
    assert len(outcome.result.submitted) == 1
