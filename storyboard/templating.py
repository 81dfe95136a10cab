"""The one Jinja environment: sandboxed, strict about undefined names, our filters.

Prompts are rendered twice: first the shot's own text as a template with the storyboard
``vars`` in scope (variable expansion), then the scene's prompt template (``default``,
``cinematic`` or a user template) with the expanded shot in scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

__all__ = [
    "TemplateProblem",
    "builtin_dir",
    "ensure_period",
    "make_environment",
    "render_named",
    "render_string",
]


class TemplateProblem(Exception):
    """A template could not be rendered; the message says why, in the user's terms."""


def builtin_dir(kind: str) -> Path:
    """Folder of built-in ``templates`` or ``pipelines`` (installed wheel or source tree)."""
    installed = Path(str(resources.files("storyboard"))) / "_builtin" / kind
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / kind


def ensure_period(text: str) -> str:
    """Append a full stop unless the text already ends in punctuation."""
    text = text.rstrip()
    return text if not text or text[-1] in ".!?…\"'" else text + "."


def make_environment(user_dirs: Sequence[Path] = ()) -> SandboxedEnvironment:
    """The sandboxed environment; user template folders override built-ins by name."""
    loader = jinja2.FileSystemLoader([*map(str, user_dirs), str(builtin_dir("templates"))])
    env = SandboxedEnvironment(
        loader=loader, undefined=jinja2.StrictUndefined, autoescape=False,
        keep_trailing_newline=False,
    )  # fmt: skip
    env.filters["ensure_period"] = ensure_period
    return env


def render_string(env: jinja2.Environment, source: str, context: dict[str, Any]) -> str:
    """Render template text; raise :class:`TemplateProblem` with a readable reason."""
    try:
        return env.from_string(source).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"template syntax error: {exc.message}") from exc
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateProblem(f"not allowed in the sandbox: {exc}") from exc
    except jinja2.UndefinedError as exc:
        raise TemplateProblem(f"undefined variable: {exc.message}") from exc
    except jinja2.TemplateError as exc:
        raise TemplateProblem(f"template error: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateProblem(f"template error: {exc}") from exc


def render_named(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    """Render the template ``<name>.j2``; raise :class:`TemplateProblem` when it fails."""
    try:
        template = env.get_template(f"{name}.j2")
    except jinja2.TemplateNotFound as exc:
        raise TemplateProblem(
            f"no prompt template named {name!r} (built-ins: default, cinematic)"
        ) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"template {name!r} line {exc.lineno}: {exc.message}") from exc
    try:
        return template.render(context)
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateProblem(f"template {name!r}: not allowed in the sandbox: {exc}") from exc
    except jinja2.TemplateError as exc:
        raise TemplateProblem(f"template {name!r}: {exc}") from exc
