"""A batch in-process against one served emulator: every generation paid once, a bad row
reported by number while the others finish, and a re-run that submits nothing."""

from __future__ import annotations

from pathlib import Path

from storyboard.providers.emulator import ServedEmulator
from storyboard.recipes import load_recipe, plan_batch, run_batch
from storyboard.store import StateStore

from .recipe_helpers import distinct_keys, stats, write_rows


def test_batch_pays_once_reports_bad_rows_and_reruns_cached(
    served: ServedEmulator, mini: Path, tmp_path: Path
) -> None:
    names = [f"kite {i}" for i in range(6)] + ["kite 0"]  # row 7 repeats row 1's generation
    rows = write_rows(tmp_path / "rows.csv", names, seconds=3)
    text = rows.read_text().splitlines()
    text.insert(3, "this name is far too long to be a good name for a kite,3")  # row 3
    rows.write_text("\n".join(text) + "\n")
    recipe = load_recipe(mini)
    plan = plan_batch(recipe, tmp_path / "out", rows_file=rows)
    assert plan.backend.name == "kie" and not plan.backend.billed
    assert plan.cost()["generations"] == 6  # 7 good rows, 6 distinct generations

    result = run_batch(plan, parallel=4)
    by_row = {r.row_number: r for r in result.results}
    assert by_row[3].status == "invalid"
    assert by_row[3].diagnostics[0].startswith(f"{rows}:4:1: name: row 3: ")
    assert [r.status for n, r in sorted(by_row.items()) if n != 3] == ["done"] * 7
    assert result.exit_code == 2 and result.summary()["invalid"] == 1
    counters = stats(served)
    assert counters["create_task_calls"] == len(distinct_keys(result)) == 6
    assert result.tasks_created == 6
    journal = StateStore(plan.jobs[0].job.state)
    try:
        for key in distinct_keys(result):
            assert len(journal.tasks(key)) == 1
    finally:
        journal.close()

    before = stats(served)
    again = run_batch(plan_batch(recipe, tmp_path / "out", rows_file=rows), parallel=4)
    assert [r.status for r in again.results if r.row_number != 3] == ["cached"] * 7
    assert again.credits == 0 and again.tasks_created == 0
    after = stats(served)
    assert after["requests"] == before["requests"], after  # no API call at all, not even a poll
    assert after["downloads"] == before["downloads"] and after["uploads"] == before["uploads"]
