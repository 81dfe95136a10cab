"""The click that typer uses: typer >= 0.20 vendors its own copy as ``typer._click``."""

from __future__ import annotations

try:
    from typer import _click as click
except ImportError:  # pragma: no cover - older typer runs on the click package
    import click  # type: ignore[no-redef]

__all__ = ["click"]
