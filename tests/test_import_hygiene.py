"""Start-up stays cheap: heavy libraries are imported where they are used, not up front."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

import storyboard
from storyboard.cli.clicklib import click
from storyboard.cli.lazy import COMMANDS, load_command

HEAVY = ("uvicorn", "starlette", "opentimelineio", "dask", "numpy")
VALIDATE_NEEDS_NONE_OF = (
    "networkx",  # the continuity cycle check is plain Python
    "pydantic_settings",  # the environment is read by the commands that use it
    "storyboard.settings",
    "storyboard.providers.animatic.render",  # validate needs only the animatic's layout
    "PIL.ImageFont",  # loaded only to check a named font
)
HELP_NEEDS_NONE_OF = ("pydantic", "jinja2", "yaml", "PIL")
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "multi-shot.yaml"


def _imported_after(code: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    return [m for m in heavy if m in loaded]


def test_import_storyboard_imports_nothing_heavy() -> None:
    assert _imported_after("import storyboard") == []


def test_validate_command_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        f"sys.argv = ['storyboard', 'validate', {str(EXAMPLE)!r}]\n"
        "from storyboard.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code in (0, None), exc.code"
    )
    assert _imported_after(code, HEAVY + VALIDATE_NEEDS_NONE_OF) == []


def test_help_imports_no_command_module() -> None:
    code = (
        "import sys\nsys.argv = ['storyboard', '--help']\nfrom storyboard.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'storyboard.cli.production' not in sys.modules\n"
        "assert 'storyboard.run.render' not in sys.modules"
    )
    assert _imported_after(code, HEAVY + HELP_NEEDS_NONE_OF) == []


@pytest.mark.parametrize("lazy", COMMANDS, ids=lambda c: c.name)
def test_help_summaries_match_the_commands(lazy: object) -> None:
    from storyboard.cli.lazy import LazyCommand

    assert isinstance(lazy, LazyCommand)
    command = load_command(lazy.name)
    assert isinstance(command, click.Command)
    first_paragraph = (command.help or "").split("\n\n")[0]
    assert " ".join(first_paragraph.split()) == lazy.summary


def test_submodules_are_modules_and_still_callable(tmp_path: Path) -> None:
    import storyboard.compile as compile_module
    import storyboard.load as load_module
    import storyboard.validate as validate_module

    for module in (compile_module, load_module, validate_module):
        assert isinstance(module, types.ModuleType)
    assert callable(compile_module.compile_storyboard)
    assert storyboard.compile is compile_module
    assert storyboard.validate(EXAMPLE).ok
    assert storyboard.load(EXAMPLE).ok
    generations = storyboard.compile(EXAMPLE)
    assert [g.scene_id for g in generations] == [
        g.scene_id for g in storyboard.validate(EXAMPLE).generations
    ]


def test_no_command_group_hides_behind_an_import_error() -> None:
    """Every command's module is imported by name when it runs (issue 14): none is
    skipped because an import failed, so a missing dependency is an error, not a
    command that silently disappears from ``--help``."""
    import ast

    cli = Path(storyboard.__file__).resolve().parent / "cli"
    for name in ("app.py", "lazy.py", "__init__.py"):
        tree = ast.parse((cli / name).read_text(encoding="utf-8"))
        caught = [
            ast.unparse(handler.type)
            for node in ast.walk(tree)
            if isinstance(node, ast.Try)
            for handler in node.handlers
            if handler.type is not None
        ]
        assert not [c for c in caught if "ImportError" in c or "ModuleNotFoundError" in c], name
