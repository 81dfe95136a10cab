"""Typed models of kie.ai responses: the envelope and each endpoint's ``data``.

Field names are Python's; aliases are the wire's camelCase. Unknown fields are kept
(``extra="allow"``) so a new field on the service never breaks the client.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

__all__ = [
    "FINAL_STATES",
    "PENDING_STATES",
    "CreateTaskData",
    "Envelope",
    "TaskRecord",
    "UploadedFile",
]

PENDING_STATES = ("waiting", "queuing", "generating")
"""States in which a task is still running (keep polling)."""

FINAL_STATES = ("success", "fail")
"""States in which a task is done."""


def _text_or_none(value: Any) -> Any:
    """Codes arrive as strings or numbers; empty strings mean none."""
    if value is None or value == "":
        return None
    return str(value) if isinstance(value, int | float) else value


OptionalText = Annotated[str | None, BeforeValidator(_text_or_none)]


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True)


class Envelope(_Wire):
    """``{"code": int, "msg": str, "data": ...}``; the message key may be spelled ``message``."""

    code: int
    msg: str = Field("", validation_alias=AliasChoices("msg", "message"))
    data: Any = None
    success: bool | None = None

    @field_validator("msg", mode="before")
    @classmethod
    def _msg_text(cls, value: Any) -> Any:
        return "" if value is None else value


class CreateTaskData(_Wire):
    """``data`` of createTask (the live service adds ``recordId``, so far equal to it)."""

    task_id: str = Field(alias="taskId")
    record_id: str | None = Field(None, alias="recordId")


class TaskRecord(_Wire):
    """``data`` of recordInfo, and the body of a completion callback."""

    task_id: str = Field(alias="taskId")
    model: str | None = None
    state: str = Field(description="waiting, queuing, generating, success or fail.")
    param: str | None = Field(None, description="The original request as a JSON string.")
    result_json: str | None = Field(None, alias="resultJson")
    fail_code: OptionalText = Field(None, alias="failCode")
    fail_msg: OptionalText = Field(None, alias="failMsg")
    create_time: int | None = Field(None, alias="createTime")
    update_time: int | None = Field(None, alias="updateTime")
    complete_time: int | None = Field(None, alias="completeTime")
    cost_time: float | None = Field(
        None, alias="costTime", description="Generation time (live: seconds)."
    )
    credits_consumed: float | None = Field(
        None, alias="creditsConsumed", description="Credits the task cost (live records)."
    )

    @field_validator("result_json", "param", mode="before")
    @classmethod
    def _json_text(cls, value: Any) -> Any:
        """Accept an already-decoded object where the docs promise a JSON string."""
        if isinstance(value, dict | list):
            return json.dumps(value)
        return None if value == "" else value

    @property
    def is_final(self) -> bool:
        """True once the task reached ``success`` or ``fail``."""
        return self.state in FINAL_STATES

    @property
    def result_urls(self) -> list[str]:
        """The generated files' URLs (empty until success); raises ValueError if malformed."""
        if not self.result_json:
            return []
        parsed = json.loads(self.result_json)
        urls = parsed.get("resultUrls", []) if isinstance(parsed, dict) else None
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise ValueError("resultJson.resultUrls is not a list of URLs")
        return urls

    @property
    def request(self) -> dict[str, Any] | None:
        """The original createTask body, decoded from ``param`` (the live service
        double-encodes its ``input`` as a JSON string inside the JSON string)."""
        if not self.param:
            return None
        parsed = json.loads(self.param)
        if not isinstance(parsed, dict):
            return None
        if isinstance(parsed.get("input"), str):
            parsed["input"] = json.loads(parsed["input"])
        return parsed

    def to_wire(self) -> dict[str, Any]:
        """The JSON object as the service sends it (camelCase keys)."""
        return self.model_dump(mode="json", by_alias=True)


class UploadedFile(_Wire):
    """``data`` of the three upload endpoints."""

    file_name: str = Field(alias="fileName")
    file_path: str = Field(alias="filePath")
    download_url: str = Field(alias="downloadUrl")
    file_size: int = Field(alias="fileSize")
    mime_type: str = Field(alias="mimeType")
    uploaded_at: str = Field(alias="uploadedAt")
