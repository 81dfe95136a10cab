"""End to end through the console script (slow: run with ``-m slow`` or
``tests/recipes/run_slow.sh``): a 30-row product-teaser batch on ``--cluster local``
against a served emulator, then the same command again, which submits nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from storyboard.providers.emulator import ServedEmulator

from .recipe_helpers import stats

pytestmark = pytest.mark.slow
pytest.importorskip("distributed")

STORYBOARD = Path(sys.executable).with_name("storyboard")


def test_cli_batch_on_a_local_cluster_then_nothing_to_do(
    served: ServedEmulator, tmp_path: Path
) -> None:
    rows = tmp_path / "products.csv"
    rows.write_text(
        "product,tagline\n" + "".join(f"Flask {i},Cold for {i + 1} hours\n" for i in range(30))
    )
    command = [
        str(STORYBOARD),
        "recipe",
        "run",
        "product-teaser",
        "--rows",
        str(rows),
        "--out",
        str(tmp_path / "out"),
        "--cluster",
        "local",
        "--workers",
        "2",
        "--rate",
        "100",
        "--json",
    ]
    first = subprocess.run(
        command, capture_output=True, text=True, env=os.environ, check=False, timeout=900
    )
    assert first.returncode == 0, first.stderr[-3000:]
    summary = json.loads(first.stdout)["summary"]
    assert summary["done"] == 30 and summary["runner"].startswith("dask")
    assert stats(served)["create_task_calls"] == summary["tasks_created"] == 90
    second = subprocess.run(
        command, capture_output=True, text=True, env=os.environ, check=False, timeout=300
    )
    assert second.returncode == 0, second.stderr[-3000:]
    again = json.loads(second.stdout)["summary"]
    assert (again["cached"], again["tasks_created"]) == (30, 0)
    assert again["runner"].startswith("in-process")  # nothing to render: no cluster started
    assert stats(served)["create_task_calls"] == 90
