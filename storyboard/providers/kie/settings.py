"""Client settings, from code or from ``KIE_*`` environment variables.

The variables are parsed by :class:`storyboard.settings.Settings`; this module maps them
onto the client's fields and keeps the defaults. The API key is a
:class:`~pydantic.SecretStr`: its repr, str and JSON dump are masked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from storyboard.providers.kie.polling import PollPolicy
from storyboard.providers.kie.retry import RetryPolicy
from storyboard.settings import Settings, SettingsError, describe_errors

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_UPLOAD_BASE_URL", "ENV_VARS", "KieSettings"]

DEFAULT_BASE_URL = "https://api.kie.ai"
DEFAULT_UPLOAD_BASE_URL = "https://kieai.redpandaai.co"

ENV_VARS: dict[str, str] = {
    "KIE_API_KEY": "api_key",
    "KIE_BASE_URL": "base_url",
    "KIE_UPLOAD_BASE_URL": "upload_base_url",
    "KIE_WEBHOOK_HMAC_KEY": "webhook_hmac_key",
    "KIE_CONNECT_TIMEOUT": "connect_timeout",
    "KIE_TIMEOUT": "timeout",
    "KIE_DOWNLOAD_MAX_BYTES": "download_max_bytes",
    "KIE_DOWNLOAD_ATTEMPTS": "download_attempts",
    "KIE_MAX_ATTEMPTS": "retry.max_attempts",
    "KIE_RETRY_BASE_DELAY": "retry.base_delay",
    "KIE_RETRY_MAX_DELAY": "retry.max_delay",
    "KIE_POLL_INITIAL": "poll.initial",
    "KIE_POLL_FACTOR": "poll.factor",
    "KIE_POLL_MAX_INTERVAL": "poll.max_interval",
    "KIE_POLL_TIMEOUT": "poll.timeout",
    "KIE_POLL_NOT_VISIBLE_TIMEOUT": "poll.not_visible_timeout",
}
"""Environment variable → settings field (dotted for the nested policies)."""


class KieSettings(BaseModel):
    """Where kie.ai is, who we are, and how patient the client is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: SecretStr | None = Field(None, description="kie.ai API key (KIE_API_KEY).")
    base_url: str = Field(DEFAULT_BASE_URL, description="API host (KIE_BASE_URL).")
    upload_base_url: str = Field(
        DEFAULT_UPLOAD_BASE_URL, description="File upload host (KIE_UPLOAD_BASE_URL)."
    )
    webhook_hmac_key: SecretStr | None = Field(
        None, description="Key that signs completion callbacks (KIE_WEBHOOK_HMAC_KEY)."
    )
    connect_timeout: float = Field(10.0, gt=0, description="Seconds to open a connection.")
    timeout: float = Field(60.0, gt=0, description="Seconds to read, write or wait for a pool.")
    download_max_bytes: int = Field(
        1024**3, gt=0, description="Largest result file the client downloads (bytes)."
    )
    download_attempts: int = Field(4, ge=1, description="Tries per download, resumes included.")
    retry: RetryPolicy = Field(default_factory=RetryPolicy, description="Retry policy.")
    poll: PollPolicy = Field(default_factory=PollPolicy, description="recordInfo polling.")

    @field_validator("base_url", "upload_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> KieSettings:
        """Settings from ``KIE_*`` variables (see :data:`ENV_VARS`); ``overrides`` win.

        A bad value raises :class:`~storyboard.settings.SettingsError` naming the variable.
        """
        variables = Settings.from_env(env).values()
        values: dict[str, Any] = {}
        for var, field in ENV_VARS.items():
            if var in variables:
                _set_dotted(values, field, variables[var])
        for field, value in overrides.items():
            _set_dotted(values, field, value)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            names = {
                field: var
                for var, field in ENV_VARS.items()
                if var in variables and field not in overrides
            }
            raise SettingsError(describe_errors(exc, names)) from None

    def is_authorized_host(self, url: str) -> bool:
        """True when ``url`` is on the API or the upload host: only these get the key."""
        origin = _origin(url)
        return origin in {_origin(self.base_url), _origin(self.upload_base_url)}


def _set_dotted(values: dict[str, Any], field: str, value: Any) -> None:
    head, _, rest = field.partition(".")
    if rest:
        values.setdefault(head, {})[rest] = value
    else:
        values[head] = value


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default
