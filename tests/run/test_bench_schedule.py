"""The schedule benchmark's storyboard and lower bound (the benchmark itself is not a
timed test: ``python benchmarks/bench_schedule.py``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from storyboard.plan import build_plan

from .run_helpers import BENCHMARKS, compile_text


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_schedule", BENCHMARKS / "bench_schedule.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HASHES = {"refs/room.png": "a" * 64, "refs/harbour.png": "b" * 64}


def test_the_bench_storyboard_has_chains_and_at_least_12_generations(tmp_path: Path) -> None:
    module = bench()
    generations = compile_text(module.storyboard_text(), tmp_path)
    assert len(generations) >= 12
    assert sum(1 for g in generations if g.depends_on) == 5  # links after the chain heads


def test_the_lower_bound_is_the_critical_path_or_the_work_per_slot(tmp_path: Path) -> None:
    module = bench()
    plan = build_plan(compile_text(module.storyboard_text(), tmp_path), HASHES, namespace="offline")
    assert module.lower_bound(plan, 2.0, 4) == {
        "critical_path": 8.0,
        "work_per_slot": 7.0,
        "bound": 8.0,
    }
    assert module.lower_bound(plan, 2.0, 1)["bound"] == 28.0  # 14 generations on one slot
    wide = build_plan(
        compile_text(module.storyboard_text((2,), 10), tmp_path), HASHES, namespace="offline"
    )
    assert module.lower_bound(wide, 1.0, 4) == {
        "critical_path": 2.0,
        "work_per_slot": 3.0,
        "bound": 3.0,
    }
