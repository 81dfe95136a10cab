"""Every environment variable is parsed by one Settings; bad values name the variable."""

from __future__ import annotations

import ast
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


def test_debug_and_the_recipe_path_are_settings(tmp_path: Path) -> None:
    assert Settings.from_env({"STORYBOARD_DEBUG": "0"}).debug  # set, to anything
    assert not Settings.from_env({}).debug and not Settings.from_env({"STORYBOARD_DEBUG": ""}).debug
    folders = os.pathsep.join([str(tmp_path / "a"), "", str(tmp_path / "b")])
    assert Settings.from_env({"STORYBOARD_RECIPE_PATH": folders}).recipe_path == [
        tmp_path / "a",
        tmp_path / "b",
    ]
    assert Settings.from_env({}).recipe_path == []


def test_the_backend_is_chosen_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from storyboard.run.backend import choose_backend

    assert choose_backend(None, {"KIE_API_KEY": ""}).name == "offline"  # empty: unset
    assert choose_backend(None, {"KIE_API_KEY": SECRET}).name == "kie"
    monkeypatch.setenv("KIE_API_KEY", SECRET)
    monkeypatch.setenv("KIE_BASE_URL", "http://127.0.0.1:9")
    assert choose_backend(None).namespace == "kie:http://127.0.0.1:9"
    monkeypatch.setenv("KIE_TIMEOUT", "soon")
    with pytest.raises(SettingsError, match="KIE_TIMEOUT") as caught:
        choose_backend(None)
    assert SECRET not in str(caught.value)


def _environment_reads(path: Path) -> list[str]:
    """``os.environ`` / ``os.getenv`` / ``from os import environ`` in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "environb", "getenv"}:
            found.append(f"{path.name}:{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            names = {alias.name for alias in node.names} & {"environ", "environb", "getenv"}
            found += [f"{path.name}:{node.lineno}: from os import {n}" for n in sorted(names)]
    return found


ENVIRONMENT_READERS = {"settings.py"}
"""Modules that may read the process environment (a module handing an environment to a
subprocess would be listed here too)."""


def test_only_settings_reads_the_environment() -> None:
    package = Path(__file__).resolve().parents[1] / "storyboard"
    found = [
        read
        for path in sorted(package.rglob("*.py"))
        if str(path.relative_to(package)) not in ENVIRONMENT_READERS
        for read in _environment_reads(path)
    ]
    assert found == []
