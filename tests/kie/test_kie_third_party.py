"""A third-party kie.ai client, pointed at ``storyboard emulator serve`` by base URL alone.

``MinimalClient`` is written the way public kie.ai clients are (a ComfyUI node pack's
client module, a YAML-to-video tool's client, an MCP server): plain httpx, live-style
minimal bodies, no use of storyboard's own client. It must complete single-shot,
multi-shot and element tasks, poll, parse resultJson, download, upload and read credits
with no 422 the live service would not give — and still get the live 422s for what the
live service refuses.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulator_server import served_cli

REFS = Path(__file__).resolve().parents[2] / "examples" / "refs"


class MinimalClient:
    """The kie.ai calls a typical public client makes, and how it reads the answers."""

    def __init__(self, base_url: str, api_key: str = "emulator-key") -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.auth = {"Authorization": f"Bearer {api_key}"}

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.http.request(method, path, headers=self.auth, **kwargs)
        answer: dict[str, Any] = response.json()
        return answer

    def create(self, input_: dict[str, Any]) -> str:
        answer = self.call(
            "POST", "/api/v1/jobs/createTask", json={"model": "kling-3.0/video", "input": input_}
        )
        if answer["code"] != 200:
            raise RuntimeError(f"createTask {answer['code']}: {answer['msg']}")
        task_id: str = answer["data"]["taskId"]
        return task_id

    def wait(self, task_id: str, limit: float = 300.0) -> dict[str, Any]:
        """Poll until success (public clients treat 422 recordInfo is null / data: null
        right after createTask as "not visible yet")."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            answer = self.call("GET", "/api/v1/jobs/recordInfo", params={"taskId": task_id})
            not_visible = answer["code"] == 422 and answer["msg"] == "recordInfo is null"
            if not not_visible and answer["code"] != 200:
                raise RuntimeError(f"recordInfo {answer['code']}: {answer['msg']}")
            record = answer.get("data")
            if record and record["state"] == "success":
                return dict(record)
            if record and record["state"] == "fail":
                raise RuntimeError(f"failed: {record['failMsg']}")
            time.sleep(0.2)
        raise TimeoutError(task_id)

    def download_result(self, record: dict[str, Any], dest: Path) -> Path:
        url = json.loads(record["resultJson"])["resultUrls"][0]
        dest.write_bytes(httpx.get(url, timeout=30).raise_for_status().content)  # no key
        return dest

    def upload_stream(self, path: Path, upload_path: str, file_name: str | None = None) -> str:
        form = {"uploadPath": upload_path, **({"fileName": file_name} if file_name else {})}
        files = {"file": (path.name, path.read_bytes(), "image/png")}
        answer = self.call("POST", "/api/file-stream-upload", data=form, files=files)
        assert answer["success"] is True and answer["code"] == 200, answer
        url: str = answer["data"]["downloadUrl"]
        return url

    def upload_base64(self, path: Path, upload_path: str) -> str:
        data = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
        answer = self.call(
            "POST", "/api/file-base64-upload", json={"base64Data": data, "uploadPath": upload_path}
        )
        assert answer["code"] == 200, answer
        url: str = answer["data"]["downloadUrl"]
        return url

    def credits(self) -> float:
        answer = self.call("GET", "/api/v1/chat/credit")
        assert answer["code"] == 200 and isinstance(answer["data"], int | float), answer
        return float(answer["data"])


@pytest.fixture(scope="module")
def served() -> Any:
    with served_cli("--record-null-polls", "2", "--credits", "100000") as base_url:
        yield base_url


@pytest.fixture
def client(served: str) -> Any:
    minimal = MinimalClient(served)
    yield minimal
    minimal.close()


def test_single_multi_and_element_tasks_complete(client: MinimalClient, tmp_path: Path) -> None:
    before = client.credits()
    dog = client.upload_stream(REFS / "dog-1.png", "images/test-uploads")  # no fileName
    room = client.upload_base64(REFS / "room.png", "images/test-uploads")
    single = client.create(
        {
            "prompt": "a golden retriever on a beach",
            "duration": "3",
            "aspect_ratio": "1:1",
            "negative_prompt": "blurry",
            "cfg_scale": 0.5,
        }
    )
    multi = client.create(
        {
            "multi_shots": True,
            "sound": True,
            "duration": "4",
            "mode": "std",
            "aspect_ratio": "1:1",
            "multi_prompt": [
                {"prompt": "a harbour at dawn", "duration": 2},
                {"prompt": "boats leave", "duration": 2},
            ],
        }
    )
    elements = client.create(
        {
            "prompt": "In the room [dog] sleeps on the rug",
            "image_urls": [room],
            "duration": "3",
            "aspect_ratio": "1:1",
            "mode": "4K",
            "sound": False,
            "multi_shots": False,
            "kling_elements": [
                {
                    "name": "dog",
                    "description": "A golden retriever",
                    "element_input_urls": [dog, dog],
                }
            ],
        }
    )
    for name, task_id in {"single": single, "multi": multi, "elements": elements}.items():
        record = client.wait(task_id)
        assert record["failCode"] is None and isinstance(record["costTime"], int)
        clip = client.download_result(record, tmp_path / f"{name}.mp4")
        assert clip.read_bytes()[4:8] == b"ftyp", name
        assert isinstance(record["creditsConsumed"], float)
    assert client.credits() < before


def test_uploads_with_and_without_file_name_never_overwrite(
    client: MinimalClient, tmp_path: Path
) -> None:
    first, second = tmp_path / "first" / "ref.png", tmp_path / "second" / "ref.png"
    for path, source in ((first, "dog-1.png"), (second, "dog-2.png")):
        path.parent.mkdir()
        path.write_bytes((REFS / source).read_bytes())
    unnamed = [client.upload_stream(p, "refs") for p in (first, second)]
    named = client.upload_stream(first, "refs", file_name="mine.png")
    assert unnamed[0] != unnamed[1] and named.endswith("/refs/mine.png")
    assert [httpx.get(u).content for u in unnamed] == [first.read_bytes(), second.read_bytes()]


@pytest.mark.parametrize(
    ("input_", "message"),
    [
        (
            {
                "kling_elements": [
                    {"name": "dog", "description": "d", "element_input_urls": ["a.png"]}
                ]
            },
            "an element takes 2-4 reference images, got 1",
        ),
        (
            {
                "multi_shots": True,
                "sound": True,
                "multi_prompt": [{"prompt": "p" * 501, "duration": 3}],
            },
            "shot prompt is 501 characters; the limit is 500",
        ),
        (
            {"multi_shots": True, "multi_prompt": [{"prompt": "p", "duration": 3}]},
            "multi-shot requires sound",
        ),
        (
            {
                "kling_elements": [
                    {
                        "name": "dog",
                        "description": "d" * 101,
                        "element_input_urls": ["a.png", "a.png"],
                    }
                ]
            },
            "element description is 101 characters; the limit is 100",
        ),
    ],
)
def test_what_the_live_service_refuses_is_refused(
    client: MinimalClient, input_: dict[str, Any], message: str
) -> None:
    answer = client.call(
        "POST",
        "/api/v1/jobs/createTask",
        json={
            "model": "kling-3.0/video",
            "input": {"prompt": "[dog] runs", "duration": "3", **input_},
        },
    )
    assert (answer["code"], answer["data"]) == (422, None)
    assert message in answer["msg"]
