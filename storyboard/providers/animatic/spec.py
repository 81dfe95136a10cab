"""Read a Kling 3.0 ``createTask`` body into the plain data the animatic needs.

Pure: no I/O. Every problem in the body is collected and reported in one
:class:`ValueError`, each with its field path (``input.multi_prompt[1].duration``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from storyboard.kling.limits import ASPECT_RATIOS, MODES, TOTAL_SECONDS

__all__ = [
    "ASPECT_RATIOS",
    "MAX_SECONDS",
    "MIN_SECONDS",
    "MODES",
    "AnimaticSpec",
    "ElementSpec",
    "ShotSpec",
    "parse_body",
]

MIN_SECONDS, MAX_SECONDS = TOTAL_SECONDS
"""Range of ``input.duration`` (seconds) that Kling 3.0 accepts (from storyboard.kling)."""

DEFAULT_MODE = "pro"
DEFAULT_ASPECT_RATIO = "1:1"


@dataclass(frozen=True)
class ElementSpec:
    """A referenced element (``input.kling_elements[i]``), used in prompts as ``@name``."""

    name: str
    description: str = ""
    image_urls: tuple[str, ...] = ()
    video_urls: tuple[str, ...] = ()

    @property
    def is_video(self) -> bool:
        """True when the element is given by a video and has no images."""
        return not self.image_urls and bool(self.video_urls)


@dataclass(frozen=True)
class ShotSpec:
    """One shot: its prompt and the duration (whole seconds) the body asks for."""

    prompt: str
    seconds: int


@dataclass(frozen=True)
class AnimaticSpec:
    """Everything the animatic renders, read from a createTask body."""

    seconds: int
    mode: str
    aspect_ratio: str
    sound: bool
    multi_shots: bool
    shots: tuple[ShotSpec, ...]
    first_frame_url: str | None = None
    last_frame_url: str | None = None
    elements: tuple[ElementSpec, ...] = ()


class _Errors:
    """Collects ``path: message`` problems so they can be raised together."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            details = "\n  ".join(self.items)
            raise ValueError(f"invalid Kling 3.0 createTask body:\n  {details}")


def parse_body(body: Mapping[str, Any]) -> AnimaticSpec:
    """Validate a createTask body and return the :class:`AnimaticSpec` it describes.

    Raises:
        ValueError: listing every problem found, each with its field path.
    """
    inp = body.get("input") if isinstance(body, Mapping) else None
    if not isinstance(inp, Mapping):
        raise ValueError(
            "invalid Kling 3.0 createTask body: input: missing or not a mapping "
            "(expected {'model': 'kling-3.0/video', 'input': {...}})"
        )
    errors = _Errors()
    spec = _parse_input(inp, errors)
    errors.raise_if_any()
    return spec


def _parse_input(inp: Mapping[str, Any], errors: _Errors) -> AnimaticSpec:
    multi = _bool(inp, "multi_shots", False, errors)
    image_urls = _str_list(inp, "image_urls", "input.image_urls", errors)
    return AnimaticSpec(
        seconds=_seconds(inp.get("duration"), errors),
        mode=_choice(inp, "mode", MODES, DEFAULT_MODE, errors),
        aspect_ratio=_choice(inp, "aspect_ratio", ASPECT_RATIOS, DEFAULT_ASPECT_RATIO, errors),
        sound=_bool(inp, "sound", multi, errors),
        multi_shots=multi,
        shots=_shots(inp, multi, errors),
        first_frame_url=image_urls[0] if image_urls else None,
        last_frame_url=image_urls[1] if len(image_urls) > 1 and not multi else None,
        elements=_elements(inp.get("kling_elements"), errors),
    )


def _seconds(value: object, errors: _Errors) -> int:
    seconds = _whole_number(value)
    if seconds is None:
        errors.add("input.duration", f"must be a whole number of seconds, got {value!r}")
        return MIN_SECONDS
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        errors.add("input.duration", f"must be {MIN_SECONDS}..{MAX_SECONDS} seconds, got {value!r}")
    return seconds


def _whole_number(value: object) -> int | None:
    """``5`` or ``"5"`` -> 5; anything else (bools, floats, junk) -> None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _choice(
    inp: Mapping[str, Any], key: str, allowed: Sequence[str], default: str, errors: _Errors
) -> str:
    value = inp.get(key)
    if value is None:
        return default
    if value not in allowed:
        errors.add(f"input.{key}", f"must be one of {', '.join(allowed)}; got {value!r}")
        return default
    return str(value)


def _bool(inp: Mapping[str, Any], key: str, default: bool, errors: _Errors) -> bool:
    value = inp.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        errors.add(f"input.{key}", f"must be true or false, got {value!r}")
        return default
    return value


def _str_list(inp: Mapping[str, Any], key: str, path: str, errors: _Errors) -> list[str]:
    value = inp.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.add(path, f"must be a list of strings, got {value!r}")
        return []
    return value


def _shots(inp: Mapping[str, Any], multi: bool, errors: _Errors) -> tuple[ShotSpec, ...]:
    if multi:
        return _multi_shots(inp.get("multi_prompt"), errors)
    prompt = inp.get("prompt", "")
    if not isinstance(prompt, str):
        errors.add("input.prompt", f"must be a string, got {prompt!r}")
        prompt = ""
    seconds = _whole_number(inp.get("duration")) or MIN_SECONDS
    return (ShotSpec(prompt=prompt, seconds=seconds),)


def _multi_shots(value: object, errors: _Errors) -> tuple[ShotSpec, ...]:
    if not isinstance(value, list) or not value:
        errors.add("input.multi_prompt", "must be a non-empty list when multi_shots is true")
        return ()
    return tuple(_shot(item, f"input.multi_prompt[{i}]", errors) for i, item in enumerate(value))


def _shot(item: object, path: str, errors: _Errors) -> ShotSpec:
    if not isinstance(item, Mapping):
        errors.add(path, f"must be a mapping with prompt and duration, got {item!r}")
        return ShotSpec(prompt="", seconds=1)
    prompt = item.get("prompt")
    if not isinstance(prompt, str):
        errors.add(f"{path}.prompt", f"must be a string, got {prompt!r}")
        prompt = ""
    seconds = _whole_number(item.get("duration"))
    if seconds is None or seconds < 1:
        errors.add(
            f"{path}.duration", f"must be a positive whole number, got {item.get('duration')!r}"
        )
        seconds = 1
    return ShotSpec(prompt=prompt, seconds=seconds)


def _elements(value: object, errors: _Errors) -> tuple[ElementSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        errors.add("input.kling_elements", f"must be a list, got {value!r}")
        return ()
    elements = (
        _element(item, f"input.kling_elements[{i}]", errors) for i, item in enumerate(value)
    )
    return tuple(e for e in elements if e is not None)


def _element(item: object, path: str, errors: _Errors) -> ElementSpec | None:
    if not isinstance(item, Mapping):
        errors.add(path, f"must be a mapping, got {item!r}")
        return None
    name = item.get("name")
    if not isinstance(name, str) or not name:
        errors.add(f"{path}.name", f"must be a non-empty string, got {name!r}")
        return None
    description = item.get("description", "")
    return ElementSpec(
        name=name,
        description=description if isinstance(description, str) else "",
        image_urls=tuple(
            _str_list(item, "element_input_urls", f"{path}.element_input_urls", errors)
        ),
        video_urls=tuple(
            _str_list(item, "element_input_video_urls", f"{path}.element_input_video_urls", errors)
        ),
    )
