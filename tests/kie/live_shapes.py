"""One shape check for live kie.ai answers (shared/kie-real-traffic.md), run on the
recorded fixtures and on the emulator's live-profile answers alike so they cannot drift.

Each ``check_*`` returns the list of problems (empty when the answer has the live shape).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

HEX32 = re.compile(r"[0-9a-f]{32}")
RESULT_PATH = re.compile(r".*/k/(?P<task>[0-9a-f]{32})_1_\d+_\d+\.mp4")
GENERATED_NAME = re.compile(r"\d{13}-[0-9a-z]+\.\w+")
RECORD_KEYS = {
    "taskId",
    "model",
    "state",
    "param",
    "resultJson",
    "failCode",
    "failMsg",
    "costTime",
    "createTime",
    "completeTime",
}
OPTIONAL_RECORD_KEYS = {"creditsConsumed"}
UPLOAD_KEYS = {
    "success",
    "fileName",
    "filePath",
    "downloadUrl",
    "fileSize",
    "mimeType",
    "uploadedAt",
}
RATE_LIMIT_MSG = "Your call frequency is too high. Please try again later."


def check_create_task(answer: dict[str, Any]) -> list[str]:
    data = answer.get("data") or {}
    problems = _ok_envelope(answer)
    if set(data) != {"taskId", "recordId"}:
        problems.append(f"createTask data keys {sorted(data)} != ['recordId', 'taskId']")
    if not HEX32.fullmatch(str(data.get("taskId"))):
        problems.append(f"taskId {data.get('taskId')!r} is not 32 hex digits")
    if data.get("recordId") != data.get("taskId"):
        problems.append("recordId differs from taskId")
    return problems


def check_success_record(answer: dict[str, Any]) -> list[str]:
    record = answer.get("data") or {}
    problems = _ok_envelope(answer)
    keys = set(record)
    if not RECORD_KEYS <= keys <= RECORD_KEYS | OPTIONAL_RECORD_KEYS:
        problems.append(f"record keys {sorted(keys)} are not the live keys")
    if record.get("state") != "success":
        problems.append(f"state {record.get('state')!r} is not success")
    if not HEX32.fullmatch(str(record.get("taskId"))):
        problems.append("taskId is not 32 hex digits")
    problems += _check_param(record.get("param"))
    problems += _check_result(record.get("resultJson"), record.get("taskId"))
    if record.get("failCode") is not None or record.get("failMsg") is not None:
        problems.append("failCode/failMsg are not null on success")
    cost = record.get("costTime")
    created, completed = record.get("createTime"), record.get("completeTime")
    if not isinstance(cost, int) or not isinstance(created, int) or not isinstance(completed, int):
        problems.append("costTime/createTime/completeTime are not integers")
    elif abs(cost - (completed - created) / 1000) > 1:
        problems.append(f"costTime {cost} is not the create→complete time in seconds")
    if "creditsConsumed" in record and not isinstance(record["creditsConsumed"], float):
        problems.append("creditsConsumed is not a float")
    return problems


def check_upload(answer: dict[str, Any]) -> list[str]:
    data = answer.get("data") or {}
    problems = _ok_envelope(answer)
    if answer.get("success") is not True or data.get("success") is not True:
        problems.append("success: true is missing from the envelope or data")
    if set(data) != UPLOAD_KEYS:
        problems.append(f"upload data keys {sorted(data)} != {sorted(UPLOAD_KEYS)}")
    name, path = str(data.get("fileName")), str(data.get("filePath"))
    if not GENERATED_NAME.fullmatch(name):
        problems.append(f"fileName {name!r} is not a generated <ms>-<random>.<ext> name")
    if not re.fullmatch(r"kieai/[^/]+/.+/" + re.escape(name), path):
        problems.append(f"filePath {path!r} is not kieai/<uid>/<uploadPath>/<fileName>")
    if not str(data.get("downloadUrl")).endswith("/" + path):
        problems.append("downloadUrl does not end with the filePath")
    return problems


def check_credits(answer: dict[str, Any]) -> list[str]:
    data = answer.get("data")
    problems = _ok_envelope(answer)
    if isinstance(data, bool) or not isinstance(data, int | float):
        problems.append(f"credits {data!r} is not a number")
    return problems


def check_rate_limit(answer: dict[str, Any]) -> list[str]:
    problems = []
    if answer.get("code") != 429 or answer.get("msg") != RATE_LIMIT_MSG:
        problems.append(f"rate limit body {answer!r} is not the live one")
    if answer.get("data") is not None:
        problems.append("a rate-limit answer carries data")
    return problems


def check_record_null(answer: dict[str, Any]) -> list[str]:
    if (answer.get("code"), answer.get("msg"), answer.get("data")) != (
        422,
        "recordInfo is null",
        None,
    ):
        return [f"{answer!r} is not the 422 recordInfo is null answer"]
    return []


CHECKS = {
    "create_task": check_create_task,
    "record_std_success": check_success_record,
    "record_4k_success": check_success_record,
    "upload": check_upload,
    "credits": check_credits,
    "rate_limit": check_rate_limit,
    "record_null": check_record_null,
}
"""Fixture name (tests/kie/fixtures/live/) → its shape check."""


def _ok_envelope(answer: dict[str, Any]) -> list[str]:
    if answer.get("code") != 200 or not isinstance(answer.get("msg"), str):
        return [f"envelope code/msg {answer.get('code')!r}/{answer.get('msg')!r} is not 200"]
    return []


def _check_param(param: Any) -> list[str]:
    if not isinstance(param, str):
        return ["param is not a JSON string"]
    outer = json.loads(param)
    if not isinstance(outer, dict) or not isinstance(outer.get("input"), str):
        return ["param.input is not itself a JSON string (double-encoded)"]
    if not isinstance(json.loads(outer["input"]), dict):
        return ["param.input does not decode to an object"]
    return [] if "callBackUrl" not in outer else ["param echoes callBackUrl"]


def _check_result(result_json: Any, task_id: Any) -> list[str]:
    if not isinstance(result_json, str):
        return ["resultJson is not a JSON string"]
    urls = json.loads(result_json).get("resultUrls")
    if not isinstance(urls, list) or len(urls) != 1:
        return ["resultJson.resultUrls is not a one-URL list"]
    match = RESULT_PATH.fullmatch(urlsplit(urls[0]).path)
    if match is None or match["task"] != task_id:
        return [f"result URL {urls[0]!r} is not <host>/k/<taskId>_1_<unix>_<n>.mp4"]
    return []
