"""moviepy's video effects by name: the catalogue, parameter checks, and construction.

A storyboard names an effect by its class in ``moviepy.video.fx`` and gives its
parameters as keys (``{name: MultiplySpeed, factor: 1.5}``). :func:`check_effect` checks
the name and every parameter against the effect's signature (did-you-mean for typos,
types through pydantic) and then applies the effect to a tiny synthetic clip, so a value
the effect refuses is reported by ``validate``, before anything is generated.

Only :data:`TIMING_EFFECTS` may change a scene's length (its sound is sped up to match);
an effect that changes timing any other way (Loop, Freeze, TimeSymmetrize, ...) is
refused, because the edit's sound is built from the clips by the same timeline.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .sources import Effect

__all__ = [
    "TIMING_EFFECTS",
    "EffectParam",
    "EffectProblem",
    "build_effects",
    "catalogue",
    "check_effect",
    "effects_speed",
]

TIMING_EFFECTS = frozenset({"MultiplySpeed"})
"""Effects allowed to change a scene's length (by a constant speed factor)."""

_SIMPLE = (float, int, bool, str, tuple, list)
_REQUIRED = object()


@dataclass(frozen=True)
class EffectParam:
    """One parameter of an effect: its type annotation and default (or required)."""

    name: str
    annotation: Any
    default: Any = _REQUIRED

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


@dataclass(frozen=True)
class EffectProblem:
    """What is wrong with an effect: ``param`` is None for the effect as a whole."""

    param: str | None
    message: str
    hint: str | None = None


def _params(cls: type) -> dict[str, EffectParam]:
    if dataclasses.is_dataclass(cls):
        return {
            f.name: EffectParam(
                f.name, f.type, _REQUIRED if f.default is dataclasses.MISSING else f.default
            )
            for f in dataclasses.fields(cls)
            if f.init
        }
    signature = inspect.signature(cls)
    return {
        p.name: EffectParam(
            p.name,
            Any if p.annotation is p.empty else p.annotation,
            _REQUIRED if p.default is p.empty else p.default,
        )
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def _usable(param: EffectParam) -> bool:
    """A parameter a storyboard can give: plain numbers, text, lists."""
    annotation = param.annotation
    if annotation is Any or annotation in _SIMPLE:
        return True
    args: tuple[Any, ...] = getattr(annotation, "__args__", None) or ()
    return bool(args) and all(getattr(a, "__origin__", a) in _SIMPLE for a in args)


@functools.cache
def catalogue() -> dict[str, dict[str, EffectParam]]:
    """moviepy.video.fx effects a storyboard can use, with the parameters it can give.

    Effects that need a parameter a YAML file cannot express (a clip, a function) are
    left out; so are parameters of that kind that have a default.
    """
    import moviepy.video.fx as vfx

    found: dict[str, dict[str, EffectParam]] = {}
    for name in vfx.__all__:
        cls = getattr(vfx, name)
        params = _params(cls)
        if any(p.required and not _usable(p) for p in params.values()):
            continue
        found[name] = {k: p for k, p in params.items() if _usable(p)}
    return found


def _convert(param: EffectParam, value: Any) -> Any:
    if param.annotation is Any:
        return value
    if param.annotation is float and isinstance(value, bool):
        raise ValueError("Input should be a number, not true/false")
    return TypeAdapter(param.annotation).validate_python(value)


def check_effect(effect: Effect, seconds: float) -> list[EffectProblem]:
    """Every problem with ``effect`` on a scene of ``seconds`` (empty list: fine)."""
    effects = catalogue()
    if effect.name not in effects:
        close = difflib.get_close_matches(effect.name, list(effects), n=1, cutoff=0.5)
        hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(sorted(effects))}"
        return [EffectProblem(None, f"unknown effect {effect.name!r}", hint)]
    known = effects[effect.name]
    problems: list[EffectProblem] = []
    for key, value in effect.params.items():
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.5)
            names = ", ".join(known) or "none"
            hint = f"did you mean `{close[0]}`?" if close else f"its parameters: {names}"
            problems.append(EffectProblem(key, f"{effect.name} has no parameter {key!r}", hint))
            continue
        try:
            _convert(known[key], value)
        except (ValidationError, ValueError) as exc:
            problems.append(EffectProblem(key, f"{effect.name}.{key}: {_first_error(exc)}"))
    for name, param in known.items():
        if param.required and name not in effect.params:
            problems.append(EffectProblem(None, f"{effect.name} needs `{name}`", f"add {name}:"))
    return problems or _trial(effect, seconds)


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return exc.errors()[0]["msg"]
    return str(exc)


def _trial(effect: Effect, seconds: float) -> list[EffectProblem]:
    """Apply the effect to a tiny clip: catches values the effect itself refuses."""
    from moviepy import ColorClip

    clip = ColorClip((16, 16), color=(120, 90, 60), duration=seconds).with_fps(24)
    try:
        done = clip.with_effects(build_effects([effect]))
        done.get_frame(0)
        done.get_frame(max(0.0, (done.duration or seconds) / 2))
    except Exception as exc:  # the effect's own refusal, whatever its type
        return [EffectProblem(None, f"{effect.name} cannot be applied: {exc}")]
    changed = abs((done.duration or seconds) - seconds) > 1e-6
    if changed and effect.name not in TIMING_EFFECTS:
        return [
            EffectProblem(
                None,
                f"{effect.name} changes the scene's timing; only "
                f"{', '.join(sorted(TIMING_EFFECTS))} may",
                "trim the scene instead, or apply the effect after exporting",
            )
        ]
    return []


def build_effects(effects: Sequence[Effect], *, fast: bool = True) -> list[Any]:
    """moviepy effect instances for ``effects`` (parameters converted to their types).

    ``fast``: an effect with a cheaper form of the same picture gets it
    (:mod:`storyboard.edit.fast_effects`); otherwise moviepy's own class.
    """
    import moviepy.video.fx as vfx

    from .fast_effects import fast_form

    built = []
    for effect in effects:
        known = catalogue()[effect.name]
        params = {k: _convert(known[k], v) for k, v in effect.params.items()}
        instance = getattr(vfx, effect.name)(**params)
        built.append(fast_form(effect.name, instance) if fast else instance)
    return built


def effects_speed(effects: Sequence[Effect], seconds: float = 10.0) -> float:
    """How much faster than its source a scene plays with ``effects`` (1.0: unchanged)."""
    if not any(e.name in TIMING_EFFECTS for e in effects):
        return 1.0
    from moviepy import ColorClip

    clip = ColorClip((2, 2), color=(0, 0, 0), duration=seconds).with_fps(24)
    timed = [e for e in effects if e.name in TIMING_EFFECTS]
    try:
        done = clip.with_effects(build_effects(timed))
    except (ValueError, TypeError, KeyError, ZeroDivisionError):  # reported by check_effect
        return 1.0
    return seconds / float(done.duration or seconds)
