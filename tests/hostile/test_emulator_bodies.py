"""``storyboard emulator serve`` under hostile request bodies: oversized bodies get a 413
envelope before they are read, oversized prompts a 422 before any rendering, malformed
JSON a 422, and the server keeps answering its stats meanwhile."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from storyboard.providers.emulator import EmulatorConfig, ServedEmulator
from tests.emulator_server import served_cli, stats

AUTH = {"Authorization": "Bearer emulator-key"}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The CLI's server in its own process on a free loopback port, stopped by its pid."""
    with served_cli() as url:
        yield url


def create(url: str, prompt: str, **extra: Any) -> httpx.Response:
    body = {"model": "kling-3.0/video", "input": {"prompt": prompt, "duration": "3", **extra}}
    return httpx.post(f"{url}/api/v1/jobs/createTask", json=body, headers=AUTH, timeout=30)


def test_a_1_2_mb_prompt_is_refused_with_a_413_envelope(base_url: str) -> None:
    before = stats(base_url)
    response = create(base_url, "x" * 1_200_000)
    assert response.status_code == 413
    answer = response.json()
    assert answer["code"] == 413 and answer["data"] is None
    assert "Request body too large" in answer["msg"] and "1048576" in answer["msg"]
    after = stats(base_url)
    assert after["tasks_created"] == 0 and after["renders"] == before["renders"]
    assert after["rejected_requests"]["413"] == before["rejected_requests"].get("413", 0) + 1


def test_a_long_prompt_under_the_body_limit_is_refused_before_rendering(base_url: str) -> None:
    before = stats(base_url)
    response = create(base_url, "x" * 900_000)
    shot = create(
        base_url,
        "",
        multi_shots=True,
        sound=True,
        multi_prompt=[{"prompt": "y" * 900_000, "duration": 3}],
    )
    after = stats(base_url)
    assert response.status_code == 200  # the live way: HTTP 200, the code in the body
    assert response.json()["code"] == 422
    assert response.json()["msg"] == "prompt is 900000 characters; the limit is 2500"
    assert shot.json()["code"] == 422 and "too long" in shot.json()["msg"]
    assert after["renders"] == before["renders"] and after["tasks_created"] == 0


def test_a_body_without_content_length_is_cut_at_the_limit(base_url: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model": "kling-3.0/video", "input": {"prompt": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}}'

    response = httpx.post(
        f"{base_url}/api/v1/jobs/createTask",
        content=chunks(),
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=30,
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413 and response.json()["code"] == 413


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 100_000 + b"]" * 100_000,  # nesting deeper than the JSON parser recurses
        b'{"model": "kling-3.0/video", "input": ',  # truncated
        b"\xff\xfe not json",
    ],
)
def test_malformed_json_is_a_422_envelope(base_url: str, payload: bytes) -> None:
    response = httpx.post(
        f"{base_url}/api/v1/jobs/createTask",
        content=payload,
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200 and response.json()["code"] == 422


def test_the_server_stays_responsive_under_a_flood_of_large_bodies(base_url: str) -> None:
    stop = threading.Event()
    sent = [0]

    def flood() -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                for prompt in ("x" * 1_200_000, "y" * 1_000_000):
                    body = json.dumps({"model": "kling-3.0/video", "input": {"prompt": prompt}})
                    client.post(f"{base_url}/api/v1/jobs/createTask", content=body, headers=AUTH)
                    sent[0] += 1

    workers = [threading.Thread(target=flood) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        refused = []  # the 413s the server had answered at each stats call
        while len(refused) < 10 or (len(set(refused)) < 2 and all(w.is_alive() for w in workers)):
            refused.append(stats(base_url)["rejected_requests"].get("413", 0))
            time.sleep(0.05)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    # before the limits, one 1.2 MB prompt pinned the server and stats stopped answering;
    # here every stats call answers while the flood goes on: the server's count of refused
    # bodies moves between them (no timing: the counters show the interleaving)
    assert len(set(refused)) > 1, (sent[0], refused)
    assert stats(base_url)["tasks_created"] == 0


def test_upload_bodies_have_their_own_limit() -> None:
    config = EmulatorConfig(max_upload_bytes=64 * 1024)
    with ServedEmulator(config) as served:
        small = httpx.post(
            f"{served.base_url}/api/file-stream-upload",
            headers=AUTH,
            data={"uploadPath": "p"},
            files={"file": ("a.png", b"x" * 1000)},
        )
        large = httpx.post(
            f"{served.base_url}/api/file-stream-upload",
            headers=AUTH,
            data={"uploadPath": "p"},
            files={"file": ("a.png", b"x" * 100_000)},
        )
    assert small.json()["code"] == 200
    assert large.status_code == 413 and large.json() == {
        "success": False,
        "code": 413,
        "data": None,
        "msg": large.json()["msg"],
    }
    assert "the limit is 65536 bytes" in large.json()["msg"]
