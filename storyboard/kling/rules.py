"""Every Kling 3.0 rule, checked on the typed createTask request.

:func:`check_model` checks a :class:`~storyboard.kling.request.CreateTaskRequest` (what
``compile`` emits) against the rules its types cannot express: lengths, counts, sums,
references, the limits of a :class:`KlingLimits`. Raw JSON bodies arrive only at the
emulator: :func:`check_request` checks their shape against the same models (required
fields, JSON types, unknown fields, each read from the models' declarations), then parses
them and applies :func:`check_model`. Each :class:`Violation` names the body path it
concerns (``input.multi_prompt[2].prompt``); compile maps those paths back to storyboard
lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin
from urllib.parse import urlparse

from pydantic import BaseModel, ValidationError

from storyboard.kling.limits import ASPECT_RATIOS, DEFAULT_LIMITS, MODES, KlingLimits
from storyboard.kling.request import (
    MODEL,
    CreateTaskRequest,
    KlingElement,
    KlingInput,
    ShotPrompt,
)

__all__ = [
    "REQUIRED_INPUT_FIELDS",
    "Rule",
    "Violation",
    "check_model",
    "check_request",
    "element_refs",
]


def _json_type(annotation: Any) -> type:
    """The JSON type a model field's annotation takes: ``str | None`` -> str, ``Literal["a"]``
    -> str, ``list[X]`` -> list."""
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        [inner] = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _json_type(inner)
    if origin is Literal:
        return type(get_args(annotation)[0])
    if origin is not None:
        return _json_type(origin)
    assert isinstance(annotation, type)
    return annotation


def _field_types(model: type[BaseModel]) -> dict[str, type]:
    return {name: _json_type(info.annotation) for name, info in model.model_fields.items()}


REQUIRED_INPUT_FIELDS = tuple(
    name for name, info in KlingInput.model_fields.items() if info.is_required()
)
"""The ``input`` fields the seed's schema lists as required (read from :class:`KlingInput`)."""
_INPUT_TYPES = dict(
    sorted(_field_types(KlingInput).items(), key=lambda item: item[0] not in REQUIRED_INPUT_FIELDS)
)
"""Each ``input`` field's JSON type, required fields first (the order violations are listed)."""
_SHOT_FIELDS = frozenset(ShotPrompt.model_fields)
_ELEMENT_FIELDS = frozenset(KlingElement.model_fields)
_REQUEST_FIELDS = frozenset(CreateTaskRequest.model_fields)

_ELEMENT_REF = re.compile(r"(?<![\w@.])@([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)")

Severity = Literal["error", "warning"]


class Rule(StrEnum):
    """Which rule a violation breaks: a stable code programs act on (never the message)."""

    NOT_AN_OBJECT = "not-an-object"
    MODEL = "model"
    CALLBACK_URL = "callback-url"
    REQUIRED = "required"
    TYPE = "type"
    UNKNOWN_FIELD = "unknown-field"
    DURATION = "duration"
    DURATION_SUM = "duration-sum"
    MODE = "mode"
    LIVE_MODE = "live-mode"
    ASPECT_RATIO = "aspect-ratio"
    EMPTY_PROMPT = "empty-prompt"
    PROMPT_LENGTH = "prompt-length"
    MULTI_SHOT_SOUND = "multi-shot-sound"
    NO_SHOTS = "no-shots"
    SHOT_COUNT = "shot-count"
    SHOT_DURATION = "shot-duration"
    FRAME_COUNT = "frame-count"
    FRAME_REQUIRED = "frame-required"
    ELEMENT_COUNT = "element-count"
    ELEMENT_DUPLICATE = "element-duplicate"
    ELEMENT_UNDEFINED = "element-undefined"
    ELEMENT_UNUSED = "element-unused"
    ELEMENT_FIELD = "element-field"
    ELEMENT_MEDIA = "element-media"
    DESCRIPTION_LENGTH = "description-length"
    URL_LIST = "url-list"
    URL_COUNT = "url-count"
    URL = "url"
    URL_FORMAT = "url-format"


@dataclass(frozen=True)
class Violation:
    """One broken rule: which rule, where in the body, what is wrong, and how bad.

    ``element`` names the element the rule concerns (an ``@name`` reference or a
    ``kling_elements`` entry), so callers locate it without reading the message.
    """

    code: Rule
    path: str
    message: str
    severity: Severity = "error"
    element: str | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def element_refs(prompt: str) -> list[str]:
    """The element names a prompt references with ``@name``, in order, without repeats."""
    return list(dict.fromkeys(_ELEMENT_REF.findall(prompt)))


# -- the typed request -----------------------------------------------------------------


def check_model(
    request: CreateTaskRequest, limits: KlingLimits = DEFAULT_LIMITS
) -> list[Violation]:
    """Check a typed request against every Kling 3.0 rule its types cannot express
    (lengths, counts, sums, references, ``limits``); empty list when valid."""
    found = list(_check_callback(request.callBackUrl))
    data = request.input
    found += _check_scalars(data.duration, data.mode, data.aspect_ratio, limits)
    found += _check_shots(data, limits) if data.multi_shots else _check_single(data, limits)
    found += _check_frames(data, limits)
    found += _check_elements(data, limits)
    return found


def _check_callback(callback: str | None) -> Iterator[Violation]:
    if callback is not None and urlparse(callback).scheme not in {"http", "https"}:
        yield Violation(Rule.CALLBACK_URL, "callBackUrl", "callBackUrl must be an http(s) URL")


def _check_scalars(
    duration: str, mode: str, ratio: str | None, limits: KlingLimits
) -> Iterator[Violation]:
    low, high = limits.total_duration
    if not (duration.isdigit() and low <= int(duration) <= high):
        yield Violation(
            Rule.DURATION,
            "input.duration",
            f'duration must be a whole number of seconds "{low}".."{high}", got {duration!r}',
        )
    yield from _check_choices(mode, ratio, limits)


def _check_choices(mode: Any, ratio: Any, limits: KlingLimits) -> Iterator[Violation]:
    """``mode`` and ``aspect_ratio`` among the choices of ``limits`` (typed or raw values)."""
    if isinstance(mode, str) and mode in limits.live_modes:
        yield Violation(
            Rule.LIVE_MODE,
            "input.mode",
            f"mode {mode!r} is outside the seed's enum ({', '.join(limits.modes)}); the live "
            "service accepts it (priced by an assumed rate, see storyboard.pricing)",
            "warning",
        )
    elif isinstance(mode, str) and mode not in limits.modes:
        modes = (*limits.modes, *limits.live_modes)
        yield Violation(Rule.MODE, "input.mode", f"mode must be one of {', '.join(modes)}")
    if isinstance(ratio, str) and ratio not in limits.aspect_ratios:
        yield Violation(
            Rule.ASPECT_RATIO,
            "input.aspect_ratio",
            f"aspect_ratio must be one of {', '.join(limits.aspect_ratios)}",
        )


def _check_single(data: KlingInput, limits: KlingLimits) -> Iterator[Violation]:
    if not data.prompt.strip():
        yield Violation(
            Rule.EMPTY_PROMPT, "input.prompt", "prompt must not be empty in single-shot mode"
        )
    elif len(data.prompt) > limits.single_prompt_chars:
        yield Violation(
            Rule.PROMPT_LENGTH,
            "input.prompt",
            f"prompt is {len(data.prompt)} characters; hosts of Kling 3.0 accept at most "
            f"{limits.single_prompt_chars}",
        )


def _check_shots(data: KlingInput, limits: KlingLimits) -> Iterator[Violation]:
    if data.sound is not True:
        yield Violation(
            Rule.MULTI_SHOT_SOUND, "input.sound", "multi-shot requires sound: set sound to true"
        )
    shots = data.multi_prompt
    if not shots:
        yield Violation(
            Rule.NO_SHOTS, "input.multi_prompt", "multi-shot mode needs at least one shot"
        )
    if len(shots) > limits.max_shots:
        yield Violation(
            Rule.SHOT_COUNT,
            "input.multi_prompt",
            f"{len(shots)} shots; Kling 3.0 takes at most {limits.max_shots} per generation",
        )
    for index, shot in enumerate(shots):
        yield from _check_shot(f"input.multi_prompt[{index}]", shot, limits)
    total, duration = sum(shot.duration for shot in shots), data.duration
    if shots and duration.isdigit() and total != int(duration):
        yield Violation(
            Rule.DURATION_SUM,
            "input.duration",
            f"duration {duration} should equal the sum of the shot durations ({total})",
            _host_severity(limits),
        )


def _check_shot(path: str, shot: ShotPrompt, limits: KlingLimits) -> Iterator[Violation]:
    if not shot.prompt.strip():
        yield Violation(Rule.EMPTY_PROMPT, f"{path}.prompt", "each shot needs a non-empty prompt")
    elif len(shot.prompt) > limits.shot_prompt_chars:
        yield Violation(
            Rule.PROMPT_LENGTH,
            f"{path}.prompt",
            f"shot prompt is {len(shot.prompt)} characters; the limit is "
            f"{limits.shot_prompt_chars}",
        )
    low, high = limits.shot_duration
    if not low <= shot.duration <= high:
        yield Violation(
            Rule.SHOT_DURATION,
            f"{path}.duration",
            f"shot duration must be {low}-{high} seconds, got {shot.duration}",
        )


def _check_frames(data: KlingInput, limits: KlingLimits) -> Iterator[Violation]:
    urls, multi = data.image_urls, data.multi_shots
    if urls is not None:
        most = 1 if multi else 2
        if not 1 <= len(urls) <= most:
            what = "only a first frame" if multi else "a first frame and optionally a last frame"
            yield Violation(
                Rule.FRAME_COUNT,
                "input.image_urls",
                f"image_urls takes {what} ({'1' if multi else '1-2'} URLs), got {len(urls)}",
            )
        for index, url in enumerate(urls):
            yield from _check_url(f"input.image_urls[{index}]", url, limits.frame_image_formats)
    refs = _all_refs(data)
    if refs and not urls:
        yield Violation(
            Rule.FRAME_REQUIRED,
            "input.image_urls",
            f"image_urls (a first frame) is required when elements are referenced "
            f"(@{', @'.join(refs)})",
        )


def _check_elements(data: KlingInput, limits: KlingLimits) -> Iterator[Violation]:
    elements = data.kling_elements
    defined: list[str] = []
    if elements is not None:
        if len(elements) > limits.max_elements:
            yield Violation(
                Rule.ELEMENT_COUNT,
                "input.kling_elements",
                f"{len(elements)} elements; hosts of Kling 3.0 accept at most "
                f"{limits.max_elements} per task",
                _host_severity(limits),
            )
        for index, element in enumerate(elements):
            path = f"input.kling_elements[{index}]"
            yield from _check_element(path, element, limits)
            if element.name in defined:
                yield Violation(
                    Rule.ELEMENT_DUPLICATE,
                    f"{path}.name",
                    f"element {element.name!r} is defined twice",
                    element=element.name,
                )
            defined.append(element.name)
    refs = _all_refs(data)
    for name in refs:
        if name not in defined:
            yield Violation(
                Rule.ELEMENT_UNDEFINED,
                "input.kling_elements",
                f"@{name} is referenced but not defined in kling_elements",
                element=name,
            )
    for name in defined:
        if name not in refs:
            yield Violation(
                Rule.ELEMENT_UNUSED,
                "input.kling_elements",
                f"element {name!r} is not referenced by any prompt",
                "warning",
                element=name,
            )


def _check_element(path: str, element: KlingElement, limits: KlingLimits) -> Iterator[Violation]:
    for name, value in (("name", element.name), ("description", element.description)):
        if not value.strip():
            yield Violation(Rule.ELEMENT_FIELD, f"{path}.{name}", f"element {name} is required")
    if len(element.description) > limits.element_description_chars:
        yield Violation(
            Rule.DESCRIPTION_LENGTH,
            f"{path}.description",
            f"element description is {len(element.description)} characters; the limit is "
            f"{limits.element_description_chars}",
        )
    images, videos = element.element_input_urls, element.element_input_video_urls
    if (images is None) == (videos is None):
        yield Violation(
            Rule.ELEMENT_MEDIA,
            path,
            "an element needs either 2-4 reference images or 1 reference video",
        )
    if images is not None:
        yield from _check_urls(
            f"{path}.element_input_urls",
            images,
            limits.element_images,
            limits.element_image_formats,
            "reference images",
        )
    if videos is not None:
        yield from _check_urls(
            f"{path}.element_input_video_urls",
            videos,
            limits.element_videos,
            limits.element_video_formats,
            "reference videos",
        )


def _check_urls(
    path: str, urls: list[str], count: tuple[int, int], formats: frozenset[str], what: str
) -> Iterator[Violation]:
    low, high = count
    if not low <= len(urls) <= high:
        wanted = str(low) if low == high else f"{low}-{high}"
        yield Violation(Rule.URL_COUNT, path, f"an element takes {wanted} {what}, got {len(urls)}")
    for index, url in enumerate(urls):
        yield from _check_url(f"{path}[{index}]", url, formats)


def _check_url(path: str, url: str, formats: frozenset[str]) -> Iterator[Violation]:
    if not url:
        yield Violation(Rule.URL, path, _NOT_A_URL)
        return
    suffix = PurePosixPath(urlparse(url).path).suffix.lower().lstrip(".")
    if suffix and suffix not in formats:
        yield Violation(
            Rule.URL_FORMAT,
            path,
            f"format .{suffix} is not accepted; use {', '.join(sorted(formats))}",
        )


def _all_refs(data: KlingInput) -> list[str]:
    prompts = [s.prompt for s in data.multi_prompt] if data.multi_shots else [data.prompt]
    refs = [ref for prompt in prompts for ref in element_refs(prompt)]
    return list(dict.fromkeys(refs))


def _host_severity(limits: KlingLimits) -> Severity:
    return "error" if limits.strict_host_limits else "warning"


# -- raw bodies (the emulator) ---------------------------------------------------------

_NOT_A_URL = "must be a URL string"


def check_request(body: Any, limits: KlingLimits = DEFAULT_LIMITS) -> list[Violation]:
    """Check a raw createTask body: its shape against the request models, then (when it
    has that shape) every rule of :func:`check_model`; empty list when valid.

    A body of the wrong shape reports only its shape violations: the rules read a typed
    request. Unknown top-level fields are ignored, as the service ignores them.
    """
    shape = list(_check_shape(body, limits))
    if shape:
        return shape
    known = {k: v for k, v in body.items() if k in _REQUEST_FIELDS}
    try:
        request = CreateTaskRequest.model_validate(known, strict=True)
    except ValidationError as exc:  # a shape the checks above do not name (a bug if so)
        return [_from_pydantic(error) for error in exc.errors()]
    return check_model(request, limits)


def _check_shape(body: Any, limits: KlingLimits) -> Iterator[Violation]:
    if not isinstance(body, Mapping):
        yield Violation(Rule.NOT_AN_OBJECT, "", "the request body must be a JSON object")
        return
    if body.get("model") != MODEL:
        yield Violation(Rule.MODEL, "model", f"model must be {MODEL!r}, got {body.get('model')!r}")
    callback = body.get("callBackUrl")
    if callback is not None and not isinstance(callback, str):
        yield Violation(Rule.CALLBACK_URL, "callBackUrl", "callBackUrl must be an http(s) URL")
    data = body.get("input")
    if not isinstance(data, Mapping):
        yield Violation(Rule.NOT_AN_OBJECT, "input", "input is required and must be an object")
        return
    yield from _check_input_fields(data)
    mode, ratio = data.get("mode"), data.get("aspect_ratio")
    # values the models' types refuse (others are checked on the typed request):
    yield from _check_choices(
        None if mode in MODES else mode, None if ratio in ASPECT_RATIOS else ratio, limits
    )
    shots = data.get("multi_prompt")
    for index, shot in enumerate(shots if isinstance(shots, list) else []):
        yield from _check_shot_shape(f"input.multi_prompt[{index}]", shot)
    urls = data.get("image_urls")
    for index, url in enumerate(urls if isinstance(urls, list) else []):
        if not isinstance(url, str):
            yield Violation(Rule.URL, f"input.image_urls[{index}]", _NOT_A_URL)
    elements = data.get("kling_elements")
    for index, element in enumerate(elements if isinstance(elements, list) else []):
        yield from _check_element_shape(f"input.kling_elements[{index}]", element)


def _check_input_fields(data: Mapping[str, Any]) -> Iterator[Violation]:
    for name in REQUIRED_INPUT_FIELDS:
        if name not in data:
            yield Violation(
                Rule.REQUIRED, f"input.{name}", f"{name} is required by the createTask schema"
            )
    for name, kind in _INPUT_TYPES.items():
        if name in data and not isinstance(data[name], kind):
            yield Violation(Rule.TYPE, f"input.{name}", f"{name} must be a {_type_name(kind)}")
    for name in data:
        if name not in _INPUT_TYPES:
            yield Violation(Rule.UNKNOWN_FIELD, f"input.{name}", f"unknown input field {name!r}")


def _check_shot_shape(path: str, shot: Any) -> Iterator[Violation]:
    if not isinstance(shot, Mapping):
        yield Violation(
            Rule.NOT_AN_OBJECT, path, "each shot must be an object with prompt and duration"
        )
        return
    if not isinstance(shot.get("prompt"), str):
        yield Violation(Rule.EMPTY_PROMPT, f"{path}.prompt", "each shot needs a non-empty prompt")
    duration = shot.get("duration")
    if not isinstance(duration, int) or isinstance(duration, bool):
        yield Violation(
            Rule.SHOT_DURATION,
            f"{path}.duration",
            "shot duration must be a whole number of seconds",
        )
    for name in shot:
        if name not in _SHOT_FIELDS:
            yield Violation(Rule.UNKNOWN_FIELD, f"{path}.{name}", f"unknown shot field {name!r}")


def _check_element_shape(path: str, element: Any) -> Iterator[Violation]:
    if not isinstance(element, Mapping):
        yield Violation(Rule.NOT_AN_OBJECT, path, "each element must be an object")
        return
    for name in ("name", "description"):
        if not isinstance(element.get(name), str):
            yield Violation(Rule.ELEMENT_FIELD, f"{path}.{name}", f"element {name} is required")
    for name, what in (
        ("element_input_urls", "reference images"),
        ("element_input_video_urls", "reference videos"),
    ):
        urls = element.get(name)
        if urls is not None and not isinstance(urls, list):
            yield Violation(Rule.URL_LIST, f"{path}.{name}", f"{what} must be a list of URLs")
        for index, url in enumerate(urls if isinstance(urls, list) else []):
            if not isinstance(url, str):
                yield Violation(Rule.URL, f"{path}.{name}[{index}]", _NOT_A_URL)
    for name in element:
        if name not in _ELEMENT_FIELDS:
            yield Violation(Rule.UNKNOWN_FIELD, f"{path}.{name}", f"unknown element field {name!r}")


def _from_pydantic(error: Any) -> Violation:
    path = ".".join(f"[{part}]" if isinstance(part, int) else str(part) for part in error["loc"])
    return Violation(Rule.TYPE, path.replace(".[", "["), str(error["msg"]))


def _type_name(kind: type) -> str:
    names = {str: "string", bool: "boolean", list: "list", int: "integer"}
    return names.get(kind, "value")
