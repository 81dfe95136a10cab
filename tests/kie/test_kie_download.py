"""Downloads: size cap, content type, dropped connections, expiry, no leftovers, no key."""

# ruff: noqa: ASYNC240 - tests may touch the disk from async code

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from storyboard.providers.emulator import (
    Emulator,
    EmulatorConfig,
    InProcessTransport,
    create_app,
    emulator_of,
    emulator_settings,
)
from storyboard.providers.kie import (
    DownloadTooLarge,
    KieClient,
    KieSettings,
    KieTransportError,
    ResultExpired,
    UnexpectedContentType,
)

from .kie_helpers import Clock, FakeTime, body, fake_render

pytestmark = pytest.mark.anyio


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests on and remembers them."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


@dataclass
class Emulated:
    """A client, its emulator, and the requests it sent."""

    client: KieClient
    emulator: Emulator
    recorder: Recorder

    async def finished_url(self) -> str:
        client = self.client
        return (await client.wait_for_task(await client.create_task(body()))).result_urls[0]

    async def close(self) -> None:
        await self.client.aclose()
        await self.emulator.aclose()


def emulated(config: EmulatorConfig) -> Emulated:
    app = create_app(config)
    recorder = Recorder(InProcessTransport(app))
    client = KieClient(emulator_settings(emulator_of(app)), transport=recorder)
    return Emulated(client, emulator_of(app), recorder)


async def test_dropped_download_resumes_with_range(tmp_path: Path) -> None:
    em = emulated(EmulatorConfig(renderer=fake_render))
    client, url = em.client, await em.finished_url()
    em.emulator.faults.force("drop_download")
    clip = await client.download(url, tmp_path / "clip.mp4")
    expected = (await client._http.get(url)).content
    await em.close()
    downloads = [r for r in em.recorder.requests if "/files/" in r.url.path]
    assert clip.read_bytes() == expected and len(expected) == 500_024
    assert "range" not in downloads[0].headers
    assert (
        downloads[1].headers["range"].startswith("bytes=")
        and downloads[1].headers["range"] != "bytes=0-"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


async def test_the_api_key_goes_only_to_the_api_hosts(tmp_path: Path) -> None:
    em = emulated(EmulatorConfig(renderer=fake_render))
    client, url = em.client, await em.finished_url()
    await client.download(url, tmp_path / "clip.mp4")
    await em.close()
    for request in em.recorder.requests:
        has_key = "authorization" in request.headers
        assert has_key == request.url.path.startswith("/api/"), request.url


async def test_download_gives_up_after_its_attempts_and_leaves_nothing(tmp_path: Path) -> None:
    em = emulated(EmulatorConfig(renderer=fake_render))
    client, url = em.client, await em.finished_url()
    em.emulator.faults.force("drop_download", times=10)
    with pytest.raises(KieTransportError, match="dropped after"):
        await client.download(url, tmp_path / "clip.mp4", task_id="t9", scene="s9")
    await em.close()
    assert list(tmp_path.iterdir()) == []


async def test_size_cap_from_content_length(tmp_path: Path) -> None:
    em = emulated(EmulatorConfig(renderer=fake_render))
    client, url = em.client, await em.finished_url()
    with pytest.raises(DownloadTooLarge, match="1000 bytes"):
        await client.download(url, tmp_path / "clip.mp4", max_bytes=1000)
    await em.close()
    assert list(tmp_path.iterdir()) == []


class Chunks(httpx.AsyncByteStream):
    """A body without Content-Length, optionally breaking after ``fail_after`` chunks."""

    def __init__(self, chunks: int, fail_after: int | None = None) -> None:
        self.chunks, self.fail_after = chunks, fail_after

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for index in range(self.chunks):
            if index == self.fail_after:
                raise httpx.ReadError("connection reset")
            yield bytes([index]) * 1000


def cdn(handler_answers: list[httpx.Response]) -> tuple[KieClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler_answers.pop(0)

    time = FakeTime()
    client = KieClient(
        KieSettings(api_key="k"), transport=httpx.MockTransport(handler), sleep=time.sleep
    )
    return client, seen


async def test_size_cap_while_streaming(tmp_path: Path) -> None:
    answer = httpx.Response(200, headers={"content-type": "video/mp4"}, stream=Chunks(50))
    client, _ = cdn([answer])
    async with client:
        with pytest.raises(DownloadTooLarge):
            await client.download("https://cdn.example/x.mp4", tmp_path / "x.mp4", max_bytes=9000)
    assert list(tmp_path.iterdir()) == []


async def test_drop_without_range_support_restarts_from_zero(tmp_path: Path) -> None:
    mp4 = {"content-type": "application/octet-stream"}
    answers = [
        httpx.Response(200, headers=mp4, stream=Chunks(5, fail_after=3)),
        httpx.Response(200, headers=mp4, stream=Chunks(5)),
    ]
    client, seen = cdn(answers)
    async with client:
        clip = await client.download("https://cdn.example/x.mp4", tmp_path / "x.mp4")
    assert clip.read_bytes() == b"".join(bytes([i]) * 1000 for i in range(5))
    assert "range" not in seen[1].headers and "authorization" not in seen[0].headers


async def test_wrong_content_type_is_refused(tmp_path: Path) -> None:
    client, _ = cdn([httpx.Response(200, text="<html>login</html>")])
    async with client:
        with pytest.raises(UnexpectedContentType, match="text/plain"):
            await client.download("https://cdn.example/x.mp4", tmp_path / "x.mp4", scene="s")
    assert list(tmp_path.iterdir()) == []


async def test_server_errors_on_the_file_host_are_retried(tmp_path: Path) -> None:
    answers = [
        httpx.Response(503),
        httpx.Response(200, headers={"content-type": "video/mp4"}, content=b"ok"),
    ]
    client, seen = cdn(answers)
    async with client:
        await client.download("https://cdn.example/x.mp4", tmp_path / "x.mp4")
    assert len(seen) == 2 and (tmp_path / "x.mp4").read_bytes() == b"ok"


async def test_expired_result_urls_are_a_clear_error(tmp_path: Path) -> None:
    clock = Clock()
    config = EmulatorConfig(renderer=fake_render, clock=clock, result_ttl=3600)
    em = emulated(config)
    client, url = em.client, await em.finished_url()
    link = await client.get_download_url(url)
    clock.advance(20 * 60 + 1)  # the download-url link is gone, the result URL is not
    with pytest.raises(ResultExpired, match="HTTP 404"):
        await client.download(link, tmp_path / "a.mp4")
    await client.download(url, tmp_path / "b.mp4")
    clock.advance(3600)
    with pytest.raises(ResultExpired, match="expired") as caught:
        await client.download(url, tmp_path / "c.mp4", task_id="t1", scene="s1")
    await em.close()
    assert caught.value.status == 404 and caught.value.task_id == "t1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.mp4"]
