"""``storyboard emulator serve`` starts a real server and says how to point the client at it."""

from __future__ import annotations

import subprocess
import sys

import httpx


def test_serve_prints_the_base_url_and_serves() -> None:
    command = [sys.executable, "-c", "from storyboard.cli import main; main()"]
    command += ["emulator", "serve"]
    command += ["--port", "0", "--log-level", "warning", "--credits", "42"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        base_url = first.split(" at ", 1)[1].split(" ", 1)[0]
        lines = [server.stdout.readline().strip() for _ in range(3)]
        assert lines == [
            f"export KIE_BASE_URL={base_url}",
            f"export KIE_UPLOAD_BASE_URL={base_url}",
            "export KIE_API_KEY=emulator-key",
        ]
        assert base_url.startswith("http://127.0.0.1:")
        credit = _get(f"{base_url}/api/v1/chat/credit")
        assert credit == {"code": 200, "msg": "success", "data": 42}
    finally:
        server.terminate()
        server.wait(timeout=10)


def _get(url: str) -> object:
    for _ in range(100):
        try:
            response = httpx.get(url, headers={"Authorization": "Bearer emulator-key"})
            return response.json()
        except httpx.ConnectError:
            import time

            time.sleep(0.05)
    raise AssertionError(f"{url} never answered")
