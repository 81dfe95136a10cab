"""The kie.ai contract (shared/kie-api.md), pinned by saved example responses.

The fixtures in ``fixtures/`` are written from the documented envelopes and field names
(there is no network here to capture live answers). Each is parsed by the client's
models, and the emulator's own answers are checked against the same shapes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from storyboard.providers.emulator import EmulatorConfig, inprocess
from storyboard.providers.kie import (
    FeatureDisabled,
    GenerationFailed,
    InsufficientCredits,
    KieApiError,
    KieAuthError,
    KieClient,
    KieSettings,
    NotFound,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    TaskRecord,
    ValidationRejected,
)

from .kie_helpers import FIXTURES, Clock, body, fake_render, fixture

pytestmark = pytest.mark.anyio

RECORD_FIELDS = {
    "taskId",
    "model",
    "state",
    "param",
    "resultJson",
    "failCode",
    "failMsg",
    "createTime",
    "updateTime",
    "completeTime",
}
UPLOAD_FIELDS = {"fileName", "filePath", "downloadUrl", "fileSize", "mimeType", "uploadedAt"}
ERRORS: dict[int, type[KieApiError]] = {
    401: KieAuthError,
    402: InsufficientCredits,
    404: NotFound,
    422: ValidationRejected,
    429: RateLimited,
    455: ServiceUnavailable,
    500: ServerError,
    501: GenerationFailed,
    505: FeatureDisabled,
}


def serving(payload: dict[str, Any], seen: list[httpx.Request] | None = None) -> KieClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(200, json=payload)

    settings = KieSettings(api_key="k", retry={"max_attempts": 1})
    return KieClient(settings, transport=httpx.MockTransport(handler))


def test_every_fixture_is_an_envelope() -> None:
    for path in FIXTURES.glob("*.json"):
        data = json.loads(path.read_text())
        assert isinstance(data["code"], int), path.name
        assert isinstance(data.get("msg", data.get("message")), str), path.name
        assert "data" in data, path.name


async def test_create_task_fixture() -> None:
    seen: list[httpx.Request] = []
    async with serving(fixture("create_task_ok"), seen) as client:
        assert await client.create_task(body()) == "task_kling-3.0_1765187774173"
    request = seen[0]
    assert (request.method, request.url.path) == ("POST", "/api/v1/jobs/createTask")
    assert str(request.url).startswith("https://api.kie.ai/")
    assert json.loads(request.content) == body()


@pytest.mark.parametrize(
    ("name", "state"),
    [
        ("record_waiting", "waiting"),
        ("record_queuing", "queuing"),
        ("record_generating_message_key", "generating"),
        ("record_success", "success"),
        ("record_fail", "fail"),
    ],
)
async def test_record_fixtures(name: str, state: str) -> None:
    seen: list[httpx.Request] = []
    async with serving(fixture(name), seen) as client:
        record = await client.get_task("task_kling-3.0_1765187774173")
    assert set(fixture(name)["data"]) == RECORD_FIELDS
    assert seen[0].url.path == "/api/v1/jobs/recordInfo"
    assert seen[0].url.params["taskId"] == "task_kling-3.0_1765187774173"
    assert record.state == state and record.is_final == (state in {"success", "fail"})
    assert record.request is not None and record.request["model"] == "kling-3.0/video"
    if state == "success":
        assert record.result_urls == [
            "https://tempfile.aiquickdraw.com/kieai/market/1765187874173_abc.mp4"
        ]
        assert record.complete_time == 1765187874173
    else:
        assert record.result_urls == []
    if state == "fail":
        assert (record.fail_code, record.fail_msg) == (
            "501",
            "Generation failed: content did not pass review",
        )
    else:
        assert record.fail_code is None and record.fail_msg is None


@pytest.mark.parametrize(
    ("name", "call", "path"),
    [
        (
            "upload_stream",
            lambda c: c.upload_file(b"x", upload_path="p"),
            "/api/file-stream-upload",
        ),
        (
            "upload_base64",
            lambda c: c.upload_base64(b"x", upload_path="p"),
            "/api/file-base64-upload",
        ),
        (
            "upload_url",
            lambda c: c.upload_url("https://a/b.mp4", upload_path="p"),
            "/api/file-url-upload",
        ),
    ],
)
async def test_upload_fixtures(name: str, call: Callable[[KieClient], Any], path: str) -> None:
    seen: list[httpx.Request] = []
    async with serving(fixture(name), seen) as client:
        uploaded = await call(client)
    assert fixture(name)["success"] is True and set(fixture(name)["data"]) == UPLOAD_FIELDS
    assert str(seen[0].url) == "https://kieai.redpandaai.co" + path
    assert uploaded.download_url == fixture(name)["data"]["downloadUrl"]
    assert uploaded.file_size == fixture(name)["data"]["fileSize"]


async def test_credits_and_download_url_fixtures() -> None:
    seen: list[httpx.Request] = []
    async with serving(fixture("credits"), seen) as client:
        assert await client.get_credits() == 100
    async with serving(fixture("download_url"), seen) as client:
        link = await client.get_download_url("https://tempfile.aiquickdraw.com/x.mp4")
    assert link == fixture("download_url")["data"]
    assert [(r.method, r.url.path) for r in seen] == [
        ("GET", "/api/v1/chat/credit"),
        ("POST", "/api/v1/common/download-url"),
    ]
    assert json.loads(seen[1].content) == {"url": "https://tempfile.aiquickdraw.com/x.mp4"}


def test_callback_fixture_parses_as_a_record() -> None:
    record = TaskRecord.model_validate(fixture("callback_success")["data"])
    assert record.state == "success" and record.result_urls


@pytest.mark.parametrize("code", sorted(ERRORS))
async def test_error_fixtures_map_to_the_exception_tree(code: int) -> None:
    async with serving(fixture(f"error_{code}")) as client:
        with pytest.raises(ERRORS[code]) as caught:
            await client.get_task("t1", scene="s")
    assert caught.value.code == code and fixture(f"error_{code}")["msg"] in str(caught.value)
    assert caught.value.retryable == (code in {429, 455, 500})


async def test_upload_error_fixture() -> None:
    async with serving(fixture("upload_error_422")) as client:
        with pytest.raises(ValidationRejected, match="uploadPath is required"):
            await client.upload_file(b"x", upload_path="")


# -- the emulator answers in the same shapes ----------------------------------------------


def kind(value: Any) -> str:
    return type(value).__name__


def assert_fits(expected: Any, actual: Any, where: str = "") -> None:
    """Every key of ``expected`` is in ``actual`` with the same JSON type (null fits all)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} is missing"
            assert_fits(value, actual[key], f"{where}.{key}")
    elif expected is not None and actual is not None:
        assert kind(expected) == kind(actual), f"{where}: {kind(actual)} is not {kind(expected)}"


async def test_the_emulator_answers_in_the_documented_shapes() -> None:
    clock = Clock()
    config = EmulatorConfig(
        renderer=fake_render, clock=clock, latency=100, credits=288, profile="docs"
    )
    auth = {"Authorization": "Bearer emulator-key"}
    async with inprocess(config) as (client, emulator):

        async def api(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
            kwargs.setdefault("headers", auth)
            url = emulator.base_url + path
            answer: dict[str, Any] = (await client._http.request(method, url, **kwargs)).json()
            return answer

        async def record(task_id: str) -> dict[str, Any]:
            return await api("GET", "/api/v1/jobs/recordInfo", params={"taskId": task_id})

        answers = {"create_task_ok": await api("POST", "/api/v1/jobs/createTask", json=body())}
        task_id = answers["create_task_ok"]["data"]["taskId"]
        for name, seconds in [("record_waiting", 0), ("record_queuing", 15)]:
            clock.advance(seconds)
            answers[name] = await record(task_id)
        clock.advance(40)
        answers["record_generating_message_key"] = await record(task_id)
        emulator.faults.force("generation_fail")
        failing = await api("POST", "/api/v1/jobs/createTask", json=body(duration="3"))
        fail_id = failing["data"]["taskId"]
        answers["error_402"] = await api("POST", "/api/v1/jobs/createTask", json=body())
        clock.advance(1000)  # past the latency: both tasks finish
        await client.wait_for_task(task_id)
        with pytest.raises(GenerationFailed):
            await client.wait_for_task(fail_id)
        answers["record_success"] = await record(task_id)
        answers["record_fail"] = await record(fail_id)
        result_url = json.loads(answers["record_success"]["data"]["resultJson"])["resultUrls"][0]
        png = {"file": ("a.png", b"x", "image/png")}
        answers |= {
            "upload_stream": await api(
                "POST", "/api/file-stream-upload", data={"uploadPath": "p"}, files=png
            ),
            "upload_base64": await api(
                "POST",
                "/api/file-base64-upload",
                json={"base64Data": "eA==", "uploadPath": "p", "fileName": "b.jpg"},
            ),
            "upload_url": await api(
                "POST", "/api/file-url-upload", json={"fileUrl": result_url, "uploadPath": "q"}
            ),
            "upload_error_422": await api(
                "POST", "/api/file-base64-upload", json={"base64Data": "eA=="}
            ),
            "credits": await api("GET", "/api/v1/chat/credit"),
            "download_url": await api(
                "POST", "/api/v1/common/download-url", json={"url": result_url}
            ),
            "error_401": await api("GET", "/api/v1/chat/credit", headers={}),
            "error_404": await record("task_kling-3.0_0"),
            "error_422": await api("POST", "/api/v1/jobs/createTask", json=body(duration="20")),
        }
        for code in (429, 455, 500):
            emulator.faults.force("http_error", code=code)
            answers[f"error_{code}"] = await api("GET", "/api/v1/chat/credit")
    for name, answer in answers.items():
        expected = fixture(name)
        if "message" in expected:  # the emulator always spells it msg
            expected["msg"] = expected.pop("message")
        assert_fits(expected, answer, name)
        assert answer["code"] == expected["code"], name
        if name.startswith("record_"):
            assert set(answer["data"]) >= RECORD_FIELDS, name
            assert answer["data"]["state"] == expected["data"]["state"], name
            TaskRecord.model_validate(answer["data"])
