"""Every environment variable storyboard reads, parsed in one place (pydantic-settings).

:class:`Settings` only parses: a variable that is unset (or empty) is ``None`` and the
component that uses it keeps its own default (:class:`~storyboard.providers.kie.KieSettings`
for the ``KIE_*`` ones). A bad value raises :class:`SettingsError` naming the variable;
the values of secret variables never appear in a message. docs/kie.md lists them all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from storyboard.errors import InputError

__all__ = ["SECRET_VARIABLES", "Settings", "SettingsError"]

SECRET_VARIABLES = frozenset({"KIE_API_KEY", "KIE_WEBHOOK_HMAC_KEY"})
"""Variables whose values are never echoed (they are :class:`~pydantic.SecretStr`)."""


class SettingsError(ValueError, InputError):
    """An environment variable has a value that cannot be used; the message names it."""


_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("storyboard_environ", default=None)
"""The mapping :meth:`Settings.from_env` reads instead of ``os.environ`` (tests, callers)."""


def _var(name: str, description: str) -> Any:
    return Field(None, alias=name, description=description)


class Settings(BaseSettings):
    """The environment, typed. Field names are the variables' names in lower case."""

    model_config = SettingsConfigDict(
        case_sensitive=True, env_ignore_empty=True, extra="ignore", frozen=True
    )

    kie_api_key: SecretStr | None = _var("KIE_API_KEY", "kie.ai API key; set: the kie backend.")
    kie_base_url: str | None = _var("KIE_BASE_URL", "API host.")
    kie_upload_base_url: str | None = _var("KIE_UPLOAD_BASE_URL", "File upload host.")
    kie_webhook_hmac_key: SecretStr | None = _var(
        "KIE_WEBHOOK_HMAC_KEY", "Key that signs completion callbacks."
    )
    kie_connect_timeout: float | None = _var("KIE_CONNECT_TIMEOUT", "Seconds to connect.")
    kie_timeout: float | None = _var("KIE_TIMEOUT", "Seconds to read, write or wait for a pool.")
    kie_download_max_bytes: int | None = _var(
        "KIE_DOWNLOAD_MAX_BYTES", "Largest result file downloaded (bytes)."
    )
    kie_download_attempts: int | None = _var("KIE_DOWNLOAD_ATTEMPTS", "Tries per download.")
    kie_max_attempts: int | None = _var("KIE_MAX_ATTEMPTS", "Tries per API call.")
    kie_retry_base_delay: float | None = _var("KIE_RETRY_BASE_DELAY", "Backoff base (s).")
    kie_retry_max_delay: float | None = _var("KIE_RETRY_MAX_DELAY", "Backoff cap (s).")
    kie_poll_initial: float | None = _var("KIE_POLL_INITIAL", "First poll wait (s).")
    kie_poll_factor: float | None = _var("KIE_POLL_FACTOR", "Poll wait growth factor.")
    kie_poll_max_interval: float | None = _var("KIE_POLL_MAX_INTERVAL", "Longest poll wait (s).")
    kie_poll_timeout: float | None = _var("KIE_POLL_TIMEOUT", "Give up waiting after (s).")
    kie_poll_not_visible_timeout: float | None = _var(
        "KIE_POLL_NOT_VISIBLE_TIMEOUT", "How long a new task may be invisible (s)."
    )
    storyboard_confirm_above: float = Field(
        100.0,
        ge=0,
        alias="STORYBOARD_CONFIRM_ABOVE",
        description="Ask before spending more credits than this on kie.ai.",
    )
    storyboard_recipe_path: str | None = _var(
        "STORYBOARD_RECIPE_PATH", "Folders with more recipes (os.pathsep-separated)."
    )
    storyboard_debug: str | None = _var("STORYBOARD_DEBUG", "Set (to anything): show tracebacks.")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings of ``env`` (the process environment by default)."""
        token = _ENVIRON.set(env)
        try:
            return cls()
        except ValidationError as exc:
            raise SettingsError(describe_errors(exc)) from None
        finally:
            _ENVIRON.reset(token)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment only (no .env or secrets files), or the mapping given to
        :meth:`from_env`."""
        environ = _ENVIRON.get()
        if environ is not None and isinstance(env_settings, EnvSettingsSource):
            env_settings.env_vars = {name: value for name, value in environ.items() if value}
        return (init_settings, env_settings)

    @property
    def debug(self) -> bool:
        """``STORYBOARD_DEBUG`` is set (to anything): show tracebacks."""
        return self.storyboard_debug is not None

    @property
    def recipe_path(self) -> list[Path]:
        """The folders of ``STORYBOARD_RECIPE_PATH``, in order (empty entries skipped)."""
        return [Path(p) for p in (self.storyboard_recipe_path or "").split(os.pathsep) if p]

    def values(self) -> dict[str, Any]:
        """The variables that are set, by name (secrets stay :class:`SecretStr`)."""
        return self.model_dump(by_alias=True, exclude_none=True)


def describe_errors(exc: ValidationError, names: Mapping[str, str] | None = None) -> str:
    """One line per bad value: ``environment variable KIE_TIMEOUT: Input should be ...``.

    ``names`` maps an error location (dotted) to the variable it came from; without it
    every location is a variable. Secret values are never shown.
    """
    lines = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        name = where if names is None else names.get(where)
        label = f"environment variable {name}" if name else f"setting {where}"
        secret = name in SECRET_VARIABLES or "key" in where
        shown = repr(error["input"])
        suffix = "" if secret or shown in error["msg"] else f" (got {shown})"
        lines.append(f"{label}: {error['msg']}{suffix}")
    return "; ".join(lines)
