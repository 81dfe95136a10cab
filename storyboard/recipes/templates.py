"""The Jinja environment recipes render with: the storyboard's own sandboxed factory
(:func:`storyboard.templating.make_environment`) plus a ``slug`` filter for file names.

A batch fills the same template for every row, so :func:`render_recipe` compiles each
template text once (one shared environment; rendering is thread-safe).

A recipe template writes YAML, so its ``tojson`` writes a character beyond U+FFFF as one
YAML ``\\U`` escape (:func:`yaml_json_dumps`): JSON's two surrogate escapes would read
back as two broken characters."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from storyboard.templating import TemplateProblem, make_environment, render_template

__all__ = ["recipe_environment", "render_recipe", "slug", "yaml_json_dumps"]

_SURROGATE_PAIR = re.compile(r"(?<!\\)((?:\\\\)*)\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})")
"""A JSON surrogate-pair escape (not itself escaped by a preceding backslash)."""


def _one_escape(match: re.Match[str]) -> str:
    high, low = int(match[2], 16), int(match[3], 16)
    return f"{match[1]}\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}"


def yaml_json_dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` whose text YAML reads back as ``value`` inside double quotes: the
    same text, but a character beyond U+FFFF is one ``\\UXXXXXXXX`` escape."""
    return _SURROGATE_PAIR.sub(_one_escape, json.dumps(value, **kwargs))


def slug(value: Any) -> str:
    """File-safe lowercase text: ``"Aurora Bottle!"`` -> ``"aurora-bottle"``."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "untitled"


def recipe_environment() -> SandboxedEnvironment:
    """The sandboxed storyboard environment with the recipe filters registered."""
    env = make_environment()
    env.filters["slug"] = slug
    env.policies["json.dumps_function"] = yaml_json_dumps
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
