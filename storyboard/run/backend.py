"""Which service a run talks to: the in-process emulator (offline, free) or kie.ai.

Both go through the same :class:`~storyboard.providers.kie.KieClient`; only the transport
and the settings differ. The namespace separates their results in the state store, so
an offline animatic is never mistaken for a paid clip. The offline backend also names its
renderer and version (``animatic 1``): part of its content keys, so a new animatic
renderer draws the clips again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from storyboard.errors import InputError
from storyboard.providers.kie import DEFAULT_BASE_URL, KieClient, KieSettings, PollPolicy
from storyboard.providers.kie.retry import Sleep
from storyboard.settings import Settings

__all__ = ["Backend", "BackendName", "BackendUnavailable", "choose_backend"]

BackendName = Literal["offline", "kie"]
ClientFactory = Callable[[], AbstractAsyncContextManager[KieClient]]


class BackendUnavailable(InputError):
    """The requested backend cannot be used (e.g. ``kie`` without an API key)."""


@dataclass(frozen=True)
class Backend:
    """A resolved backend: its name, store namespace, whether it bills real money."""

    name: BackendName
    namespace: str
    billed: bool
    settings: KieSettings | None = None
    factory: ClientFactory | None = None
    """Supplies the client instead (tests, batches sharing one emulator)."""
    renderer: str | None = None
    """The local renderer and its version, in every content key (offline); None for a
    service, whose keys must not change with this package (its clips are paid for)."""

    @property
    def description(self) -> str:
        if self.name == "offline":
            return "offline animatic (in-process kie.ai emulator; free)"
        assert self.settings is not None
        where = (
            "kie.ai" if self.billed else f"a kie.ai-compatible service at {self.settings.base_url}"
        )
        return f"{where} (Kling 3.0{'; billed' if self.billed else ''})"

    @property
    def persistent(self) -> bool:
        """True when uploads and tasks outlive this process (not the in-process emulator)."""
        return self.settings is not None or self.factory is not None

    @property
    def poll(self) -> PollPolicy:
        if self.settings is not None:
            return self.settings.poll
        from storyboard.providers.emulator.inprocess import FAST_POLL

        return FAST_POLL

    @asynccontextmanager
    async def client(self, *, sleep: Sleep | None = None) -> AsyncIterator[KieClient]:
        """A connected client (and, offline, its emulator), closed afterwards.

        ``sleep`` is the client's wait (between retries and between polls; the client
        counts its retries in ``client.retries``); a ``factory``'s client keeps its own.
        """
        if self.factory is not None:
            async with self.factory() as client:
                yield client
            return
        if self.settings is not None:
            async with KieClient(self.settings, sleep=sleep) as client:
                yield client
            return
        from storyboard.providers.emulator import EmulatorConfig, inprocess

        async with inprocess(EmulatorConfig(credits=10**9), sleep=sleep) as (client, _):
            yield client


def choose_backend(requested: BackendName | None, env: Mapping[str, str] | None = None) -> Backend:
    """``requested``, or by default: kie.ai when ``KIE_API_KEY`` is set, else offline
    (``env``: the variables to read instead of the process environment)."""
    has_key = Settings.from_env(env).kie_api_key is not None
    name: BackendName = requested or ("kie" if has_key else "offline")
    if name == "offline":
        from storyboard.providers.animatic import ANIMATIC_VERSION

        return Backend("offline", "offline", billed=False, renderer=f"animatic {ANIMATIC_VERSION}")
    if not has_key:
        raise BackendUnavailable(
            "the kie backend needs an API key: set KIE_API_KEY (get one at https://kie.ai/api-key)"
            ", or use --backend offline for a free animatic"
        )
    settings = KieSettings.from_env(env)
    billed = settings.base_url == DEFAULT_BASE_URL
    return Backend("kie", f"kie:{settings.base_url}", billed=billed, settings=settings)
