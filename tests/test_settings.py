"""Every environment variable is parsed by one Settings; bad values name the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from storyboard.providers.kie import KieSettings
from storyboard.settings import Settings, SettingsError

SECRET = "sk-do-not-print-0123456789"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "single-shot.yaml"


def test_variables_are_parsed_and_empty_ones_are_unset() -> None:
    settings = Settings.from_env(
        {"KIE_POLL_TIMEOUT": "90", "KIE_BASE_URL": "", "STORYBOARD_CONFIRM_ABOVE": "250"}
    )
    assert settings.kie_poll_timeout == 90.0
    assert settings.kie_base_url is None
    assert settings.storyboard_confirm_above == 250.0
    assert Settings.from_env({}).storyboard_confirm_above == 100.0


def test_the_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_CONFIRM_ABOVE", "7")
    assert Settings.from_env().storyboard_confirm_above == 7.0
    assert Settings.from_env({}).storyboard_confirm_above == 100.0  # a mapping replaces it


def test_a_bad_value_names_its_variable() -> None:
    with pytest.raises(SettingsError, match=r"STORYBOARD_CONFIRM_ABOVE.*'lots'"):
        Settings.from_env({"STORYBOARD_CONFIRM_ABOVE": "lots"})
    with pytest.raises(SettingsError, match=r"KIE_POLL_FACTOR: .*greater than or equal to 1"):
        KieSettings.from_env({"KIE_POLL_FACTOR": "0.5"})


def test_a_secret_is_never_part_of_a_message() -> None:
    settings = Settings.from_env({"KIE_API_KEY": SECRET, "KIE_TIMEOUT": "-1"})
    assert SECRET not in repr(settings) and SECRET not in str(settings.values())
    with pytest.raises(SettingsError) as caught:
        KieSettings.from_env({"KIE_API_KEY": SECRET, "KIE_TIMEOUT": "-1"})
    assert "KIE_TIMEOUT" in str(caught.value) and SECRET not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_the_cli_reports_a_bad_variable_with_exit_2() -> None:
    env = {**os.environ, "KIE_API_KEY": SECRET, "KIE_POLL_TIMEOUT": "soon"}
    command = [sys.executable, "-c", "from storyboard.cli.app import main; main()"]
    done = subprocess.run(
        [*command, "plan", str(EXAMPLE)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert "environment variable KIE_POLL_TIMEOUT" in done.stderr
    assert SECRET not in done.stderr + done.stdout


def test_docs_list_every_variable_in_one_table() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "kie.md").read_text()
    rows = {line.split("|")[1].strip(" `") for line in docs.splitlines() if line.startswith("| `")}
    aliases = {info.alias for info in Settings.model_fields.values()}
    assert aliases <= rows, aliases - rows
