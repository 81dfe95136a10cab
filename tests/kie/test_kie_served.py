"""The same client against the emulator served by uvicorn on a loopback socket: real
connections, real dropped connections, and the real animatic renderer."""

# ruff: noqa: ASYNC240 - tests may touch the disk from async code

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pytest
from pydantic import SecretStr

from storyboard.providers.emulator import EmulatorConfig, FaultConfig, ServedEmulator, inprocess
from storyboard.providers.kie import CreateTaskUncertain, KieClient, KieSettings, PollPolicy

from .kie_helpers import FAKE_CLIP_HEADER, body, fake_render

pytestmark = pytest.mark.anyio

FAST_POLL = PollPolicy(initial=0.02, factor=1.5, max_interval=0.2, timeout=60)


def settings_for(served: ServedEmulator, **changes: object) -> KieSettings:
    values = {
        "api_key": SecretStr(served.config.api_key),
        "base_url": served.base_url,
        "upload_base_url": served.base_url,
        "poll": FAST_POLL,
        "retry": {"base_delay": 0.01, "max_delay": 0.05, "max_attempts": 8},
    }
    return KieSettings.model_validate({**values, **changes})


async def test_generation_over_a_real_socket(tmp_path: Path) -> None:
    with ServedEmulator(EmulatorConfig(renderer=fake_render)) as served:
        assert served.base_url.startswith("http://127.0.0.1:")
        async with KieClient(settings_for(served)) as client:
            frame = await client.upload_file(b"\x89PNG..", upload_path="f", file_name="f.png")
            task_id = await client.create_task(body(image_urls=[frame.download_url]))
            record = await client.wait_for_task(task_id)
            clip = await client.download_result(record, tmp_path / "clip.mp4")
            credits = await client.get_credits()
            stats = (await client._http.get(f"{served.base_url}/emulator/stats")).json()
    assert record.result_urls[0].startswith(served.base_url + "/files/results/")
    assert clip.read_bytes().startswith(FAKE_CLIP_HEADER)
    assert credits == 100_000 - 180
    assert stats["tasks_created"] == 1 and stats["uploads"] == 1 and stats["downloads"] == 1


async def test_dropped_connections_over_a_real_socket(tmp_path: Path) -> None:
    with ServedEmulator(EmulatorConfig(renderer=fake_render)) as served:
        async with KieClient(settings_for(served)) as client:
            served.emulator.faults.force("drop_create")
            with pytest.raises(CreateTaskUncertain):
                await client.create_task(body(), scene="dropped")
            record = await client.wait_for_task(await client.create_task(body()))
            served.emulator.faults.force("drop_download")
            clip = await client.download_result(record, tmp_path / "clip.mp4")
        stats = served.emulator.stats()
    assert clip.stat().st_size == 500_024 and list(tmp_path.iterdir()) == [clip]
    assert stats["create_task_calls"] == 2 and stats["tasks_created"] == 2
    assert stats["downloads"] == 2  # the cut one and the resumed one


async def test_a_faulty_served_emulator_still_delivers(tmp_path: Path) -> None:
    faults = FaultConfig(seed=11, http_error_rate=0.2, drop_download_rate=0.2, retry_after=0)
    with ServedEmulator(EmulatorConfig(renderer=fake_render, faults=faults)) as served:
        async with KieClient(settings_for(served)) as client:

            async def one(n: int) -> Path:
                record = await client.wait_for_task(await client.create_task(body(f"shot {n}")))
                return await client.download_result(record, tmp_path / f"{n}.mp4")

            clips = await asyncio.gather(*(one(n) for n in range(6)))
        stats = served.emulator.stats()
    assert len(clips) == 6 and stats["tasks_created"] == 6
    assert sum(stats["faults_injected"].values()) > 0


@pytest.mark.skipif(
    importlib.util.find_spec("storyboard.providers.animatic") is None,
    reason="the animatic renderer has not landed yet",
)
async def test_the_real_animatic_renders_the_result(tmp_path: Path) -> None:
    from storyboard.media.ffmpeg import probe

    request = body(duration="3", sound=True, aspect_ratio="9:16")
    async with inprocess(EmulatorConfig()) as (client, _):
        record = await client.wait_for_task(await client.create_task(request))
        clip = await client.download_result(record, tmp_path / "clip.mp4")
    info = probe(clip)
    assert info.duration is not None and abs(info.duration - 3) < 0.1
    assert (info.width, info.height) == (720, 1280) and info.has_audio
