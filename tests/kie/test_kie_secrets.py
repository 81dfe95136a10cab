"""The API key never appears in a log line, an exception, a repr, or a file."""

# ruff: noqa: ASYNC240 - tests may touch the disk from async code

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import httpx
import pytest

from storyboard.providers.emulator import EmulatorConfig, ServedEmulator, inprocess
from storyboard.providers.kie import KieClient, KieError, KieSettings

from .kie_helpers import body, fake_render

pytestmark = pytest.mark.anyio

KEY = "kie-SECRET-7f3a9c1e5b"


def leaks(text: str) -> bool:
    return KEY in text or KEY[4:] in text


def describe(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)) + repr(error) + str(error)


async def test_the_key_never_leaks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    config = EmulatorConfig(renderer=fake_render, api_key=KEY, credits=300)
    async with inprocess(config) as (client, emulator):
        settings = client.settings
        record = await client.wait_for_task(await client.create_task(body()))
        await client.download_result(record, tmp_path / "clip.mp4")
        await client.upload_file(b"\x89PNG", upload_path="refs", file_name="a.png")
        emulator.faults.force("http_error", times=2, code=500)
        emulator.faults.force("drop_download")
        await client.download_result(record, tmp_path / "again.mp4")
        await client.get_credits()
        for failing in (
            lambda: client.create_task(body(duration="99")),  # 422
            lambda: client.create_task(body()),  # 402
            lambda: client.get_task("missing"),  # 404
            lambda: client.download("http://emulator.invalid/files/results/x.mp4", tmp_path / "x"),
        ):
            with pytest.raises(KieError) as caught:
                await failing()
            errors.append(caught.value)
        emulator.faults.force("drop_create")
        with pytest.raises(KieError) as caught:
            await client.create_task(body(duration="3"))
        errors.append(caught.value)
        wrong = KieSettings.model_validate({**settings.model_dump(), "api_key": KEY + "-old"})
        async with KieClient(wrong, transport=httpx.MockTransport(_echo_key)) as other:
            with pytest.raises(KieError) as caught:
                await other.get_credits()
            errors.append(caught.value)
    with ServedEmulator(config) as served:
        served_settings = settings.model_copy(
            update={"base_url": served.base_url, "upload_base_url": served.base_url}
        )
        async with KieClient(served_settings) as real:
            await real.get_credits()
            with pytest.raises(KieError) as caught:
                await real.get_task("missing")
            errors.append(caught.value)
    assert len(errors) == 7
    for error in errors:
        assert not leaks(describe(error)), describe(error)
    for text in (repr(settings), str(settings), settings.model_dump_json(), repr(client)):
        assert not leaks(text), text
    assert caplog.records and not any(leaks(r.getMessage()) for r in caplog.records)
    assert not leaks(caplog.text)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def _echo_key(request: httpx.Request) -> httpx.Response:
    """A hostile server that puts the key it received into its error message."""
    key = request.headers["authorization"].removeprefix("Bearer ")
    return httpx.Response(200, json={"code": 401, "msg": f"key {key} is revoked"})


def test_settings_from_env_mask_the_key() -> None:
    settings = KieSettings.from_env({"KIE_API_KEY": KEY, "KIE_WEBHOOK_HMAC_KEY": "whk"})
    assert settings.api_key is not None and settings.api_key.get_secret_value() == KEY
    assert not leaks(repr(settings)) and "whk" not in repr(settings)
    assert not leaks(str(settings.model_dump()))
