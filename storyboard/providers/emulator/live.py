"""What the live kie.ai service does beyond the documents (shared/kie-real-traffic.md),
as pure functions the emulator's ``live`` profile applies: lenient createTask bodies,
32-hex task ids, the live record shape, and the live timing profile."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any

from storyboard.kling.request import KlingElement, KlingInput

__all__ = [
    "INPUT_DEFAULTS",
    "KNOWN_INPUT_FIELDS",
    "live_latency",
    "live_record",
    "live_task_id",
    "normalise_body",
]

INPUT_DEFAULTS: dict[str, Any] = {
    "prompt": "",
    "sound": False,
    "duration": "5",
    "mode": "std",
    "aspect_ratio": "16:9",
    "multi_shots": False,
    "multi_prompt": [],
}
"""Natural defaults of the fields the seed marks required but the live service does not."""

KNOWN_INPUT_FIELDS = frozenset(KlingInput.model_fields)
"""Input fields the service uses (the request model's); the live service ignores any other."""

KNOWN_ELEMENT_FIELDS = frozenset(KlingElement.model_fields)
"""Element fields the service uses; other keys of an element are ignored like input's."""

_CREATE_TO_SUCCESS = (120.0, 170.0)
"""Seconds from createTask to success of a 5 s std clip, live (127 s and 165 s recorded)."""

_MODE_FACTOR = {"std": 1.0, "pro": 1.15, "4K": 1.3}
_SECONDS_PER_EXTRA_SECOND = 12.0


def normalise_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body as the live service reads it: missing fields take their natural
    defaults, unknown ``input`` and element fields are dropped, and ``multi_prompt`` is
    unread on a single-shot request (a non-object input is left alone)."""
    data = body.get("input")
    if not isinstance(data, Mapping):
        return dict(body)
    known = {k: v for k, v in data.items() if k in KNOWN_INPUT_FIELDS}
    merged = {**INPUT_DEFAULTS, **known}
    elements = merged.get("kling_elements")
    if isinstance(elements, list):
        merged["kling_elements"] = [_known_element_fields(e) for e in elements]
    if merged.get("multi_shots") is not True:
        merged["multi_prompt"] = []
    if merged.get("multi_shots") is True:
        shots = _shots(merged.get("multi_prompt"))
        if "prompt" not in data:
            texts = [s.get("prompt") for s in shots]
            merged["prompt"] = " ".join(t for t in texts if isinstance(t, str))
        durations = [s.get("duration") for s in shots]
        total = sum(d for d in durations if isinstance(d, int) and not isinstance(d, bool))
        if "duration" not in data and total:
            merged["duration"] = str(total)
    return {**dict(body), "input": merged}


def _known_element_fields(element: Any) -> Any:
    if not isinstance(element, Mapping):
        return element
    return {k: v for k, v in element.items() if k in KNOWN_ELEMENT_FIELDS}


def _shots(value: Any) -> list[Mapping[str, Any]]:
    return [s for s in value if isinstance(s, Mapping)] if isinstance(value, list) else []


def live_task_id(rng: random.Random) -> str:
    """A task id as the live service spells it: 32 lowercase hex digits."""
    return f"{rng.getrandbits(128):032x}"


def live_latency(body: Mapping[str, Any], rng: random.Random, scale: float) -> float:
    """Seconds from createTask to success under the live timing profile, times ``scale``:
    120-170 s for a 5 s std clip, longer for pro/4K and for longer clips."""
    data = body.get("input")
    data = data if isinstance(data, Mapping) else {}
    duration = data.get("duration")
    seconds = int(duration) if isinstance(duration, str) and duration.isdigit() else 5
    base = rng.uniform(*_CREATE_TO_SUCCESS) * _MODE_FACTOR.get(str(data.get("mode")), 1.0)
    return (base + max(0, seconds - 5) * _SECONDS_PER_EXTRA_SECOND) * scale


def live_record(docs_record: Mapping[str, Any], credits: float | None) -> dict[str, Any]:
    """A documented-shape record turned into the live shape: ``param`` with a
    double-encoded ``input``, ``costTime`` in seconds, null ``failCode``/``failMsg`` on
    success, no ``updateTime``, ``creditsConsumed`` (float) once finished."""
    param = json.loads(docs_record["param"]) if docs_record.get("param") else {}
    live_param = {
        "input": json.dumps(param.get("input"), ensure_ascii=False, separators=(",", ":")),
        "model": param.get("model"),
    }
    cost_ms = docs_record.get("costTime")
    record = {
        "taskId": docs_record["taskId"],
        "model": docs_record.get("model"),
        "state": docs_record["state"],
        "param": json.dumps(live_param, ensure_ascii=False, separators=(",", ":")),
        "resultJson": docs_record.get("resultJson") or None,
        "failCode": docs_record.get("failCode") or None,
        "failMsg": docs_record.get("failMsg") or None,
        "costTime": round(cost_ms / 1000) if isinstance(cost_ms, int) else None,
        "createTime": docs_record.get("createTime"),
        "completeTime": docs_record.get("completeTime"),
    }
    if credits is not None:
        record["creditsConsumed"] = float(credits)
    return record
