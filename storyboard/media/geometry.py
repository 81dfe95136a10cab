"""Rectangles in pixels, shared by the animatic's cards and the edit's title layout."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REVIEW_BAND", "Box"]

REVIEW_BAND = 0.1
"""The top fraction of a frame's height that the edit's review burn-ins may cover (they
reach 0.089 of it at 720p and 1080p, landscape or portrait); a moving animatic card keeps
its text below it."""


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in pixels: left, top, width, height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        """x of the first column past the box."""
        return self.x + self.w

    @property
    def bottom(self) -> int:
        """y of the first row past the box."""
        return self.y + self.h

    def corners(self) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)``, the form Pillow takes."""
        return (self.x, self.y, self.right, self.bottom)

    def overlaps(self, other: Box) -> bool:
        """True when the two boxes share at least one pixel."""
        return (
            self.x < other.right
            and other.x < self.right
            and self.y < other.bottom
            and other.y < self.bottom
        )

    def inside(self, other: Box) -> bool:
        """True when every pixel of this box is in ``other``."""
        return (
            self.x >= other.x
            and self.y >= other.y
            and self.right <= other.right
            and self.bottom <= other.bottom
        )
