"""Live-service fidelity (shared/kie-real-traffic.md): the recorded live answers parse
through the client's models, the emulator's live profile answers in the same shapes,
and the client survives what the live service does (tasks not visible yet, float
credits, errors as HTTP 200)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from storyboard.cli import app
from storyboard.pricing import estimate
from storyboard.providers.emulator import EmulatorConfig, inprocess
from storyboard.providers.emulator.live import live_latency, normalise_body
from storyboard.providers.kie import (
    KieClient,
    KieSettings,
    PollTimeout,
    RateLimited,
    TaskNotVisible,
    ValidationRejected,
)

from .kie_helpers import FIXTURES, Clock, FakeTime, body, fake_render
from .live_shapes import CHECKS

pytestmark = pytest.mark.anyio

LIVE = FIXTURES / "live"
AUTH = {"Authorization": "Bearer emulator-key"}


def live_fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((LIVE / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def serving(payload: dict[str, Any]) -> KieClient:
    settings = KieSettings(api_key="k", retry={"max_attempts": 1})
    return KieClient(
        settings, transport=httpx.MockTransport(lambda _: httpx.Response(200, json=payload))
    )


def element_body(mode: str = "std") -> dict[str, Any]:
    """The live recording's request shape: [name] refs, the same image twice, no
    multi_prompt (image URLs are data URLs the emulator can read)."""
    png = "data:image/png;base64,iVBORw0KGgo="
    return {
        "model": "kling-3.0/video",
        "input": {
            "prompt": "On a sandy beach [blue_suit_man] sits cross-legged; [white_cat] climbs on",
            "image_urls": [png],
            "kling_elements": [
                {
                    "name": "white_cat",
                    "description": "A white cat with mismatched eyes",
                    "element_input_urls": [png, png],
                },
                {
                    "name": "blue_suit_man",
                    "description": "A man wearing a blue suit",
                    "element_input_urls": [png, png],
                },
            ],
            "sound": False,
            "duration": "3",
            "aspect_ratio": "16:9",
            "mode": mode,
            "multi_shots": False,
        },
    }


# -- the recorded live answers parse through the client's models ----------------------


async def test_live_create_task_answer_parses() -> None:
    async with serving(live_fixture("create_task")) as client:
        created = await client.create_task_data(body())
    assert re.fullmatch(r"[0-9a-f]{32}", created.task_id) and created.record_id == created.task_id


@pytest.mark.parametrize(
    ("name", "mode", "credits"),
    [("record_std_success", "std", None), ("record_4k_success", "4K", 70.0)],
)
async def test_live_final_records_parse(name: str, mode: str, credits: float | None) -> None:
    async with serving(live_fixture(name)) as client:
        record = await client.get_task(live_fixture(name)["data"]["taskId"])
    assert record.is_final and record.state == "success"
    assert record.fail_code is None and record.fail_msg is None and record.update_time is None
    assert record.request is not None and record.request["input"]["mode"] == mode  # double-encoded
    assert record.request["input"]["kling_elements"][1]["element_input_urls"][0].endswith("man.jpg")
    assert (
        record.result_urls[0].endswith(".mp4")
        and f"/k/{record.task_id}_1_" in record.result_urls[0]
    )
    assert record.cost_time in (127, 165) and record.credits_consumed == credits


async def test_live_upload_credits_rate_limit_and_null_answers_parse() -> None:
    async with serving(live_fixture("upload")) as client:
        uploaded = await client.upload_file(b"\x89PNG", upload_path="images/test-uploads")
    assert uploaded.file_path.endswith(uploaded.file_name) and uploaded.file_size == 284113
    async with serving(live_fixture("credits")) as client:
        assert await client.get_credits() == 5916.25
    async with serving(live_fixture("rate_limit")) as client:
        with pytest.raises(RateLimited, match="call frequency is too high"):
            await client.get_credits()
    async with serving(live_fixture("record_null")) as client:
        with pytest.raises(TaskNotVisible):
            await client.get_task("3f1c9a7e5b2d4c8e9a0b1c2d3e4f5a6b")


def test_every_live_fixture_passes_the_shape_check() -> None:
    assert {p.stem for p in LIVE.glob("*.json")} == set(CHECKS)
    for name, check in CHECKS.items():
        assert check(live_fixture(name)) == [], name


# -- the emulator answers in the same shapes ------------------------------------------


async def emulator_answers(profile: str) -> dict[str, dict[str, Any]]:
    """One answer of each live fixture's kind, from an in-process emulator."""
    clock = Clock()
    config = EmulatorConfig(
        renderer=fake_render,
        clock=clock,
        latency=120,
        profile=profile,  # type: ignore[arg-type]
        record_null_polls=1,
        credits=5916.25,
    )
    async with inprocess(config) as (client, emulator):

        async def api(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
            response = await client._http.request(
                method, emulator.base_url + path, headers=AUTH, **kwargs
            )
            if profile == "live":  # errors too arrive as HTTP 200
                assert response.status_code == 200, (path, response.status_code)
            answer: dict[str, Any] = response.json()
            return answer

        def record(task_id: str) -> Any:
            return api("GET", "/api/v1/jobs/recordInfo", params={"taskId": task_id})

        answers = {"credits": await api("GET", "/api/v1/chat/credit")}
        answers["create_task"] = await api(
            "POST", "/api/v1/jobs/createTask", json=body(duration="3")
        )
        complete = element_body("4K")
        complete["input"]["multi_prompt"] = []  # the docs profile requires it
        four_k = await api("POST", "/api/v1/jobs/createTask", json=complete)
        std_id, k4_id = answers["create_task"]["data"]["taskId"], four_k["data"]["taskId"]
        answers["record_null"] = await record(std_id)
        await record(k4_id)
        clock.advance(200)
        await client.wait_for_task(std_id)
        await client.wait_for_task(k4_id)
        answers["record_std_success"] = await record(std_id)
        answers["record_4k_success"] = await record(k4_id)
        png = {"file": ("a.png", b"\x89PNG", "image/png")}
        answers["upload"] = await api(
            "POST", "/api/file-stream-upload", data={"uploadPath": "images/test-uploads"}, files=png
        )
        emulator.faults.force("http_error", code=429)
        answers["rate_limit"] = await api("GET", "/api/v1/chat/credit")
        foreign = await api("POST", "/api/v1/common/download-url", json={"url": "https://a/b.mp4"})
        if profile == "live":
            assert (foreign["code"], foreign["msg"]) == (422, "url is wrong")
    return answers


async def test_the_emulators_live_answers_pass_the_same_shape_check() -> None:
    answers = await emulator_answers("live")
    for name, check in CHECKS.items():
        assert check(answers[name]) == [], (name, answers[name])
    assert (
        answers["record_4k_success"]["data"]["creditsConsumed"]
        == estimate(element_body("4K")).credits
    )


async def test_the_docs_profile_does_not_pass_it() -> None:
    """The shape check can fail: the documented shapes are not the live ones."""
    answers = await emulator_answers("docs")
    failing = {name for name, check in CHECKS.items() if check(answers[name])}
    assert {"create_task", "record_std_success", "upload"} <= failing


# -- the client survives the live service ---------------------------------------------


async def test_not_visible_right_after_create_task_keeps_polling() -> None:
    config = EmulatorConfig(renderer=fake_render, latency=0.2, record_null_polls=4)
    async with inprocess(config) as (client, emulator):
        task_id = await client.create_task(body(duration="3"))
        record = await client.wait_for_task(task_id)
        stats = emulator.stats()
    assert record.state == "success" and stats["polls"] >= 5
    assert stats["rejected_requests"] == {"422": 2}  # 2 of the 4 were 422, 2 were data: null
    assert stats["create_task_calls"] == 1


async def test_a_task_never_visible_ends_in_a_clear_error_with_its_id() -> None:
    fake = FakeTime()
    config = EmulatorConfig(renderer=fake_render, record_null_polls=10**6)
    async with inprocess(config, sleep=fake.sleep, clock=fake.clock) as (client, _):
        task_id = await client.create_task(body(duration="3"))
        with pytest.raises(PollTimeout, match="recordInfo is null") as caught:
            await client.wait_for_task(task_id, scene="beach")
    assert caught.value.task_id == task_id and caught.value.scene == "beach"
    assert 120 <= fake.now <= 200  # the not-visible window (120 s), not the 30 min wait


async def test_live_uploads_never_overwrite_a_same_named_file(tmp_path: Path) -> None:
    image = tmp_path / "dog.png"
    async with inprocess(EmulatorConfig(renderer=fake_render)) as (client, emulator):
        image.write_bytes(b"\x89PNG first")
        first = await client.upload_file(image, upload_path="refs")
        image.write_bytes(b"\x89PNG second")
        second = await client.upload_file(image, upload_path="refs")
        named = await client.upload_base64(b"x", upload_path="refs", file_name="cat.png")
        served = [(await client._http.get(u.download_url)).content for u in (first, second)]
    assert first.download_url != second.download_url
    assert served == [b"\x89PNG first", b"\x89PNG second"]
    assert re.fullmatch(r"kieai/emulator/refs/\d{13}-[0-9a-f]+\.png", first.file_path)
    assert named.file_path == "kieai/emulator/refs/cat.png"
    assert emulator.stats()["uploads"] == 3


async def test_a_key_sent_to_a_file_url_is_counted(tmp_path: Path) -> None:
    async with inprocess(EmulatorConfig(renderer=fake_render)) as (client, emulator):
        record = await client.wait_for_task(await client.create_task(body(duration="3")))
        await client.download_result(record, tmp_path / "clip.mp4")
        assert emulator.stats()["key_sent_to_files"] == 0  # the client never sends it there
        await client._http.get(record.result_urls[0], headers=AUTH)
        assert emulator.stats()["key_sent_to_files"] == 1


async def test_the_emulator_accepts_live_style_minimal_bodies() -> None:
    single = {
        "model": "kling-3.0/video",
        "input": {"prompt": "a dog", "duration": "3", "negative_prompt": "blur", "cfg_scale": 0.5},
    }
    multi = {
        "model": "kling-3.0/video",
        "input": {
            "multi_shots": True,
            "sound": True,
            "duration": "4",
            "multi_prompt": [{"prompt": "a", "duration": 2}, {"prompt": "b", "duration": 2}],
        },
    }
    async with inprocess(EmulatorConfig(renderer=fake_render)) as (client, _):
        records = [
            await client.wait_for_task(await client.create_task(b))
            for b in (single, multi, element_body("4K"))
        ]
    assert [r.state for r in records] == ["success"] * 3
    assert records[0].request is not None and "negative_prompt" not in records[0].request["input"]
    assert records[1].request is not None and records[1].request["input"]["prompt"] == "a b"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda b: b["input"]["kling_elements"][0].update(element_input_urls=["x.png"]),
            "an element takes 2-4 reference images, got 1",
        ),
        (
            lambda b: b["input"]["kling_elements"][0].update(element_input_urls=["x.png"] * 5),
            "an element takes 2-4 reference images, got 5",
        ),
        (
            lambda b: b["input"]["kling_elements"][0].update(description="d" * 101),
            "element description is 101 characters; the limit is 100",
        ),
        (
            lambda b: b["input"].update(
                multi_shots=True, multi_prompt=[{"prompt": "p" * 501, "duration": 3}]
            ),
            "shot prompt is 501 characters; the limit is 500",
        ),
        (
            lambda b: b["input"].update(
                multi_shots=True, multi_prompt=[{"prompt": "p", "duration": 3}]
            ),
            "multi-shot requires sound",
        ),
    ],
)
async def test_the_emulator_still_rejects_what_the_live_service_rejects(
    change: Any, message: str
) -> None:
    rejected = element_body()
    change(rejected)
    async with inprocess(EmulatorConfig(renderer=fake_render)) as (client, emulator):
        with pytest.raises(ValidationRejected, match=re.escape(message)):
            await client.create_task(rejected)
        assert emulator.stats()["tasks_created"] == 0


def test_live_timing_profile() -> None:
    rng = random.Random(1)
    std = [live_latency(body(duration="5"), rng, 1.0) for _ in range(200)]
    assert min(std) >= 120 and max(std) <= 170 and max(std) - min(std) > 30  # spread
    four_k = [live_latency(body(duration="5", mode="4K"), rng, 1.0) for _ in range(200)]
    longer = [live_latency(body(duration="10"), rng, 1.0) for _ in range(200)]
    assert sum(four_k) / 200 > sum(std) / 200 + 20 and min(longer) > 170
    assert 1.2 <= live_latency(body(duration="5"), rng, 0.01) <= 1.7


def test_normalise_body_fills_defaults_and_drops_unknown_fields() -> None:
    data = normalise_body({"model": "kling-3.0/video", "input": {"prompt": "p", "cfg_scale": 1}})
    assert data["input"] == {
        "prompt": "p",
        "sound": False,
        "duration": "5",
        "mode": "std",
        "aspect_ratio": "16:9",
        "multi_shots": False,
        "multi_prompt": [],
    }


def test_live_reading_ignores_unknown_element_fields_and_single_shot_multi_prompt() -> None:
    from storyboard.kling.rules import check_request

    element = {
        "name": "cat",
        "description": "a white cat",
        "element_input_urls": ["https://x/a.png"] * 2,
    }
    body = {
        "model": "kling-3.0/video",
        "input": {
            "prompt": "@cat sits",
            "image_urls": ["https://x/f.png"],
            "kling_elements": [{**element, "weight": 0.5}],
            "multi_prompt": [{"prompt": 7}],
        },
    }
    assert check_request(body), "the documented contract refuses both"
    data = normalise_body(body)
    assert data["input"]["kling_elements"] == [element]
    assert data["input"]["multi_prompt"] == []
    assert check_request(data) == []


def test_4k_validates_with_a_warning_and_is_priced(write_storyboard: Any) -> None:
    path = write_storyboard(
        "storyboard: 1\ntitle: Big\ndefaults: {mode: 4K}\n"
        "scenes:\n  - id: a\n    shots: [{prompt: a lighthouse at dusk, duration: 5}]\n"
    )
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "outside the seed's enum" in result.output
    assert estimate(body(duration="5", mode="4K")).credits == 5 * 95


def test_a_4k_clip_is_a_1080p_stand_in_that_reports_the_4k_size(tmp_path: Path) -> None:
    from PIL import Image

    from storyboard.media.ffmpeg import run_ffmpeg
    from storyboard.providers.animatic import render_animatic
    from storyboard.providers.animatic.layout import reported_size

    clip = render_animatic(body(duration="3", mode="4K"), tmp_path / "4k.mp4")
    run_ffmpeg(["-v", "error", "-y", "-i", str(clip), "-frames:v", "1", str(tmp_path / "f.png")])
    with Image.open(tmp_path / "f.png") as frame:
        assert frame.size == (1920, 1080)  # the card says "4K 3840x2160 (1080p stand-in)"
    assert reported_size("4K", (1920, 1080)) == (3840, 2160)
    assert reported_size("std", (1280, 720)) == (1280, 720)
