"""``storyboard emulator serve`` starts a real server and says how to point the client at it."""

from __future__ import annotations

import httpx

from tests.emulator_server import start_cli


def test_serve_prints_the_base_url_and_serves() -> None:
    server = start_cli("--credits", "42")
    try:
        assert server.process.stdout is not None
        lines = [server.process.stdout.readline().strip() for _ in range(3)]
        assert lines == [
            f"export KIE_BASE_URL={server.base_url}",
            f"export KIE_UPLOAD_BASE_URL={server.base_url}",
            "export KIE_API_KEY=emulator-key",
        ]
        assert server.base_url.startswith("http://127.0.0.1:")
        credit = httpx.get(
            f"{server.base_url}/api/v1/chat/credit",
            headers={"Authorization": "Bearer emulator-key"},
        )
        assert credit.json() == {"code": 200, "msg": "success", "data": 42}
    finally:
        server.stop()
