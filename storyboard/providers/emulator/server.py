"""The emulator as a real HTTP server (uvicorn), in the foreground or a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

import uvicorn

from storyboard.providers.emulator.app import create_app
from storyboard.providers.emulator.config import EmulatorConfig
from storyboard.providers.emulator.engine import Emulator

__all__ = ["ServedEmulator", "bind", "serve"]


def bind(host: str = "127.0.0.1", port: int = 0) -> tuple[socket.socket, str]:
    """A listening-ready socket on ``host:port`` (0 = a free port) and its base URL."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    return sock, f"http://{shown}:{bound}"


def _server(emulator: Emulator, log_level: str) -> uvicorn.Server:
    app = create_app(emulator=emulator)
    return uvicorn.Server(uvicorn.Config(app, log_level=log_level, lifespan="on"))


def serve(
    config: EmulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    log_level: str = "info",
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve the emulator until interrupted (blocking); ``announce`` gets the base URL."""
    config = config or EmulatorConfig()
    sock, base_url = bind(host, port)
    emulator = Emulator(config, base_url=config.public_base_url or base_url)
    if announce is not None:
        announce(base_url)
    _server(emulator, log_level).run(sockets=[sock])


class ServedEmulator:
    """``with ServedEmulator(config) as served:`` — uvicorn on a free loopback port.

    ``served.base_url`` is the URL for KIE_BASE_URL and KIE_UPLOAD_BASE_URL;
    ``served.emulator`` gives the counters.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
    ) -> None:
        self.config = config or EmulatorConfig()
        self.host, self.port, self.log_level = host, port, log_level
        self.base_url = ""
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        sock, self.base_url = bind(self.host, self.port)
        self.emulator = Emulator(self.config, base_url=self.config.public_base_url or self.base_url)
        self._server = _server(self.emulator, self.log_level)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True, name="kie-emulator"
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.01)
        self._socket = sock
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._socket.close()
