"""Helpers for the kie.ai client and emulator tests: a fast fake renderer, request
bodies, saved fixtures, a movable clock and a fake sleep."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
FAKE_CLIP_HEADER = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


def fake_render(
    body: Mapping[str, Any],
    out_path: str | Path,
    *,
    fetch_asset: Any = None,
    label: str | None = None,
) -> Path:
    """A stand-in for render_animatic: an mp4-looking file, 100 KB per second of clip."""
    seconds = int(body["input"]["duration"])
    Path(out_path).write_bytes(FAKE_CLIP_HEADER + b"\x00" * (100_000 * seconds))
    return Path(out_path)


def body(prompt: str = "a golden retriever runs along a beach", **changes: Any) -> dict[str, Any]:
    """A valid single-shot createTask body (5 s, std, no sound)."""
    data: dict[str, Any] = {
        "prompt": prompt,
        "sound": False,
        "duration": "5",
        "mode": "std",
        "aspect_ratio": "16:9",
        "multi_shots": False,
        "multi_prompt": [],
    }
    data.update(changes)
    return {"model": "kling-3.0/video", "input": data}


def fixture(name: str) -> dict[str, Any]:
    """A saved example response from tests/kie/fixtures."""
    loaded = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


class Clock:
    """A wall clock tests move by hand."""

    def __init__(self, start: float = 1_795_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeTime:
    """A monotonic clock and a ``sleep`` that advances it instantly, recording the waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
