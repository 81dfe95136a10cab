"""The Jinja environment recipes render with: the storyboard's own sandboxed factory
(:func:`storyboard.templating.make_environment`) plus a ``slug`` filter for file names.

A batch fills the same template for every row, so :func:`render_recipe` compiles each
template text once (one shared environment; rendering is thread-safe)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from storyboard.templating import TemplateProblem, make_environment, render_template

__all__ = ["recipe_environment", "render_recipe", "slug"]


def slug(value: Any) -> str:
    """File-safe lowercase text: ``"Aurora Bottle!"`` -> ``"aurora-bottle"``."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "untitled"


def recipe_environment() -> SandboxedEnvironment:
    """The sandboxed storyboard environment with the recipe filters registered."""
    env = make_environment()
    env.filters["slug"] = slug
    return env


@lru_cache(maxsize=1)
def _shared_environment() -> SandboxedEnvironment:
    return recipe_environment()


@lru_cache(maxsize=64)
def _compiled(source: str) -> jinja2.Template:
    return _shared_environment().from_string(source)


def render_recipe(source: str, context: dict[str, Any]) -> str:
    """Render recipe template text (compiled once per text); :class:`TemplateProblem`."""
    try:
        template = _compiled(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"template syntax error: {exc.message}") from exc
    return render_template(template, context)
