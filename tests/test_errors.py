"""One exceptions root: every error storyboard raises on purpose is a StoryboardError
carrying its exit code, and the CLI maps them in one place (no command does it by hand)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import storyboard
from storyboard.cli import app
from storyboard.errors import InputError, Refused, StoryboardError

ROOT = Path(__file__).resolve().parents[1]
CLI_FOLDER = ROOT / "storyboard" / "cli"

OUTSIDE_THE_ROOT = {
    # signals inside one component, never raised to a caller
    "storyboard.providers.emulator.transport.ConnectionDropped",
    "storyboard.providers.emulator.state.ApiFailure",
    "storyboard.run.scheduler.Blocked",
    # third-party hierarchies the sandbox and the YAML reader must stay in
    "storyboard.sandbox.TemplateLimit",
}


def _modules() -> list[str]:
    return [
        m.name
        for m in pkgutil.walk_packages(storyboard.__path__, "storyboard.")
        if m.name.split(".")[-1] != "__main__"
    ]


def _exceptions() -> dict[str, type[BaseException]]:
    found = {}
    for name in _modules():
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional extra that is not installed
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == name
                and not value.__name__.startswith("_")
            ):
                found[f"{name}.{value.__name__}"] = value
    return found


def test_every_public_exception_derives_from_the_root() -> None:
    found = _exceptions()
    assert "storyboard.validate.StoryboardInvalid" in found
    outside = {n for n, c in found.items() if not issubclass(c, StoryboardError)}
    assert outside == OUTSIDE_THE_ROOT


@pytest.mark.parametrize(
    ("name", "code", "also"),
    [
        ("storyboard.validate.StoryboardInvalid", 2, None),
        ("storyboard.settings.SettingsError", 2, ValueError),
        ("storyboard.workspace.OutsideFolder", 2, ValueError),
        ("storyboard.run.backend.BackendUnavailable", 2, None),
        ("storyboard.run.lock.JournalBusy", 2, None),
        ("storyboard.store.JournalError", 2, None),
        ("storyboard.edit.exports.ExportUnavailable", 2, RuntimeError),
        ("storyboard.run.render.BudgetExceeded", 3, None),
        ("storyboard.run.session.CostRefused", 3, None),
        ("storyboard.run.session.AssemblyFailed", 1, None),
        ("storyboard.edit.errors.EditError", 1, ValueError),
        ("storyboard.providers.kie.errors.GenerationFailed", 1, None),
        ("storyboard.recipes.cluster.ClusterUnavailable", 1, None),
    ],
)
def test_each_error_carries_its_exit_code_and_keeps_its_other_bases(
    name: str, code: int, also: type[Exception] | None
) -> None:
    module, _, cls = name.rpartition(".")
    error = getattr(importlib.import_module(module), cls)
    assert error.exit_code == code
    assert issubclass(error, InputError) == (code == 2)
    assert issubclass(error, Refused) == (code == 3)
    if also is not None:
        assert issubclass(error, also)


def _caught_names(path: Path) -> list[tuple[str, int]]:
    caught = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            kinds = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            caught += [(k.id, node.lineno) for k in kinds if isinstance(k, ast.Name)]
    return caught


def test_no_command_maps_a_storyboard_error_by_hand() -> None:
    """Only cli/console.py turns errors into exit codes (the root command calls it, and
    ``main`` for an error outside a command). A command may still catch one to use it or
    to say more — listed here."""
    allowed = {
        ("app.py", "StoryboardError"),  # main(): report_error, for errors outside a command
        ("app.py", "SettingsError"),  # _debug(): an unreadable environment means "no"
        ("recipes.py", "RecipeInvalid"),  # recipe list shows an invalid recipe as a row
        ("init.py", "ProjectExists"),  # names the files it would not overwrite
        ("export.py", "EditError"),  # "export failed: ..."
        ("export.py", "AssemblyError"),
    }
    by_hand = []
    for path in sorted(CLI_FOLDER.glob("*.py")):
        if path.name == "console.py":
            continue
        module = importlib.import_module(f"storyboard.cli.{path.stem}")
        for name, line in _caught_names(path):
            kind = getattr(module, name, None)
            is_ours = isinstance(kind, type) and issubclass(kind, StoryboardError)
            if is_ours and (path.name, name) not in allowed:
                by_hand.append(f"{path.name}:{line} catches {name}")
    assert by_hand == []


runner = CliRunner()


def test_the_cli_prints_the_message_and_exits_with_the_code(tmp_path: Path) -> None:
    shutil.copytree(
        ROOT / "examples", tmp_path / "p", ignore=shutil.ignore_patterns("out", ".storyboard")
    )
    board = str(tmp_path / "p" / "single-shot.yaml")
    refused = runner.invoke(app, ["render", board, "--backend", "offline", "--budget", "0"])
    assert refused.exit_code == 3, refused.output
    assert "storyboard: the estimate (" in refused.stderr
    assert "exceeds the budget of 0; nothing was submitted" in refused.stderr
    missing = runner.invoke(app, ["plan", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "nope.yaml:1:1" in missing.stderr
    unknown = runner.invoke(app, ["recipe", "show", "no-such-recipe"])
    assert unknown.exit_code == 2 and "storyboard: no recipe named" in unknown.stderr
