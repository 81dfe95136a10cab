"""Done-when 5: with 20 % of API calls failing (HTTP 500/429/455) and 10 % of generations
failing (501), renders complete, and the summary accounts for every retry and every
credit spent — checked against the emulator's own counters."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from storyboard.cli import app
from storyboard.providers.emulator import EmulatorConfig, FaultConfig, ServedEmulator
from storyboard.providers.emulator.faults import Fault
from tests.emulator_server import point_at

from .run_helpers import EXAMPLES, TinyRenderer, chain_storyboard, journal_rows, temp_files

CREDITS = 1_000_000


class FaultLedger:
    """Which endpoint each injected HTTP error hit (the emulator counts only the total)."""

    def __init__(self, served: ServedEmulator) -> None:
        emulator, self.by_endpoint = served.emulator, Counter[str]()
        count_call, roll = emulator.count_call, emulator.faults.roll
        last: dict[str, str] = {}

        def counting(endpoint: str) -> None:
            last["endpoint"] = endpoint  # the fault is rolled next, with no await between
            count_call(endpoint)

        def rolling(kind: str) -> Fault | None:
            fault = roll(kind)
            if fault is not None and kind == "http_error":
                self.by_endpoint[last["endpoint"]] += 1
            return fault

        emulator.count_call = counting  # type: ignore[method-assign]
        emulator.faults.roll = rolling  # type: ignore[method-assign]


@pytest.fixture
def served(tiny_renderer: TinyRenderer, request: pytest.FixtureRequest) -> Iterator[ServedEmulator]:
    faults = FaultConfig(seed=request.param, http_error_rate=0.2, generation_fail_rate=0.1)
    config = EmulatorConfig(latency=0.3, credits=CREDITS, renderer=tiny_renderer, faults=faults)
    with ServedEmulator(config, log_level="critical") as emulator:
        yield emulator


def render(served: ServedEmulator, path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    point_at(
        monkeypatch,
        served.base_url,
        served.config.api_key,
        POLL_MAX_INTERVAL="0.2",
        RETRY_BASE_DELAY="0.01",
        RETRY_MAX_DELAY="0.05",
        MAX_ATTEMPTS="10",
    )
    args = ["render", str(path), "--json", "--no-assemble", "--rate", "100", "--retry-budget", "4"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("served", [7, 2026], indirect=True)
def test_faults_are_survived_and_every_retry_and_credit_accounted(
    served: ServedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "refs").mkdir()
    for name in ("room.png", "harbour.png"):
        (tmp_path / "refs" / name).write_bytes((EXAMPLES / "refs" / name).read_bytes())
    path = tmp_path / "storyboard.yaml"
    path.write_text(chain_storyboard((3, 2), singles=5), encoding="utf-8")
    ledger = FaultLedger(served)
    served.emulator.faults.force("generation_fail")  # at least one, whatever the timing
    events = render(served, path, monkeypatch)
    summary, stats = events[-1], served.emulator.stats()
    assert summary["event"] == "summary" and summary["ok"] is True
    generations = summary["generations"]
    assert len(generations) == 10

    # every injected fault happened, and every one was answered by a retry
    injected = stats["faults_injected"]
    assert injected.get("http_error", 0) > 0, stats
    assert summary["api_retries"] == injected.get("http_error", 0)
    assert sum(ledger.by_endpoint.values()) == injected.get("http_error", 0)

    # tasks: created, failed, retried
    failed = stats["tasks_by_state"].get("fail", 0)
    assert failed >= 1
    assert (
        summary["tasks_created"] == stats["tasks_created"] == sum(stats["tasks_by_state"].values())
    )
    assert summary["tasks_failed"] == failed == summary["retries"]
    assert stats["create_task_calls"] == summary["tasks_created"] + ledger.by_endpoint["createTask"]
    retrying = [e for e in events if e.get("state") == "retrying"]
    assert len(retrying) == summary["retries"]
    for scene, gen in generations.items():
        assert gen["ok"] and gen["retries"] == gen["failures"], scene
        assert len(gen["task_ids"]) == 1 + gen["retries"], scene

    # credits: what the run says it spent is what the account lost
    assert summary["credits"] - summary["credits_failed"] == stats["credits_spent"]
    assert stats["credits_left"] == CREDITS - stats["credits_spent"]
    assert summary["credits"] == sum(g["credits"] for g in generations.values())
    state = tmp_path / ".storyboard" / "state.sqlite"
    journal = journal_rows(state, "SELECT state, COUNT(*), SUM(credits) FROM tasks GROUP BY state")
    by_state = {s: (n, c) for s, n, c in journal}
    assert by_state["success"] == (10, summary["credits"] - summary["credits_failed"])
    assert by_state.get("fail", (0, 0))[0] == failed
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize("served", [3], indirect=True)
def test_the_human_summary_names_failed_tasks_and_repeated_requests(
    served: ServedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "room.png").write_bytes((EXAMPLES / "refs" / "room.png").read_bytes())
    path = tmp_path / "storyboard.yaml"
    path.write_text(chain_storyboard((1,)), encoding="utf-8")
    served.emulator.faults.force("generation_fail")
    served.emulator.faults.force("http_error", code=500)
    point_at(monkeypatch, served.base_url, served.config.api_key, RETRY_BASE_DELAY="0.01")
    result = CliRunner().invoke(app, ["render", str(path), "--no-assemble", "--rate", "100"])
    assert result.exit_code == 0, result.output
    assert "2 task(s) created" in result.stderr
    assert "1 task(s) failed and were created again (1 retries)" in result.stderr
    assert "request(s) repeated after a service or network error" in result.stderr
