"""The Jinja environment recipes render with: the storyboard's own sandboxed factory
(:func:`storyboard.templating.make_environment`) plus a ``slug`` filter for file names."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from jinja2.sandbox import SandboxedEnvironment

from storyboard.templating import make_environment

__all__ = ["recipe_environment", "slug"]


def slug(value: Any) -> str:
    """File-safe lowercase text: ``"Aurora Bottle!"`` -> ``"aurora-bottle"``."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "untitled"


def recipe_environment() -> SandboxedEnvironment:
    """The sandboxed storyboard environment with the recipe filters registered."""
    env = make_environment()
    env.filters["slug"] = slug
    return env
