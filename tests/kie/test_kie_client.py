"""The real client against the in-process emulator: every endpoint, and each error code."""

# ruff: noqa: ASYNC240 - tests may touch the disk from async code

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from storyboard.kling import CreateTaskRequest
from storyboard.providers.emulator import (
    EmulatorConfig,
    FetchAsset,
    InProcessTransport,
    create_app,
    emulator_of,
    emulator_settings,
    inprocess,
)
from storyboard.providers.kie import (
    GenerationFailed,
    InsufficientCredits,
    KieAuthError,
    KieClient,
    KieSettings,
    NotFound,
    UnexpectedResponse,
    ValidationRejected,
)

from .kie_helpers import FAKE_CLIP_HEADER, body, fake_render

pytestmark = pytest.mark.anyio

FAST = EmulatorConfig(renderer=fake_render)


async def test_generation_end_to_end(tmp_path: Path) -> None:
    async with inprocess(FAST) as (client, emulator):
        task_id = await client.create_task(body(), scene="beach")
        record = await client.wait_for_task(task_id, scene="beach")
        clip = await client.download_result(record, tmp_path / "beach.mp4", scene="beach")
    assert re.fullmatch(r"[0-9a-f]{32}", task_id)  # the live service's task ids
    assert record.state == "success" and record.is_final
    assert record.request == body()  # param's input arrives double-encoded, decoded here
    assert record.create_time and record.complete_time and record.update_time is None
    assert record.credits_consumed == 180.0 and record.cost_time is not None
    assert record.result_urls[0].startswith("http://emulator.invalid/files/results/")
    assert clip.read_bytes().startswith(FAKE_CLIP_HEADER)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beach.mp4"]
    assert emulator.stats()["tasks_by_state"] == {"success": 1}


async def test_create_task_accepts_the_request_model() -> None:
    request = CreateTaskRequest.model_validate(body())
    async with inprocess(FAST) as (client, _):
        task_id = await client.create_task(request)
        assert (await client.get_task(task_id)).request == request.to_body()


async def test_states_move_through_waiting_queuing_generating() -> None:
    config = EmulatorConfig(renderer=fake_render, latency=0.4, profile="docs")
    async with inprocess(config) as (client, _):
        task_id = await client.create_task(body())
        seen = [(await client.get_task(task_id)).state]
        while seen[-1] != "success":
            await _pause(0.02)
            state = (await client.get_task(task_id)).state
            if state != seen[-1]:
                seen.append(state)
    assert seen == ["waiting", "queuing", "generating", "success"]


async def test_credits_decrease_by_the_price_table_and_402_when_short() -> None:
    async with inprocess(EmulatorConfig(renderer=fake_render, credits=400)) as (client, _):
        assert await client.get_credits() == 400
        await client.create_task(body())  # 5 s std: 5 × 36 = 180 credits
        assert await client.get_credits() == 220
        await client.create_task(body())
        with pytest.raises(InsufficientCredits, match="costs 180, 40 left"):
            await client.create_task(body(), scene="third")
        assert await client.get_credits() == 40


async def test_validation_errors_are_422_naming_the_field() -> None:
    async with inprocess(FAST) as (client, emulator):
        with pytest.raises(ValidationRejected) as caught:
            await client.create_task(body(duration="20"), scene="too-long")
        # warnings (an element defined but never referenced) are accepted
        await client.create_task(
            body(
                image_urls=["https://x.example/a.png"],
                kling_elements=[
                    {
                        "name": "dog",
                        "description": "a dog",
                        "element_input_urls": [
                            "https://x.example/1.png",
                            "https://x.example/2.png",
                        ],
                    }
                ],
            )
        )
    assert caught.value.code == 422
    assert "input.duration" in str(caught.value) and "scene=too-long" in str(caught.value)
    assert emulator.stats()["tasks_created"] == 1


async def test_wrong_or_missing_key_is_401() -> None:
    app = create_app(FAST)
    emulator = emulator_of(app)
    for key in (None, "not-the-key"):
        settings = emulator_settings(emulator, api_key=key)
        async with KieClient(settings, transport=InProcessTransport(app)) as client:
            with pytest.raises(KieAuthError):
                await client.get_credits()
    await emulator.aclose()
    assert emulator.stats()["rejected_requests"] == {"401": 1}  # a missing key is never sent


async def test_unknown_task_is_404() -> None:
    async with inprocess(FAST) as (client, _):
        with pytest.raises(NotFound) as caught:
            await client.get_task("task_kling-3.0_1", scene="s")
    assert caught.value.task_id == "task_kling-3.0_1" and caught.value.scene == "s"


async def test_generation_failure_raises_with_fail_code() -> None:
    async with inprocess(FAST) as (client, emulator):
        emulator.faults.force("generation_fail")
        task_id = await client.create_task(body())
        with pytest.raises(GenerationFailed) as caught:
            await client.wait_for_task(task_id, scene="s1")
        record = await client.get_task(task_id)
        credits = await client.get_credits()
    assert caught.value.fail_code == "501" and caught.value.task_id == task_id
    assert record.state == "fail" and record.result_urls == [] and record.fail_msg
    assert credits == 100_000  # failed generations are refunded (configurable)


async def test_uploads_all_three_kinds_are_stored_and_served(tmp_path: Path) -> None:
    image = tmp_path / "dog.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    # documented naming (live naming: tests/kie/test_kie_live.py)
    async with inprocess(EmulatorConfig(renderer=fake_render, profile="docs")) as (
        client,
        emulator,
    ):
        streamed = await client.upload_file(image, upload_path="refs")
        encoded = await client.upload_base64(
            b"jpegbytes", upload_path="refs/b64", file_name="cat.jpg", mime_type="image/jpeg"
        )
        plain = await client.upload_base64(
            base64.b64encode(b"x").decode(), upload_path="refs", file_name="x.png"
        )
        copied = await client.upload_url(streamed.download_url, upload_path="copies")
        served = await client._http.get(streamed.download_url)
        with pytest.raises(ValidationRejected, match="no network"):
            await client.upload_url("https://example.com/a.png", upload_path="x")
    assert (streamed.file_name, streamed.file_path) == ("dog.png", "refs/dog.png")
    assert streamed.file_size == image.stat().st_size and streamed.mime_type == "image/png"
    assert streamed.uploaded_at.endswith("Z")
    assert (encoded.file_path, encoded.mime_type, encoded.file_size) == (
        "refs/b64/cat.jpg",
        "image/jpeg",
        9,
    )
    assert plain.file_size == 1
    assert copied.file_path == "copies/dog.png" and copied.file_size == streamed.file_size
    assert served.content == image.read_bytes()
    assert served.headers["content-type"] == "image/png"
    assert emulator.stats()["uploads"] == 4


async def test_renderer_fetches_the_emulators_own_uploads(tmp_path: Path) -> None:
    fetched: dict[str, bytes | None] = {}

    def spy_render(
        body_: Mapping[str, Any],
        out_path: str | Path,
        *,
        fetch_asset: FetchAsset | None = None,
        label: str | None = None,
    ) -> Path:
        assert fetch_asset is not None
        for url in [*body_["input"].get("image_urls", []), "https://elsewhere.example/a.png"]:
            fetched[url] = fetch_asset(url)
        return fake_render(body_, out_path)

    async with inprocess(EmulatorConfig(renderer=spy_render)) as (client, _):
        frame = await client.upload_file(b"\x89PNGframe", upload_path="f", file_name="f.png")
        task_id = await client.create_task(body(image_urls=[frame.download_url]))
        await client.wait_for_task(task_id)
    assert fetched == {frame.download_url: b"\x89PNGframe", "https://elsewhere.example/a.png": None}


async def test_download_url_gives_a_working_temporary_link(tmp_path: Path) -> None:
    async with inprocess(FAST) as (client, _):
        record = await client.wait_for_task(await client.create_task(body()))
        link = await client.get_download_url(record.result_urls[0])
        clip = await client.download(link, tmp_path / "via-link.mp4")
        with pytest.raises(ValidationRejected):
            await client.get_download_url("https://elsewhere.example/x.mp4")
    assert "/files/dl/" in link and clip.read_bytes().startswith(FAKE_CLIP_HEADER)


async def test_mirrored_http_statuses_are_read_from_the_body_too() -> None:
    config = EmulatorConfig(renderer=fake_render, mirror_http_status=True, credits=0)
    async with inprocess(config) as (client, _):
        with pytest.raises(InsufficientCredits):
            await client.create_task(body())
        response = await client._http.post(
            "http://emulator.invalid/api/v1/jobs/createTask",
            json=body(),
            headers={"Authorization": "Bearer emulator-key"},
        )
    assert response.status_code == 402 and response.json()["code"] == 402


async def test_unknown_paths_answer_a_404_envelope() -> None:
    async with inprocess(FAST) as (client, _):
        response = await client._http.get("http://emulator.invalid/api/v1/nope")
    assert response.status_code == 404 and response.json()["code"] == 404


async def test_malformed_success_data_is_an_unexpected_response() -> None:
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code": 200, "msg": "success", "data": {"id": 1}})

    settings = KieSettings(api_key="k")
    async with KieClient(settings, transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(UnexpectedResponse, match="CreateTaskData"):
            await client.create_task(body())
        with pytest.raises(UnexpectedResponse, match="not a number"):
            await client.get_credits()


async def _pause(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def test_record_param_is_the_original_request_as_a_json_string() -> None:
    from storyboard.providers.emulator.state import Task, task_record

    task = Task("t", body(), created=10.0, cost=1, will_fail=False, latency=1.0)
    record = task_record(task, 10.2, None)
    assert json.loads(record["param"]) == body() and record["state"] == "queuing"
    assert record["resultJson"] == "" and record["completeTime"] is None


async def test_plain_httpx_asgi_transport_works_too(tmp_path: Path) -> None:
    import httpx

    app = create_app(FAST)
    emulator = emulator_of(app)
    transport = httpx.ASGITransport(app=app)
    async with KieClient(emulator_settings(emulator), transport=transport) as client:
        record = await client.wait_for_task(await client.create_task(body()))
        clip = await client.download_result(record, tmp_path / "clip.mp4")
    await emulator.aclose()
    assert clip.read_bytes().startswith(FAKE_CLIP_HEADER)
